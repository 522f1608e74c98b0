import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allowedPrices, applyGuardrails, guardrailLadderProblems, guardrailRules, guardrailsSchema, type Guardrails, type PricingContext } from '../../agents/guardrails.js';
import { PricelabError } from '../../core/errors.js';

const ladder = [9.99, 12.99, 14.99, 17.99, 19.99, 24.99, 29.99];

/** Whether a price meets one rule, written from the rule's definition, independently of the code. */
function meets(price: number, rules: Guardrails, context: PricingContext): Record<string, boolean> {
  const competitors = (context.competitorPrices ?? []).filter((value) => value > 0);
  const mean = competitors.reduce((total, value) => total + value, 0) / Math.max(1, competitors.length);
  const eps = 1e-9;
  return {
    'min-max': (rules.minPrice === undefined || price >= rules.minPrice - eps) && (rules.maxPrice === undefined || price <= rules.maxPrice + eps),
    'max-change': rules.maxChange === undefined || context.lastPrice === undefined || Math.abs(price - context.lastPrice) <= rules.maxChange * context.lastPrice + eps,
    'competitor-index': !rules.competitorIndex || competitors.length === 0 || (price >= rules.competitorIndex.low * mean - eps && price <= rules.competitorIndex.high * mean + eps),
    'margin-floor': rules.marginFloor === undefined || (price - context.unitCost) / price >= rules.marginFloor - eps,
  };
}

const rulesArbitrary = fc
  .record(
    {
      minPrice: fc.double({ min: 5, max: 20, noNaN: true }),
      maxPrice: fc.double({ min: 15, max: 35, noNaN: true }),
      maxChange: fc.double({ min: 0.02, max: 0.5, noNaN: true }),
      competitorIndex: fc.tuple(fc.double({ min: 0.6, max: 1.1, noNaN: true }), fc.double({ min: 0, max: 0.6, noNaN: true })).map(([low, width]) => ({ low, high: low + width })),
      marginFloor: fc.double({ min: -0.2, max: 0.6, noNaN: true }),
      charmEnding: fc.constantFrom(0.99, 0.9, 0.5),
    },
    { requiredKeys: [] },
  )
  .filter((rules) => rules.minPrice === undefined || rules.maxPrice === undefined || rules.minPrice <= rules.maxPrice);

const contextArbitrary = fc.record({
  lastPrice: fc.option(fc.double({ min: 8, max: 32, noNaN: true }), { nil: undefined }),
  competitorPrices: fc.option(fc.array(fc.double({ min: 8, max: 32, noNaN: true }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  unitCost: fc.double({ min: 2, max: 15, noNaN: true }),
});

describe('guardrails', () => {
  it('a served price never breaks a rule when some allowed price meets them all', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), rulesArbitrary, contextArbitrary, (proposed, rules, context) => {
        const allowed = allowedPrices(ladder, rules);
        // Min/max holding no allowed price are refused (the next test).
        if (!allowed.some((price) => meets(price, rules, context)['min-max'])) return;
        const guarded = applyGuardrails(proposed, ladder, rules, context);
        expect(allowed).toContain(guarded.price);
        expect(guarded.ladderIndex).toBe(allowed.indexOf(guarded.price));
        const satisfiable = allowed.some((price) => Object.values(meets(price, rules, context)).every(Boolean));
        const served = meets(guarded.price, rules, context);
        if (satisfiable) {
          expect(guarded.violations).toEqual([]);
          expect(served).toEqual({ 'min-max': true, 'max-change': true, 'competitor-index': true, 'margin-floor': true });
        }
        // The declared violations are exactly the rules the price breaks.
        for (const [rule, ok] of Object.entries(served)) expect(guarded.violations.includes(rule as never)).toBe(!ok);
      }),
      { numRuns: 2000 },
    );
  });

  it('never leaves min/max and gives a rule up only for one of higher precedence, bounds between ladder prices included', () => {
    // Bounds, last and competitor prices drawn near ladder prices (on them, or a few cents off), so
    // that min/max, max change and the band often fall between ladder prices and rules collide.
    const nearLadder = fc.tuple(fc.constantFrom(...ladder), fc.double({ min: -1.5, max: 1.5, noNaN: true }), fc.boolean()).map(([price, offset, exact]) => (exact ? price : Math.max(0.5, price + offset)));
    const boundsBetween = fc
      .record(
        {
          minPrice: nearLadder,
          maxPrice: nearLadder,
          maxChange: fc.double({ min: 0.01, max: 0.3, noNaN: true }),
          competitorIndex: fc.tuple(fc.double({ min: 0.6, max: 1.2, noNaN: true }), fc.double({ min: 0, max: 0.4, noNaN: true })).map(([low, width]) => ({ low, high: low + width })),
          marginFloor: fc.double({ min: -0.2, max: 0.6, noNaN: true }),
          charmEnding: fc.constantFrom(0.99, 0.9, 0.5),
        },
        { requiredKeys: [] },
      )
      .filter((rules) => rules.minPrice === undefined || rules.maxPrice === undefined || rules.minPrice <= rules.maxPrice);
    const nearContext = fc.record({
      lastPrice: fc.option(nearLadder, { nil: undefined }),
      competitorPrices: fc.option(fc.array(nearLadder, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      unitCost: fc.double({ min: 2, max: 15, noNaN: true }),
    });
    const order = guardrailRules.filter((rule) => rule !== 'ladder');
    let refused = 0;
    let brokeARule = 0;
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.oneof(boundsBetween, rulesArbitrary), fc.oneof(nearContext, contextArbitrary), (proposed, rules, context) => {
        const allowed = allowedPrices(ladder, rules);
        const inBounds = (price: number) => meets(price, rules, context)['min-max'];
        if (!allowed.some(inBounds)) {
          // No allowed price within min/max: a config error naming the bound, never a price outside it.
          refused++;
          expect(guardrailLadderProblems(rules, ladder).map((problem) => problem.path.join('.'))).toEqual([rules.minPrice !== undefined ? 'minPrice' : 'maxPrice']);
          expect(() => applyGuardrails(proposed, ladder, rules, context)).toThrow(PricelabError);
          return;
        }
        expect(guardrailLadderProblems(rules, ladder)).toEqual([]);
        const guarded = applyGuardrails(proposed, ladder, rules, context);
        expect(inBounds(guarded.price)).toBe(true);
        if (guarded.violations.length > 0) brokeARule++;
        // Lexicographic precedence: no allowed price meets a strictly better prefix of the rules in order.
        const record = (price: number) => order.map((rule) => meets(price, rules, context)[rule]);
        const served = record(guarded.price);
        for (const other of allowed) {
          const candidate = record(other);
          const firstDifference = candidate.findIndex((met, index) => met !== served[index]);
          if (firstDifference >= 0) expect({ rule: order[firstDifference], price: other, servedMeetsIt: served[firstDifference] }).toEqual({ rule: order[firstDifference], price: other, servedMeetsIt: true });
        }
      }),
      { numRuns: 4000 },
    );
    // The draws reach both the refused and the conflicting cases, not only easy rule sets.
    expect(refused).toBeGreaterThan(10);
    expect(brokeARule).toBeGreaterThan(10);
  });

  it('known answer (issue 13.2): bounds between ladder prices keep min/max and max change, giving up only the band', async () => {
    const { makeEnv } = await import('../../env/env.js');
    const { loadScenario } = await import('../../scenarios/load.js');
    const model = makeEnv(loadScenario('steady-state-v1').scenario).model;
    const rules = guardrailsSchema.parse({ minPrice: 13.2, maxPrice: 24.99, maxChange: 0.1, marginFloor: 0.1, competitorIndex: { low: 0.8, high: 1.25 } });
    for (const proposed of [12.99, 13.99, 19.99]) {
      const guarded = applyGuardrails(proposed, model.ladder, rules, { lastPrice: 13.99, competitorPrices: [10.8], unitCost: model.unitCost });
      expect(guarded.price).toBe(13.99);
      expect(guarded.violations).toEqual(['competitor-index']);
      expect(guarded.effects.at(-1)?.status).toBe('conflict');
    }
  });

  it('refuses min/max that hold no allowed price, naming the bound', () => {
    const rules = { minPrice: 13.2, maxPrice: 13.5 };
    expect(guardrailLadderProblems(rules, ladder, ['guardrails'])).toEqual([{ path: ['guardrails', 'minPrice'], message: expect.stringMatching(/expected at least one allowed price .* within min\/max \[13\.2, 13\.5\], found none \(nearest: 12\.99 and 14\.99\)/) }]);
    expect(() => applyGuardrails(14, ladder, rules, { unitCost: 1 })).toThrow(/do not fit the price ladder[\s\S]*minPrice/);
    expect(guardrailLadderProblems({ minPrice: 13.2, maxPrice: 15 }, ladder)).toEqual([]);
  });

  it('evaluation refuses such guardrails when it binds them to the ladder, before any step', async () => {
    const { makeEnv } = await import('../../env/env.js');
    const { loadScenario } = await import('../../scenarios/load.js');
    const { agentFor } = await import('../../experiments/setup.js');
    const { GuardedPolicy } = await import('../../agents/guarded-policy.js');
    const env = makeEnv(loadScenario('steady-state-v1').scenario);
    const model = env.model;
    const agent = await agentFor(env, 'fixed-price', { price: model.ladder[3] ?? 0 }, 1);
    expect(() => new GuardedPolicy(agent, { minPrice: 13.2, maxPrice: 13.5 }, model.ladder, model.unitCost, env.observationSpace)).toThrow(/do not fit the price ladder[\s\S]*guardrails\.minPrice/);
  });

  it('reports every rule in the fixed order, with what it did', () => {
    const guarded = applyGuardrails(40, ladder, { maxPrice: 25, maxChange: 0.1, marginFloor: 0.2 }, { lastPrice: 20, unitCost: 10, competitorPrices: [18] });
    expect(guarded.effects.map((effect) => effect.rule)).toEqual(['min-max', 'max-change', 'competitor-index', 'margin-floor', 'ladder']);
    expect(guarded.effects.map((effect) => effect.status)).toEqual(['adjusted', 'adjusted', 'skipped', 'passed', 'adjusted']);
    // 40 -> 25 (max) -> 22 (10% above 20) -> 22 passes the margin floor (>= 12.5) -> nearest ladder price in [18, 22]: 19.99.
    expect(guarded.effects[0]?.after).toBe(25);
    expect(guarded.effects[1]?.after).toBeCloseTo(22, 12);
    expect(guarded.price).toBe(19.99);
    expect(guarded.violations).toEqual([]);
  });

  it('keeps the earlier rule when two rules conflict, and names the one it broke', () => {
    // Max change keeps the price within 10% of 10 (<= 11), the margin floor wants >= 12.5: a conflict.
    const guarded = applyGuardrails(9.99, ladder, { maxChange: 0.1, marginFloor: 0.2 }, { lastPrice: 10, unitCost: 10 });
    const floor = guarded.effects.find((effect) => effect.rule === 'margin-floor');
    expect(floor?.status).toBe('conflict');
    expect(guarded.price).toBe(9.99);
    expect(guarded.violations).toEqual(['margin-floor']);
  });

  it('applies the charm ending to the ladder last', () => {
    const guarded = applyGuardrails(20.4, [10, 20, 30], { charmEnding: 0.99 }, { unitCost: 5 });
    expect(guarded.price).toBe(19.99);
    expect(guarded.effects.at(-1)?.explanation).toContain('charm');
  });

  it('breaks ties between two allowed prices towards the lower one', () => {
    expect(applyGuardrails(15, [10, 20], {}, { unitCost: 1 }).price).toBe(10);
  });

  it('refuses a non-finite proposal, which serving must catch and fall back from', () => {
    expect(() => applyGuardrails(Number.NaN, ladder, {}, { unitCost: 1 })).toThrow(/finite/);
  });

  it('validates its configuration with every problem named', () => {
    const result = guardrailsSchema.safeParse({ minPrice: 30, maxPrice: 20, competitorIndex: { low: 1.2, high: 0.8 }, surprise: 1 });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.')) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['maxPrice', 'competitorIndex.high', '']));
  });
});

describe('guardrails inside evaluation', () => {
  it('a fixed price above the max plays as the max, and every decision is counted as adjusted', async () => {
    const { makeEnv } = await import('../../env/env.js');
    const { loadScenario } = await import('../../scenarios/load.js');
    const { agentFor } = await import('../../experiments/setup.js');
    const { evaluate } = await import('../../experiments/train.js');
    const { GuardedPolicy } = await import('../../agents/guarded-policy.js');
    const env = makeEnv(loadScenario('steady-state-v1').scenario);
    const model = env.model;
    const top = model.ladder[model.ladder.length - 1] ?? 0;
    const cap = model.ladder[model.ladder.length - 4] ?? 0;
    const high = await agentFor(env, 'fixed-price', { price: top }, 1);
    const atCap = await agentFor(env, 'fixed-price', { price: cap }, 1);
    const guarded = new GuardedPolicy(high, { maxPrice: cap }, model.ladder, model.unitCost, env.observationSpace);
    const capped = evaluate(env, guarded, { episodes: 2, seed: 40 });
    const direct = evaluate(env, atCap, { episodes: 2, seed: 40 });
    expect(capped.map((episode) => episode.totalReward)).toEqual(direct.map((episode) => episode.totalReward));
    expect(guarded.tally.decisions).toBe(2 * model.horizon);
    expect(guarded.tally.adjustments).toBe(guarded.tally.decisions);
    expect(guarded.tally.byRule['min-max'].adjusted).toBe(guarded.tally.decisions);
    expect(guarded.tally.violations).toBe(0);
  });
});
