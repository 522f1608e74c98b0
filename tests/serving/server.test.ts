import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';
import { ServedPolicy } from '../../serving/served-policy.js';
import { batchPriceResponseSchema, errorResponseSchema, maxListedProblems, policySchemaResponseSchema, priceResponseSchema, readinessSchema } from '../../serving/request-schemas.js';
import type { TimeLimit } from '../../env/env.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { getJson, postJson, startEndpoint, testToken, type RunningEndpoint } from '../fixtures/serving.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-server-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let first: string;
let second: string;
let env: TimeLimit;

beforeAll(async () => {
  const trained = await trainedPolicyArtifact(scratch, { seed: 1, steps: 3000 });
  first = trained.folder;
  env = trained.env;
  second = (await trainedPolicyArtifact(scratch, { seed: 2, steps: 3000, kind: 'ucb1' })).folder;
});

/** Raw features of a real market day, as a client would send them. */
function contextOn(seed: number, days: number): { features: Record<string, number>; lastPrice: number; competitorPrices: number[] }[] {
  const space = env.observationSpace;
  const contexts = [];
  let { observation } = env.reset({ seed });
  for (let day = 0; day < days; day++) {
    const features = Object.fromEntries(space.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (space.scales[index] ?? 1)]));
    const rivals = space.featureNames.flatMap((name, index) => (name.startsWith('rivalPrice:') ? [(observation[index] ?? 0) * (space.scales[index] ?? 1)] : []));
    contexts.push({ features, lastPrice: features.lastPrice ?? 17.99, competitorPrices: rivals });
    observation = env.step(day % env.actionSpace.n).observation;
  }
  return contexts.map((context) => ({ ...context, lastPrice: context.lastPrice > 0 ? context.lastPrice : 17.99 }));
}

async function endpointWith(config: unknown = {}, options: Parameters<typeof startEndpoint>[2] = {}): Promise<RunningEndpoint> {
  const endpoint = await startEndpoint(mkdtempSync(join(scratch, 'home-')), config, options);
  endpoint.registry.register(first, { reason: 'v1' });
  endpoint.registry.register(second, { reason: 'v2', name: 'everyday' });
  endpoint.registry.moveAlias('everyday', 1, 'production', { reason: 'bootstrap' });
  await endpoint.service.refresh();
  return endpoint;
}

describe('the pricing endpoint', () => {
  it('serves a price with the policy, every guardrail\'s effect and an explanation', async () => {
    const endpoint = await endpointWith({ policies: { everyday: { guardrails: { minPrice: 12.99, maxPrice: 24.99, maxChange: 0.2 } } } });
    try {
      const [context] = contextOn(3, 1);
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, context);
      expect(status).toBe(200);
      expect(json).toMatchObject({ policy: { name: 'everyday', version: 1, servedBy: 'production' }, fallback: null, violations: [] });
      expect((json.guardrails as { rule: string }[]).map((effect) => effect.rule)).toEqual(['min-max', 'max-change', 'competitor-index', 'margin-floor', 'ladder']);
      expect(json.price).toBeGreaterThanOrEqual(12.99);
      expect(json.price).toBeLessThanOrEqual(24.99);
      expect(json.explanation).toHaveProperty('kind');
      const batch = await postJson(`${endpoint.url}/v1/policies/everyday/prices`, { requests: contextOn(4, 5) });
      expect(batch.status).toBe(200);
      expect((batch.json.responses as unknown[]).length).toBe(5);
      const listed = (await fetch(`${endpoint.url}/v1/policies`).then((response) => response.json())) as { policies: unknown[] };
      expect(listed.policies[0]).toMatchObject({ name: 'everyday', versions: 2, aliases: { production: 1 }, served: { version: 1 } });
      expect(await fetch(`${endpoint.url}/healthz`).then((response) => response.status)).toBe(200);
      expect(await fetch(`${endpoint.url}/readyz`).then((response) => response.status)).toBe(200);
      const metrics = await fetch(`${endpoint.url}/metrics`).then((response) => response.text());
      expect(metrics).toMatch(/pricelab_price_decisions_total\{policy="everyday",served_by="production"\} 6/);
    } finally {
      await endpoint.close();
    }
  });

  it('answers bad input with 400 and every problem, an unknown policy with 404', async () => {
    const endpoint = await endpointWith();
    try {
      const bad = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { features: { lastPrice: 'cheap' }, lastPrice: -1, extra: true });
      expect(bad.status).toBe(400);
      const paths = (bad.json.problems as { path: string[] }[]).map((problem) => problem.path.join('.'));
      expect(paths).toEqual(expect.arrayContaining(['body.features.lastPrice', 'body.lastPrice', 'body']));
      const missing = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { features: { lastPrice: 17.99 } });
      expect(missing.status).toBe(400);
      expect((missing.json.problems as unknown[]).length).toBeGreaterThan(3); // every feature the policy reads
      expect((await postJson(`${endpoint.url}/v1/policies/everyday/price`, '{"features": ')).status).toBe(400);
      expect((await postJson(`${endpoint.url}/v1/policies/nobody/price`, contextOn(1, 1)[0])).status).toBe(404);
    } finally {
      await endpoint.close();
    }
  });

  it('needs a token for register, promote and rollback', async () => {
    const endpoint = await endpointWith();
    try {
      const files = Object.fromEntries(readdirSync(first).map((name) => [name, readFileSync(join(first, name)).toString('base64')]));
      expect((await postJson(`${endpoint.url}/v1/policies`, { reason: 'x', files })).status).toBe(401);
      expect((await postJson(`${endpoint.url}/v1/policies`, { reason: 'x', files }, { authorization: 'Bearer wrong' })).status).toBe(401);
      const registered = await postJson(`${endpoint.url}/v1/policies`, { reason: 'again', files, name: 'other' }, { authorization: `Bearer ${testToken}` });
      expect(registered.status).toBe(201);
      expect(registered.json).toMatchObject({ created: true, version: { name: 'other', version: 1 } });
      // A tampered upload is refused (422) and nothing is stored.
      const tampered = { ...files, 'q-table.json': Buffer.from('{"tampered":true}').toString('base64') };
      const refused = await postJson(`${endpoint.url}/v1/policies`, { reason: 'x', files: tampered, name: 'third' }, { authorization: `Bearer ${testToken}` });
      expect(refused.status).toBe(422);
      expect(endpoint.registry.list().map((entry) => entry.name)).toEqual(['everyday', 'other']);
      const audit = endpoint.registry.auditLog('other');
      expect(audit[0]?.actor).toBe('suite');
    } finally {
      await endpoint.close();
    }
    const open = await endpointWith({}, { withToken: false });
    try {
      expect((await postJson(`${open.url}/v1/policies/everyday/rollback`, { alias: 'production', reason: 'x' })).status).toBe(403);
    } finally {
      await open.close();
    }
  });

  it('swaps a promoted version in without a restart and without failing a request in flight', async () => {
    const endpoint = await endpointWith();
    try {
      const contexts = contextOn(5, 40);
      let stop = false;
      const versions: number[] = [];
      const failures: number[] = [];
      const load = (async () => {
        for (let index = 0; !stop; index++) {
          const { status, json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, contexts[index % contexts.length]);
          if (status !== 200) failures.push(status);
          else versions.push((json.policy as { version: number }).version);
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 150));
      const promoted = await postJson(`${endpoint.url}/v1/policies/everyday/promote`, { version: 2, to: 'staging', reason: 'try' }, { authorization: `Bearer ${testToken}` });
      expect(promoted.status).toBe(200);
      endpoint.registry.moveAlias('everyday', 2, 'production', { reason: 'bootstrap v2 (gates are tested elsewhere)' });
      await endpoint.service.refresh();
      await new Promise((resolve) => setTimeout(resolve, 150));
      const rolledBack = await postJson(`${endpoint.url}/v1/policies/everyday/rollback`, { alias: 'production', reason: 'back' }, { authorization: `Bearer ${testToken}` });
      expect(rolledBack.json).toMatchObject({ from: 2, to: 1 });
      await new Promise((resolve) => setTimeout(resolve, 150));
      stop = true;
      await load;
      expect(failures).toEqual([]);
      expect(versions.length).toBeGreaterThan(20);
      const firstTwo = versions.indexOf(2);
      expect(firstTwo).toBeGreaterThan(0);
      expect(versions.lastIndexOf(1)).toBeGreaterThan(versions.lastIndexOf(2));
    } finally {
      await endpoint.close();
    }
  });

  it('falls back when the model runs past its budget, and says so', async () => {
    const endpoint = await endpointWith({ policies: { everyday: { timeBudgetMs: 0.000001, fallback: 'fixed:17.99' } } });
    try {
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, contextOn(6, 1)[0]);
      expect(status).toBe(200);
      expect(json).toMatchObject({ policy: { servedBy: 'fallback' }, fallback: { policy: 'rule:fixed:17.99' } });
      expect((json.fallback as { reason: string }).reason).toMatch(/time budget/);
      expect(json.price).toBe(17.99);
    } finally {
      await endpoint.close();
    }
  });

  it('falls back to a registered version when one is configured', async () => {
    const endpoint = await endpointWith({ policies: { everyday: { timeBudgetMs: 0.000001, fallback: 'registry:everyday@2' } } });
    try {
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, contextOn(6, 1)[0]);
      expect(status).toBe(200);
      expect(json).toMatchObject({ policy: { servedBy: 'fallback' }, fallback: { policy: 'everyday' } });
      expect((json.explanation as { kind: string }).kind).toBe('arm-statistics'); // v2 is the UCB1 policy
    } finally {
      await endpoint.close();
    }
  });

  it('falls back when the model returns NaN or throws, and the guardrails still apply', async () => {
    const endpoint = await endpointWith({ policies: { everyday: { fallback: 'fixed:17.99', guardrails: { maxPrice: 16.99 } } } });
    const decide = vi.spyOn(ServedPolicy.prototype, 'decide');
    try {
      decide.mockReturnValueOnce({ ladderIndex: 0, price: Number.NaN });
      const nan = await postJson(`${endpoint.url}/v1/policies/everyday/price`, contextOn(9, 1)[0]);
      expect(nan.status).toBe(200);
      expect(nan.json).toMatchObject({ policy: { servedBy: 'fallback' }, fallback: { policy: 'rule:fixed:17.99' } });
      expect((nan.json.fallback as { reason: string }).reason).toMatch(/non-finite price/);
      expect(nan.json.price).toBe(16.99); // the fallback's 17.99, capped by the guardrail
      decide.mockImplementationOnce(() => {
        throw new Error('weights corrupted in memory');
      });
      const thrown = await postJson(`${endpoint.url}/v1/policies/everyday/price`, contextOn(9, 1)[0]);
      expect(thrown.status).toBe(200);
      expect((thrown.json.fallback as { reason: string }).reason).toMatch(/model failed: weights corrupted/);
    } finally {
      decide.mockRestore();
      await endpoint.close();
    }
  });

  it('sends a stable share of request keys to the canary, logs shadow decisions and propensities', async () => {
    const log = join(scratch, 'decisions.jsonl');
    const endpoint = await endpointWith({ policies: { everyday: { canary: { alias: 'candidate', share: 0.3 }, shadow: { alias: 'staging' } } } }, { decisionLog: log });
    try {
      endpoint.registry.moveAlias('everyday', 2, 'candidate', { reason: 'canary' });
      endpoint.registry.moveAlias('everyday', 2, 'staging', { reason: 'shadow' });
      await endpoint.service.refresh();
      const context = contextOn(7, 1)[0];
      const servedBy: string[] = [];
      for (let key = 0; key < 200; key++) {
        const { json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { ...context, key: `customer-${key}` });
        servedBy.push((json.policy as { servedBy: string }).servedBy);
      }
      const canaryShare = servedBy.filter((who) => who === 'canary').length / servedBy.length;
      expect(canaryShare).toBeGreaterThan(0.18);
      expect(canaryShare).toBeLessThan(0.42);
      const again = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { ...context, key: 'customer-3' });
      expect((again.json.policy as { servedBy: string }).servedBy).toBe(servedBy[3]);
    } finally {
      await endpoint.close();
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.length).toBe(201);
    expect(lines[0]).toMatchObject({ policy: 'everyday', shadow: { version: 2 } });
    for (const line of lines) expect(line.propensity === 1 || Math.abs(line.propensity - 0.3) < 1e-12 || Math.abs(line.propensity - 0.7) < 1e-12).toBe(true);
  });

  it('a served price never breaks a guardrail (random contexts and rules)', async () => {
    const endpoint = await endpointWith({ policies: { everyday: { guardrails: { minPrice: 12.99, maxPrice: 27.99, maxChange: 0.15, marginFloor: 0.2, competitorIndex: { low: 0.7, high: 1.4 } } } } });
    try {
      const base = contextOn(8, 1)[0]!;
      await fc.assert(
        fc.asyncProperty(fc.double({ min: 13, max: 27, noNaN: true }), fc.array(fc.double({ min: 12, max: 25, noNaN: true }), { minLength: 1, maxLength: 2 }), fc.double({ min: 0, max: 500, noNaN: true }), async (lastPrice, rivals, stock) => {
          const features = { ...base.features, lastPrice, ...(base.features.stockOnHand === undefined ? {} : { stockOnHand: stock }) };
          const { status, json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { features, lastPrice, competitorPrices: rivals });
          expect(status).toBe(200);
          const mean = rivals.reduce((a, b) => a + b, 0) / rivals.length;
          const unitCost = env.model.unitCost;
          const meets = (price: number): Record<string, boolean> => ({
            'min-max': price >= 12.99 - 1e-9 && price <= 27.99 + 1e-9,
            'max-change': Math.abs(price - lastPrice) <= 0.15 * lastPrice + 1e-9,
            'competitor-index': price / mean >= 0.7 - 1e-9 && price / mean <= 1.4 + 1e-9,
            'margin-floor': (price - unitCost) / price >= 0.2 - 1e-9,
          });
          const violations = json.violations as string[];
          // Every rule the response does not name as broken holds for the served price.
          for (const [rule, ok] of Object.entries(meets(json.price as number))) expect(ok || violations.includes(rule)).toBe(true);
          // And a rule is only broken when no ladder price could meet them all.
          const satisfiable = Array.from(env.model.ladder).some((price) => Object.values(meets(price)).every(Boolean));
          if (satisfiable) expect(violations).toEqual([]);
        }),
        { numRuns: 150 },
      );
    } finally {
      await endpoint.close();
    }
  });

  it('never answers random bodies and headers with a 5xx (fuzz)', async () => {
    const endpoint = await endpointWith();
    try {
      const headerName = fc.constantFrom('content-type', 'authorization', 'x-request-id', 'accept', 'content-encoding');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.jsonValue(), fc.record({ features: fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.string(), fc.constant(null))), lastPrice: fc.anything() }, { requiredKeys: [] })),
          fc.dictionary(headerName, fc.string({ unit: 'grapheme-ascii', maxLength: 40 })),
          fc.constantFrom('/v1/policies/everyday/price', '/v1/policies/everyday/prices', '/v1/policies', '/v1/policies/everyday/promote', '/v1/policies/everyday/rollback', '/v1/policies/x/price'),
          async (body, headers, path) => {
            let status: number;
            try {
              const response = await fetch(`${endpoint.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) ?? 'null' });
              status = response.status;
              await response.arrayBuffer();
            } catch (error) {
              // fetch itself refuses some header values before sending: not the server's answer.
              if (error instanceof TypeError) return;
              throw error;
            }
            expect(status).toBeLessThan(500);
          },
        ),
        { numRuns: 300 },
      );
      expect(await fetch(`${endpoint.url}/healthz`).then((response) => response.status)).toBe(200);
    } finally {
      await endpoint.close();
    }
  });
  it('answers a key flood or an oversized body with a small response (fuzz)', async () => {
    const endpoint = await endpointWith();
    try {
      const [context] = contextOn(10, 1);
      const known = env.observationSpace.featureNames;
      const withUnknown = (count: number) => ({ ...context!, features: { ...context!.features, ...Object.fromEntries(Array.from({ length: count }, (_, index) => [`unknown${index}`, 1])) } });
      // Each unknown key is named once, without a list of every feature (the report: 470 keys, 230 MB for 1,000 requests).
      const answer = await postJson(`${endpoint.url}/v1/policies/everyday/price`, withUnknown(200));
      expect(answer.status).toBe(400);
      expect(answer.bytes).toBeLessThan(8_000);
      expect(errorResponseSchema.parse(answer.json)).toMatchObject({ problemsOmitted: 200 - maxListedProblems });
      for (const problem of answer.json.problems as { message: string }[]) expect(problem.message).not.toContain(known.slice(0, 3).join(', '));
      // The report's case: 470 unknown keys is past the cap on keys.
      const flood = await postJson(`${endpoint.url}/v1/policies/everyday/price`, withUnknown(470));
      expect(flood.status).toBe(400);
      expect(flood.bytes).toBeLessThan(1_000);
      expect(flood.json.problems).toEqual([{ path: ['body', 'features'], message: `expected at most 256 features, found ${Object.keys(withUnknown(470).features).length}` }]);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 4000 }),
          fc.integer({ min: 1, max: 220 }),
          fc.constantFrom('price', 'prices'),
          fc.integer({ min: 1, max: 40 }),
          fc.constantFrom<unknown>(1, 'x', null, Number.MAX_VALUE),
          async (unknownKeys, keyLength, route, batchSize, value) => {
            const features = { ...context!.features, ...Object.fromEntries(Array.from({ length: unknownKeys }, (_, index) => [`${index}`.padStart(keyLength, 'k'), value])) };
            const item = { ...context!, features };
            const body = route === 'price' ? item : { requests: Array.from({ length: batchSize }, () => item) };
            const { status, json, bytes } = await postJson(`${endpoint.url}/v1/policies/everyday/${route}`, body);
            // A served batch grows with its items (about 1.2 KB of price and explanation each);
            // a refusal does not grow with the keys or the items sent.
            if (unknownKeys === 0) {
              expect(status).toBe(200);
              expect(bytes).toBeLessThan(2_048 * (route === 'price' ? 1 : batchSize));
            } else {
              expect(bytes).toBeLessThan(16_384);
              expect([400, 413]).toContain(status);
              const error = errorResponseSchema.parse(json);
              expect(error.problems.length).toBeLessThanOrEqual(maxListedProblems);
            }
          },
        ),
        { numRuns: 40 },
      );
      // Past each route's body limit: 413, answered in a few hundred bytes.
      const big = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { ...context!, key: 'k'.repeat(100_000) });
      expect(big.status).toBe(413);
      expect(big.bytes).toBeLessThan(1_000);
      const bigBatch = await postJson(`${endpoint.url}/v1/policies/everyday/prices`, { requests: Array.from({ length: 1000 }, () => ({ ...context!, key: 'k'.repeat(2_500) })) });
      expect(bigBatch.status).toBe(413);
      // Mutations check the token before reading the body: an anonymous megabyte is refused unread.
      const anonymous = await postJson(`${endpoint.url}/v1/policies`, { reason: 'x', files: { 'policy.json': 'A'.repeat(3_000_000) } });
      expect(anonymous.status).toBe(401);
      expect(await fetch(`${endpoint.url}/healthz`).then((response) => response.status)).toBe(200);
    } finally {
      await endpoint.close();
    }
  });

  it('serves a policy named like an Object.prototype property (constructor)', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const endpoint = await startEndpoint(home, { policies: { everyday: { fallback: 'fixed:17.99' } } });
    try {
      endpoint.registry.register(first, { reason: 'v1', name: 'constructor' });
      endpoint.registry.moveAlias('constructor', 1, 'production', { reason: 'bootstrap' });
      await endpoint.service.refresh();
      const { status, json } = await postJson(`${endpoint.url}/v1/policies/constructor/price`, contextOn(2, 1)[0]);
      expect(status).toBe(200);
      expect(json).toMatchObject({ policy: { name: 'constructor', version: 1, servedBy: 'production' } });
      expect((await getJson(`${endpoint.url}/readyz`)).status).toBe(200);
      const schema = await getJson(`${endpoint.url}/v1/policies/constructor/schema`);
      expect(schema.json).toMatchObject({ fallback: 'hold', timeBudgetMs: 50 }); // the defaults, not Object.prototype.constructor
    } finally {
      await endpoint.close();
    }
  });

  it('refuses a batch with a bad item whole: nothing decided, logged or counted', async () => {
    const log = join(scratch, 'batch-decisions.jsonl');
    const endpoint = await endpointWith({}, { decisionLog: log });
    try {
      const [good, alsoGood] = contextOn(11, 2);
      const refused = await postJson(`${endpoint.url}/v1/policies/everyday/prices`, { requests: [good, alsoGood, { ...good!, features: { ...good!.features, extra: 1 } }] });
      expect(refused.status).toBe(400);
      expect((refused.json.problems as { path: (string | number)[] }[])[0]?.path).toEqual(['body', 'requests', 2, 'features', 'extra']);
      // Five bad items of ten unknown keys each: the first 20 problems listed, 30 counted.
      const unknownTen = { ...good!, features: { ...good!.features, ...Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`x${index}`, 1])) } };
      const many = await postJson(`${endpoint.url}/v1/policies/everyday/prices`, { requests: [good, ...Array.from({ length: 5 }, () => unknownTen)] });
      expect(many.status).toBe(400);
      expect(errorResponseSchema.parse(many.json)).toMatchObject({ problemsOmitted: 30 });
      expect((many.json.problems as unknown[]).length).toBe(maxListedProblems);
      const metrics = await fetch(`${endpoint.url}/metrics`).then((response) => response.text());
      expect(metrics).not.toMatch(/pricelab_price_decisions_total\{policy="everyday"/);
      const served = await postJson(`${endpoint.url}/v1/policies/everyday/prices`, { requests: [good, alsoGood] });
      expect(served.status).toBe(200);
    } finally {
      await endpoint.close();
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.length).toBe(2); // the two of the served batch only
  });

  it('explains a price with its choice before and after the guardrails, consistently', async () => {
    const endpoint = await endpointWith({ policies: { everyday: { guardrails: { minPrice: 15.99, maxPrice: 19.99, maxChange: 0.05 } } } }, { decisionLog: join(scratch, 'explained.jsonl') });
    try {
      const contexts = contextOn(12, 30);
      let moved = 0;
      for (const context of contexts) {
        const { status, json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, context);
        expect(status).toBe(200);
        const response = priceResponseSchema.parse(json);
        const { explanation } = response;
        expect(explanation).not.toHaveProperty('chosen');
        expect(explanation.decidedBy).toBe('model');
        expect(explanation.afterGuardrails).toEqual({ ladderIndex: response.ladderIndex, price: response.price });
        const ladderPrice = env.model.ladder[explanation.beforeGuardrails.ladderIndex ?? -1];
        expect(explanation.beforeGuardrails.price).toBe(ladderPrice);
        expect(response.guardrails[0]?.before).toBe(explanation.beforeGuardrails.price);
        if (explanation.beforeGuardrails.ladderIndex !== response.ladderIndex) moved++;
        else expect(explanation.beforeGuardrails.price).toBe(response.price);
      }
      expect(moved).toBeGreaterThan(0); // the guardrails did move some: the case the report saw (chosen 2, ladderIndex 3)
    } finally {
      await endpoint.close();
    }
  });

  it('describes each policy (GET /v1/policies/:name/schema) and itself (GET /openapi.json, OpenAPI 3.1)', async () => {
    const endpoint = await endpointWith({ policies: { everyday: { guardrails: { minPrice: 12.99, maxPrice: 24.99 } } } });
    try {
      const { status, json } = await getJson(`${endpoint.url}/v1/policies/everyday/schema`);
      expect(status).toBe(200);
      const schema = policySchemaResponseSchema.parse(json);
      expect(schema.features.map((feature) => feature.name)).toEqual(env.observationSpace.featureNames);
      expect(schema.features.find((feature) => feature.name === 'lastPrice')).toMatchObject({ type: 'number', scale: env.model.ladder[env.model.ladder.length - 1], low: 0 });
      expect(schema.ladder).toEqual(Array.from(env.model.ladder));
      for (const feature of schema.features) for (const bound of [feature.low, feature.high]) if (bound !== null) expect(Number(bound.toPrecision(12))).toBe(bound);
      expect(schema.guardrails).toEqual({ minPrice: 12.99, maxPrice: 24.99 });
      const featuresSchema = (schema.request.properties as Record<string, { required: string[]; additionalProperties: boolean }>).features;
      expect([...(featuresSchema?.required ?? [])].sort()).toEqual([...env.observationSpace.featureNames].sort());
      expect(featuresSchema?.additionalProperties).toBe(false);
      expect((await getJson(`${endpoint.url}/v1/policies/nobody/schema`)).status).toBe(404);

      const document = await getJson(`${endpoint.url}/openapi.json`);
      expect(document.status).toBe(200);
      const api = (await SwaggerParser.validate(structuredClone(document.json) as never)) as unknown as {
        openapi: string;
        paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> }; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>>;
      };
      expect(api.openapi).toBe('3.1.0');
      expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/v1/policies/{name}/price', '/v1/policies/{name}/prices', '/v1/policies/{name}/schema', '/v1/policies', '/readyz', '/openapi.json']));
      const price = api.paths['/v1/policies/{name}/price']?.post;
      expect(Object.keys(price?.requestBody?.content['application/json']?.schema.properties ?? {})).toEqual(['features', 'lastPrice', 'competitorPrices', 'key', 'date', 'priceHistory']);
      expect(Object.keys(price?.responses['200']?.content?.['application/json']?.schema.properties ?? {})).toEqual(Object.keys(priceResponseSchema.shape));
      expect(price?.responses['400']?.content?.['application/json']?.schema.properties).toHaveProperty('problemsOmitted');
      // The response schemas the document is made from hold for real answers.
      batchPriceResponseSchema.parse((await postJson(`${endpoint.url}/v1/policies/everyday/prices`, { requests: contextOn(13, 3) })).json);
      readinessSchema.parse((await getJson(`${endpoint.url}/readyz`)).json);
    } finally {
      await endpoint.close();
    }
  });
});
