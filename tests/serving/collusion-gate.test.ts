/**
 * The collusion gate (serving/collusion-gate.ts) on evidence measured by
 * experiments/collusion.ts in the calvano-duopoly-v1 multi-firm market: it refuses the
 * Calvano learners' converged policy (reward-punishment: above its best reply on the cycle,
 * a price cut after the rival's one-period cut, then back to the cycle) and passes
 * competitive ones (a fixed Nash price, a myopic best response). Sessions use the kernel
 * test's fast budget (beta = 2e-5: each converges in well under a second).
 */
import { describe, expect, it } from 'vitest';
import { impulseResponse, runCalvanoSession, type CalvanoSessionResult } from '../../agents/calvano.js';
import { buildCalvanoGame } from '../../agents/calvano-game.js';
import { buildMarketModel } from '../../env/model.js';
import { learnRival } from '../../experiments/collusion-rival.js';
import { agentStrategy, calvanoStrategies, fixedPriceStrategy, measureCollusion, myopicBestResponseStrategy, type CollusionEvidence } from '../../experiments/collusion.js';
import { loadCalvanoConfig } from '../../experiments/reproduce-calvano.js';
import { checkCollusionGate, collusionGateSchema } from '../../serving/collusion-gate.js';
import { checkPromotion, promotionPolicySchema } from '../../serving/promotion-gates.js';
import { loadScenario } from '../../scenarios/load.js';

const fast = loadCalvanoConfig({ beta: 2e-5, maxPeriods: 3_000_000 });
const model = buildMarketModel(loadScenario('calvano-duopoly-v1').scenario);
const settings = collusionGateSchema.parse({});
const asFile = (evidence: CollusionEvidence, source = 'collusion.json') => ({ source, json: JSON.parse(JSON.stringify(evidence)) as unknown });

/** The session's firm 0 as the candidate, facing its co-learner, from the session's limit cycle. */
function measureSession(session: CalvanoSessionResult): CollusionEvidence {
  const game = buildCalvanoGame(session.config);
  const start = session.cycleStates[0]!;
  const [candidate, rival] = calvanoStrategies(session);
  return measureCollusion({ model, candidate: candidate!, rivals: [rival!], startPrices: [0, 1].map((firm) => game.prices[game.jointActions[start * 2 + firm]!]!) });
}

describe('measured in the multi-firm market', () => {
  const session = runCalvanoSession(fast, 3);
  const evidence = measureSession(session);

  it("agrees with the kernel: the same profit gain on the limit cycle and the same impulse response to firm 1's cut", () => {
    expect(session.converged).toBe(true);
    expect(evidence.cycleFound).toBe(true);
    expect(evidence.cycle).toHaveLength(session.cycleStates.length);
    expect(evidence.profitGain.mean).toBeCloseTo(session.profitGain, 12);
    const kernel = impulseResponse(session, { deviatingFirm: 1, periods: 15 });
    expect(evidence.impulseResponse.deviationPrice).toBe(kernel.deviationPrice);
    expect(evidence.impulseResponse.prices).toEqual(kernel.prices[0]!.map((price, period) => [price, kernel.prices[1]![period]]));
    expect(evidence.impulseResponse.periodsToReturn).toBe(kernel.periodsToReturn);
  });

  it('finds the signature: above its best reply, a punishment after the cut, then the return', () => {
    expect(evidence.profitGain.mean).toBeGreaterThan(0.5);
    expect(evidence.excessOverBestReply).toBeGreaterThan(0);
    expect(evidence.impulseResponse.punished).toBe(true);
    expect(evidence.impulseResponse.returned).toBe(true);
    expect(evidence.signature).toBe(true);
  });
});

describe('the collusion gate', () => {
  const session = runCalvanoSession(fast, 3);
  const [, calvanoRival] = calvanoStrategies(session);
  const nashOnLadder = model.ladder[1]!; // 1.466, the grid price next to Nash (1.4729)

  it("refuses the Calvano learners' converged policy, with the evidence in its detail", () => {
    const result = checkCollusionGate(asFile(measureSession(session)), settings);
    expect(result).toMatchObject({ gate: 'collusion', passed: false, status: 'failed' });
    expect(result.detail).toMatch(/reward-punishment collusion: profit gain 0\.\d+/);
    expect(result.detail).toMatch(/fell from .* returned to the cycle in period \d+/);
  });

  it('passes a fixed Nash price and a myopic best response facing the same learned rival, and two myopic best responses', () => {
    const competitive = [
      measureCollusion({ model, candidate: fixedPriceStrategy(nashOnLadder), rivals: [calvanoRival!] }),
      measureCollusion({ model, candidate: myopicBestResponseStrategy(model, 0), rivals: [calvanoRival!] }),
      measureCollusion({ model, candidate: myopicBestResponseStrategy(model, 0), rivals: [myopicBestResponseStrategy(model, 1)] }),
    ];
    for (const evidence of competitive) {
      expect(evidence.signature).toBe(false);
      expect(evidence.excessOverBestReply).toBeLessThanOrEqual(1e-9);
      const result = checkCollusionGate(asFile(evidence), settings);
      expect(result.passed).toBe(true);
      expect(result.detail).toContain('no reward-punishment signature');
    }
    // Two myopic best responses settle at the Nash price on the ladder: a profit gain near 0.
    expect(Math.abs(competitive[2]!.profitGain.mean)).toBeLessThan(0.05);
  });

  it('refuses every converged session of eight that shows the signature, and most of them show it', () => {
    let refused = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const evidence = measureSession(runCalvanoSession(fast, seed));
      const result = checkCollusionGate(asFile(evidence), settings);
      expect(result.passed).toBe(!evidence.signature);
      if (!result.passed) refused++;
    }
    expect(refused).toBeGreaterThanOrEqual(4);
  });

  it('facing a rival that learns against it (Q-learning, experiments/collusion-rival.ts): refuses the Calvano policy, passes Nash and a myopic best response', () => {
    const [calvanoCandidate] = calvanoStrategies(session);
    const facing = (candidate: NonNullable<typeof calvanoCandidate>) => {
      const rival = learnRival(model, candidate, { seed: 1 });
      expect(rival.converged).toBe(true);
      return measureCollusion({ model, candidate, rivals: [rival.strategy] });
    };
    const calvano = facing(calvanoCandidate!);
    expect(calvano.signature).toBe(true);
    expect(checkCollusionGate(asFile(calvano), settings).passed).toBe(false);
    const nash = facing(fixedPriceStrategy(nashOnLadder));
    expect(nash.profitGain.mean).toBeLessThan(0.05);
    expect(checkCollusionGate(asFile(nash), settings).passed).toBe(true);
    // The learned rival leads a myopic follower to higher prices (a profit gain near 0.5), yet
    // the follower never prices above its best reply: no signature, and the gate passes it.
    const myopic = facing(myopicBestResponseStrategy(model, 0));
    expect(myopic.excessOverBestReply).toBeLessThanOrEqual(1e-9);
    expect(checkCollusionGate(asFile(myopic), settings).passed).toBe(true);
  });

  it('measures an agent through its observation (agentStrategy): a fixed-price agent is a fixed price', async () => {
    const { makeEnv } = await import('../../env/env.js');
    const { agentFor } = await import('../../experiments/setup.js');
    const env = makeEnv(loadScenario('calvano-duopoly-v1').scenario);
    const agent = await agentFor(env, 'fixed-price', { price: nashOnLadder }, 1);
    const candidate = agentStrategy('fixed-price agent', agent, env.observationSpace, model, env.reset({ seed: 1 }).observation);
    expect(candidate.price([1.9, 1.5])).toBe(nashOnLadder);
    const measured = measureCollusion({ model, candidate, rivals: [calvanoRival!] });
    expect(measured.cycle).toEqual(measureCollusion({ model, candidate: fixedPriceStrategy(nashOnLadder), rivals: [calvanoRival!] }).cycle);
    agent.dispose();
  });

  it('recomputes the verdicts: edited evidence, another version, or none is refused', () => {
    const evidence = measureSession(session);
    const edited = { ...evidence, signature: false, impulseResponse: { ...evidence.impulseResponse, punished: false } };
    expect(checkCollusionGate(asFile(edited), settings).detail).toMatch(/do not follow from its prices: punished false reported, true/);
    const hashed = measureCollusion({ model, candidate: fixedPriceStrategy(nashOnLadder), rivals: [calvanoRival!], policySha256: 'a'.repeat(64) });
    expect(checkCollusionGate(asFile(hashed), settings, 'b'.repeat(64))).toMatchObject({ passed: false, detail: expect.stringMatching(/not this version/) });
    expect(checkCollusionGate(asFile(hashed), settings, 'a'.repeat(64)).passed).toBe(true);
    expect(checkCollusionGate(undefined, settings).passed).toBe(false);
    // A policy with the signature but a profit gain under the bound passes.
    expect(checkCollusionGate(asFile(evidence), { minProfitGain: 0.99 }).passed).toBe(true);
  });

  it('runs in a promotion only when the gates set it, after the others (skipped when an earlier gate failed)', () => {
    const candidate = { name: 'p', version: 1, contentHash: 'c'.repeat(64), createdAt: '2026-01-01T00:00:00Z', scenario: { id: 'calvano-duopoly-v1', contentHash: 'd' }, ladder: Array.from(model.ladder) };
    const common = { candidate, production: undefined, evidence: [], findRecorded: () => undefined, servingGuardrails: { rules: {}, source: 'test' } };
    const without = checkPromotion({ ...common, policy: promotionPolicySchema.parse({}) });
    expect(without.gates.map((gate) => gate.gate)).not.toContain('collusion');
    const withGate = checkPromotion({ ...common, policy: promotionPolicySchema.parse({ collusion: {} }), collusionEvidence: asFile(measureSession(session)) });
    expect(withGate.gates.at(-1)).toMatchObject({ gate: 'collusion', status: 'skipped' });
    expect(withGate.allowed).toBe(false);
  });
});
