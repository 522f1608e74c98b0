/**
 * Serving a coupon policy through the HTTP endpoint: the response names the coupon chosen
 * (campaign, kind, depth, terms) and why (the policy's action values in words), and the
 * decision log keeps it. The policy is a Q-learning coupon policy trained by `pricelab train`'s
 * run (experiments/train-run.ts) on the known-answer coupon market; the test compares the
 * endpoint with the artifact's own greedy decision, so it does not rest on what was learned.
 * Guardrails that pin the price to the other ladder price move the price, and the reason says so.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { prepareTrainRun } from '../../experiments/train-run.js';
import { loadScenario } from '../../scenarios/load.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import { ServedPolicy } from '../../serving/served-policy.js';
import { policySchemaResponseSchema, priceResponseSchema } from '../../serving/request-schemas.js';
import { getJson, postJson, startEndpoint, testToken } from '../fixtures/serving.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { buildArtifact, embeddedScenarioOf, writeArtifact } from '../../agents/artifact.js';
import { QLearningAgent } from '../../agents/q-learning.js';
import { contextFor } from '../../experiments/setup.js';
import { couponObservationFeatures } from '../../experiments/coupon-policy.js';
import { targetedFeaturesOf } from '../../env/coupons/coupon-menu.js';
import { couponChoiceScenario, writeCouponChoiceMarket } from '../agents/coupon-choice-market.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-coupon-serving-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let policyFolder = '';
let features: Record<string, number> = {};

beforeAll(async () => {
  const loaded = loadScenario(writeCouponChoiceMarket(scratch));
  const config = { gamma: 0, learningRate: { kind: 'visits' }, exploration: { kind: 'epsilon', start: 1, end: 0.05, decaySteps: 400 } };
  const prepared = await prepareTrainRun(loaded, { agent: 'q-learning', config, seed: 1, steps: 800, evalEpisodes: 2, envs: 1, keepBest: true, population: 1 });
  policyFolder = (await prepared.run(join(scratch, 'run'))).policyFolder;
  const env = new CouponEnv(couponChoiceScenario());
  const { observation } = env.reset({ seed: 4 });
  features = Object.fromEntries(env.observationSpace.featureNames.map((name, index) => [name, observation[index] ?? 0]));
});

async function servedBy(config: unknown, log: string) {
  const endpoint = await startEndpoint(mkdtempSync(join(scratch, 'home-')), config, { decisionLog: log });
  endpoint.registry.register(policyFolder, { reason: 'coupon policy', name: 'coupons' });
  endpoint.registry.moveAlias('coupons', 1, 'production', { reason: 'test' });
  await endpoint.service.refresh();
  return endpoint;
}

describe('a served coupon policy', () => {
  it('says which coupon was chosen and why, and the decision log keeps it', async () => {
    const local = await ServedPolicy.load(policyFolder);
    const expected = local.decide(Float32Array.from(Object.values(features)));
    const explanation = local.explain(Float32Array.from(Object.values(features)), expected.ladderIndex);
    local.dispose();
    expect(expected.coupon).toBeDefined();
    const log = join(scratch, 'decisions.jsonl');
    const endpoint = await servedBy({}, log);
    try {
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/coupons/price`, { features });
      expect(status, JSON.stringify(json)).toBe(200);
      const response = priceResponseSchema.parse(json);
      expect(response.price).toBe(expected.price);
      expect(response.ladderIndex).toBe(expected.ladderIndex);
      const coupon = response.coupon!;
      expect(coupon.decidedBy).toBe('model');
      expect(coupon.action).toBe(expected.coupon!.action);
      const description = expected.coupon!.description;
      expect(coupon.offered).toBe(description !== null);
      if (description) expect(coupon.campaign).toMatchObject({ index: expected.coupon!.campaign, name: description.name, kind: 'threshold', depth: description.depth, terms: `${description.depth} off`, stages: ['new', 'hesitant', 'repeat', 'lapsed'] });
      else expect(coupon.campaign).toBeNull();
      // The reason is the policy's explanation in words: the chosen action's value, the highest.
      expect(explanation.kind).toBe('action-values');
      const values = explanation.kind === 'action-values' ? explanation.values : [];
      const best = Math.max(...values);
      expect(values[coupon.action!]).toBe(best);
      expect(coupon.reason).toContain(`has the highest value, ${Math.round(best * 100) / 100}, of the policy's 8 price and coupon actions`);
      expect(coupon.reason).toContain(`at ${expected.price}, `);
      expect(coupon.reason).not.toContain('guardrails');
      expect(response.explanation.kind).toBe('action-values');

      // The policy's schema lists its campaign menu beside the ladder.
      const schema = await getJson(`${endpoint.url}/v1/policies/coupons/schema`, { authorization: `Bearer ${testToken}` });
      expect(schema.status).toBe(200);
      expect(policySchemaResponseSchema.parse(schema.json).coupons?.campaigns.map((campaign) => campaign.name)).toEqual(['1 off', '2.8 off', '5 off']);

      const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { decisionId: string; coupon?: unknown });
      expect(lines).toHaveLength(1);
      expect(lines[0]?.decisionId).toBe(response.decisionId);
      expect(lines[0]?.coupon).toEqual(coupon);
    } finally {
      await endpoint.close();
    }
  });

  it('keeps the coupon when the guardrails move the price, and says so', async () => {
    const local = await ServedPolicy.load(policyFolder);
    const expected = local.decide(Float32Array.from(Object.values(features)));
    local.dispose();
    const other = expected.price === 9 ? 10 : 9;
    const endpoint = await servedBy({ policies: { coupons: { guardrails: { minPrice: other, maxPrice: other } } } }, join(scratch, 'guarded.jsonl'));
    try {
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/coupons/price`, { features });
      expect(status, JSON.stringify(json)).toBe(200);
      const response = priceResponseSchema.parse(json);
      expect(response.price).toBe(other);
      expect(response.coupon?.action).toBe(expected.coupon?.action);
      expect(response.coupon?.reason).toContain(`the guardrails moved the price from ${expected.price} to ${other}, the coupon stands as chosen`);
    } finally {
      await endpoint.close();
    }
  });

  it('offers no coupon when the model fails, the rule fallback pricing on the coupon market', async () => {
    const log = join(scratch, 'fallback.jsonl');
    const endpoint = await servedBy({ policies: { coupons: { fallback: 'fixed:9' } } }, log);
    const decide = vi.spyOn(ServedPolicy.prototype, 'decide');
    try {
      decide.mockImplementationOnce(() => {
        throw new Error('weights corrupted in memory');
      });
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/coupons/price`, { features });
      expect(status, JSON.stringify(json)).toBe(200);
      const response = priceResponseSchema.parse(json);
      expect(response.policy.servedBy).toBe('fallback');
      expect(response.price).toBe(9);
      expect(response.ladderIndex).toBe(0);
      expect(response.coupon).toEqual({ offered: false, campaign: null, action: null, decidedBy: 'fallback', reason: 'the model failed: weights corrupted in memory; the fallback (rule:fixed:9) priced without a coupon' });
    } finally {
      decide.mockRestore();
      await endpoint.close();
    }
    const [line] = readFileSync(log, 'utf8').trim().split('\n').map((entry) => JSON.parse(entry) as { coupon?: { decidedBy: string } });
    expect(line?.coupon?.decidedBy).toBe('fallback');
  });

  it('a price-only policy has no coupon in its response', async () => {
    const plain = await trainedPolicyArtifact(scratch, { kind: 'fixed-price', config: { price: 17.99 }, steps: 1, name: 'plain' });
    const endpoint = await startEndpoint(mkdtempSync(join(scratch, 'home-')), {});
    try {
      endpoint.registry.register(plain.folder, { reason: 'plain', name: 'plain' });
      endpoint.registry.moveAlias('plain', 1, 'production', { reason: 'test' });
      await endpoint.service.refresh();
      const space = plain.env.observationSpace;
      const { observation } = plain.env.reset({ seed: 1 });
      const request = { features: Object.fromEntries(space.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (space.scales[index] ?? 1)])), lastPrice: 17.99 };
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/plain/price`, request);
      expect(status, JSON.stringify(json)).toBe(200);
      expect(json).not.toHaveProperty('coupon');
    } finally {
      await endpoint.close();
    }
  });
});

/** A one-state Q-table coupon policy whose greedy action is `action`, as an artifact on the known-answer market. */
function fixedActionPolicy(name: string, action: number): string {
  const loaded = loadScenario(join(scratch, 'coupon-choice.json'));
  const env = new CouponEnv(loaded.scenario);
  const config = { alpha: 0.1, learningRate: { kind: 'constant' as const }, gamma: 0, initialValue: 0, exploration: { kind: 'epsilon' as const, start: 1, end: 0.05, decaySteps: 1 }, discretisation: [{ name: 'budgetLeft', bins: 1 }] };
  const values = Float64Array.from({ length: env.actionSpace.n }, (_, index) => (index === action ? 2 : 1));
  const agent = new QLearningAgent(config, contextFor(env, 'q-learning', 0), values);
  const artifact = buildArtifact(agent.export(), { name, scenario: embeddedScenarioOf(loaded), features: couponObservationFeatures(env), ladder: env.prices, coupons: env.menu, training: { targeting: { features: targetedFeaturesOf(env.menu) } }, seeds: [0] });
  return writeArtifact(join(scratch, name), artifact);
}

describe('a coupon canary', () => {
  it('logs the propensity of the price and the coupon: the same price with another coupon is another action', async () => {
    // Production: price 10 with 2.8 off (action 6); the canary: price 10 with no coupon (action 4).
    const log = join(scratch, 'canary.jsonl');
    const endpoint = await startEndpoint(mkdtempSync(join(scratch, 'home-')), { policies: { coupons: { canary: { alias: 'candidate', share: 0.3 } } } }, { decisionLog: log });
    try {
      endpoint.registry.register(fixedActionPolicy('with-coupon', 6), { reason: 'production', name: 'coupons' });
      endpoint.registry.register(fixedActionPolicy('without-coupon', 4), { reason: 'canary', name: 'coupons' });
      endpoint.registry.moveAlias('coupons', 1, 'production', { reason: 'test' });
      endpoint.registry.moveAlias('coupons', 2, 'candidate', { reason: 'test' });
      await endpoint.service.refresh();
      const served: { servedBy: string; coupon: string | null }[] = [];
      for (let key = 0; key < 40; key++) {
        const { json } = await postJson(`${endpoint.url}/v1/policies/coupons/price`, { features, key: `customer-${key}` });
        const response = priceResponseSchema.parse(json);
        expect(response.price).toBe(10);
        served.push({ servedBy: response.policy.servedBy, coupon: response.coupon?.campaign?.name ?? null });
      }
      expect(new Set(served.map((entry) => `${entry.servedBy}:${entry.coupon}`))).toEqual(new Set(['production:2.8 off', 'canary:null']));
    } finally {
      await endpoint.close();
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { servedBy: string; propensity: number });
    expect(lines).toHaveLength(40);
    for (const line of lines) expect(line.propensity).toBeCloseTo(line.servedBy === 'canary' ? 0.3 : 0.7, 12);
  });
});
