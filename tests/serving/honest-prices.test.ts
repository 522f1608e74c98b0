/**
 * Honest prices at serving time: the noRaiseBeforeFestival guardrail (agents/guardrails.ts)
 * on hand-worked cases, the days to a marked festival and the served reference price
 * (serving/reference-price.ts), and the endpoint returning both with a price.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyGuardrails, guardrailsSchema } from '../../agents/guardrails.js';
import type { TimeLimit } from '../../env/env.js';
import { openApiDocument } from '../../serving/openapi.js';
import { daysToMarkedFestival, servedReferencePrice } from '../../serving/reference-price.js';
import { priceResponseSchema } from '../../serving/request-schemas.js';
import { policyServingSchema } from '../../serving/serving-config.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { postJson, startEndpoint } from '../fixtures/serving.js';

describe('the noRaiseBeforeFestival guardrail', () => {
  const ladder = [10, 12, 14, 16];
  const rules = guardrailsSchema.parse({ noRaiseBeforeFestival: { days: 7 } });

  it('holds the price at the last one within 7 days of a festival, and only then', () => {
    const inside = applyGuardrails(16, ladder, rules, { lastPrice: 12, unitCost: 5, daysToFestival: 3 });
    expect(inside.price).toBe(12);
    expect(inside.effects[1]).toMatchObject({ rule: 'no-raise-before-festival', status: 'adjusted', before: 16, after: 12 });
    expect(applyGuardrails(10, ladder, rules, { lastPrice: 12, unitCost: 5, daysToFestival: 3 }).price).toBe(10); // a cut is allowed
    for (const daysToFestival of [0, 8, undefined]) {
      const outside = applyGuardrails(16, ladder, rules, { lastPrice: 12, unitCost: 5, daysToFestival });
      expect(outside.price).toBe(16);
      expect(outside.effects[1]).toMatchObject({ rule: 'no-raise-before-festival', status: 'skipped' });
    }
  });

  it('gives way to min/max (higher precedence) and is listed only when set', () => {
    const bounded = applyGuardrails(16, ladder, { ...rules, minPrice: 14 }, { lastPrice: 12, unitCost: 5, daysToFestival: 2 });
    // Its interval [0, 12] misses min/max's [14, inf): it is left out, as every conflicting rule, and named a violation.
    expect(bounded.price).toBe(16);
    expect(bounded.effects[1]).toMatchObject({ rule: 'no-raise-before-festival', status: 'conflict' });
    expect(bounded.violations).toEqual(['no-raise-before-festival']);
    const without = applyGuardrails(16, ladder, {}, { lastPrice: 12, unitCost: 5, daysToFestival: 2 });
    expect(without.effects.map((effect) => effect.rule)).toEqual(['min-max', 'max-change', 'competitor-index', 'margin-floor', 'ladder']);
  });
});

describe('serving: days to a marked festival and the reference price', () => {
  const serving = policyServingSchema.parse({ festivals: [{ name: '6.18', start: '2026-06-18' }, { name: '11.11', start: '2026-11-11' }], referencePrice: { rule: 'eu-30-day' } });

  it('counts days to the next marked festival from the request date', () => {
    expect(daysToMarkedFestival(serving, '2026-11-01')).toBe(10);
    expect(daysToMarkedFestival(serving, '2026-11-11')).toBe(0);
    expect(daysToMarkedFestival(serving, '2026-06-19')).toBe(145);
    expect(daysToMarkedFestival(serving, '2026-12-01')).toBeUndefined();
    expect(daysToMarkedFestival(serving, undefined, new Date('2026-06-10T15:00:00Z'))).toBe(8);
    expect(daysToMarkedFestival(policyServingSchema.parse({}), '2026-11-01')).toBeUndefined();
  });

  it('serves the lowest price of the 30 days before (EU) or the lowest transaction price of the 7 days before (China)', () => {
    // 40 days: 20 at 19.99, 5 at 15.99 without sales, 15 at 21.99; priced today at 17.99.
    const history = [...Array(20).fill({ price: 19.99, units: 3 }), ...Array(5).fill({ price: 15.99, units: 0 }), ...Array(15).fill({ price: 21.99, units: 2 })] as { price: number; units: number }[];
    const eu = servedReferencePrice(serving, 17.99, history, 21.99);
    expect(eu).toMatchObject({ rule: 'eu-30-day', price: 15.99, basis: 'lowest-price', daysRead: 30, promotional: true });
    expect(eu?.discount).toBeLessThan(0); // 17.99 is above the honest "was": no discount may be claimed
    const china = servedReferencePrice(policyServingSchema.parse({ referencePrice: { rule: 'cn-7-day' } }), 17.99, history, 21.99);
    expect(china).toMatchObject({ rule: 'cn-7-day', price: 21.99, basis: 'lowest-transaction-price', daysRead: 7 });
    expect(china?.discount).toBeCloseTo(1 - 17.99 / 21.99, 12);
    expect(servedReferencePrice(serving, 17.99, undefined, undefined)).toMatchObject({ price: null, basis: 'none', discount: null, promotional: false });
    expect(servedReferencePrice(policyServingSchema.parse({}), 17.99, history, 21.99)).toBeUndefined();
  });

  it('documents the request history and date and the served reference in the OpenAPI document', () => {
    const schemas = (openApiDocument().components as { schemas: Record<string, { properties: Record<string, { description?: string }> }> }).schemas;
    expect(Object.keys(schemas.PriceRequest?.properties ?? {})).toEqual(expect.arrayContaining(['date', 'priceHistory']));
    expect(schemas.PriceResponse?.properties.referencePrice?.description).toMatch(/referencePrice rule/);
  });
});

describe('the endpoint', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'pricelab-honest-'));
  let folder = '';
  let env: TimeLimit;
  beforeAll(async () => {
    const trained = await trainedPolicyArtifact(scratch, { seed: 1, steps: 2000 });
    folder = trained.folder;
    env = trained.env;
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('holds the price before a marked festival and returns the compliant reference with it', async () => {
    const config = { policies: { everyday: { guardrails: { noRaiseBeforeFestival: { days: 14 } }, festivals: [{ name: '11.11', start: '2026-11-11' }], referencePrice: { rule: 'eu-30-day' } } } };
    const decisionLog = join(mkdtempSync(join(scratch, 'log-')), 'decisions.jsonl');
    const endpoint = await startEndpoint(mkdtempSync(join(scratch, 'home-')), config, { decisionLog });
    let closed = false;
    try {
      endpoint.registry.register(folder, { reason: 'v1' });
      endpoint.registry.moveAlias('everyday', 1, 'production', { reason: 'bootstrap' });
      await endpoint.service.refresh();
      const { observation } = env.reset({ seed: 3 });
      const space = env.observationSpace;
      const features = Object.fromEntries(space.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (space.scales[index] ?? 1)]));
      const lowest = env.model.ladder[0]!;
      const history = Array.from({ length: 35 }, (_, day) => ({ price: day === 20 ? lowest : env.model.ladder[2]! }));
      const before = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { features, lastPrice: lowest, date: '2026-11-01', priceHistory: history });
      expect(before.status).toBe(200);
      const held = priceResponseSchema.parse(before.json);
      expect(held.price).toBe(lowest);
      expect(held.guardrails.find((effect) => effect.rule === 'no-raise-before-festival')?.status).toMatch(/passed|adjusted/);
      expect(held.referencePrice).toMatchObject({ rule: 'eu-30-day', price: lowest, basis: 'lowest-price', daysRead: 30 });
      const after = priceResponseSchema.parse((await postJson(`${endpoint.url}/v1/policies/everyday/price`, { features, lastPrice: lowest, date: '2026-11-12', priceHistory: history })).json);
      expect(after.guardrails.find((effect) => effect.rule === 'no-raise-before-festival')).toMatchObject({ status: 'skipped', explanation: 'no festival date in the context' });
      await endpoint.close();
      closed = true;
      // The decision log keeps the reference served with each price.
      const lines = readFileSync(decisionLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { referencePrice?: unknown });
      expect(lines).toHaveLength(2);
      expect(lines[0]?.referencePrice).toEqual({ rule: 'eu-30-day', price: lowest, discount: held.referencePrice?.discount });
    } finally {
      if (!closed) await endpoint.close();
    }
  });
});

describe('in evaluation (GuardedPolicy reads daysToEvent)', () => {
  it('keeps a policy that raises before festivals from raising within the window, as serving does', async () => {
    const { makeEnv } = await import('../../env/env.js');
    const { loadScenario } = await import('../../scenarios/load.js');
    const { GuardedPolicy } = await import('../../agents/guarded-policy.js');
    const { evaluate } = await import('../../experiments/evaluate.js');
    const { FESTIVAL_LOOKAHEAD } = await import('../../env/observation.js');
    const env = makeEnv(loadScenario('singles-day-v1').scenario);
    const space = env.observationSpace;
    const daysIndex = space.featureNames.indexOf('daysToEvent');
    const top = env.model.ladder.length - 1;
    const daysTo = (observation: Float32Array) => Math.round((observation[daysIndex] ?? 1) * FESTIVAL_LOOKAHEAD);
    // Lowest price, except the top one 1-5 days before an event day: raise, then (the festival) whatever.
    const raiser = { act: (observation: Float32Array) => (daysTo(observation) >= 1 && daysTo(observation) <= 5 ? top : 0) };
    const risesBefore = (policy: { act: (observation: Float32Array, options: { explore: boolean }) => number }) => {
      const [episode] = evaluate(env, policy, { episodes: 1, seed: 1, recordSteps: true });
      const prices = episode!.steps.map((step) => step.price);
      const days = episode!.steps.map((step) => env.model.festivals.daysToNextEvent[step.day] ?? 365);
      return prices.filter((price, day) => day > 0 && days[day]! >= 1 && days[day]! <= 7 && price > prices[day - 1]! + 1e-9).length;
    };
    expect(risesBefore(raiser)).toBeGreaterThan(0);
    const guarded = new GuardedPolicy(raiser, { noRaiseBeforeFestival: { days: 7 } }, env.model.ladder, env.model.unitCost, space);
    expect(risesBefore(guarded)).toBe(0);
    expect(guarded.tally.byRule['no-raise-before-festival'].adjusted).toBeGreaterThan(0);
  });
});
