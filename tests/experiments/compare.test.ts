/**
 * Comparisons: what an arm is and how it is refused, known-answer verdicts on common random
 * numbers, learners trained per seed with learning curves, artifacts pinned by the sha256
 * of their policy.json, the versioned summary schema (and its documentation), determinism.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArtifact, embeddedScenarioOf, writeArtifact } from '../../agents/artifact.js';
import { makeEnv } from '../../env/env.js';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { buildObservationFeatures } from '../../env/observation.js';
import { compare, comparisonSchemaVersion, comparisonSummarySchema, type ComparisonSummary } from '../../experiments/compare.js';
import { agentFor } from '../../experiments/setup.js';
import { train } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';
import { root } from '../fixtures/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-compare-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const quick = { scenario: 'steady-state-v1', seeds: 6, evaluationEpisodes: 2, trainingSteps: 730 } as const;

async function refusal(promise: Promise<unknown>): Promise<PricelabError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(PricelabError);
  return error as PricelabError;
}

const paths = (error: PricelabError) => error.problems.map((problem) => problem.path.join('.'));

describe('arms', () => {
  it('refuses every bad arm and option at once, naming each', async () => {
    const error = await refusal(compare({ ...quick, arms: ['fixed:17.99', 'fixed:17.99', 'warp-drive', 'fixed:abc'], baseline: 'nobody', seeds: 1, primaryKpi: 'averagePrice' }));
    expect(error.kind).toBe('config');
    expect(paths(error)).toEqual(expect.arrayContaining(['seeds', 'primaryKpi', 'agents.1', 'agents.2', 'agents.3.policy', 'baseline']));
    expect(error.message).toContain('found "fixed:17.99" twice');
    expect(error.message).toContain('found "warp-drive"');
  });

  it('refuses a config file for a rule spec and a config that does not fit the agent kind', async () => {
    const bad = join(scratch, 'bad-q.json');
    writeFileSync(bad, JSON.stringify({ discount: 7 }));
    const error = await refusal(compare({ ...quick, arms: ['a=fixed:17.99', 'q=q-learning'], configFiles: new Map([['a', bad], ['q', bad], ['ghost', bad]]) }));
    expect(paths(error)).toEqual(expect.arrayContaining(['agents.0.config', 'config.ghost']));
    expect(paths(error).some((path) => path.startsWith('agents.1.config'))).toBe(true);
  });

  it('refuses a tampered policy folder as an integrity error', async () => {
    const folder = await writeQLearningArtifact('tampered');
    writeFileSync(join(folder, 'q-table.json'), '{}');
    const files = readFileSync(join(folder, 'policy.json'), 'utf8');
    expect(files).toContain('sha256');
    const error = await refusal(compare({ ...quick, arms: ['fixed:17.99', folder] }));
    expect(error.message).toContain('q-table.json');
    expect(error.kind).toBe('integrity');
  });
});

describe('verdicts on common random numbers', () => {
  let cached: Promise<ComparisonSummary> | undefined;
  const rules = () => (cached ??= compare({ ...quick, arms: ['list=fixed:17.99', 'same=fixed:17.99', 'cheap=fixed:12.99'] }).then((outcome) => outcome.summary));

  it('finds a price far below cost-effective worse on profit, and an identical arm no different (every difference zero, p = 1)', async () => {
    const summary = await rules();
    const verdict = (arm: string, kpi: string) => summary.comparisons.find((comparison) => comparison.arm === arm && comparison.kpi === kpi);
    expect(verdict('cheap', 'profit')?.verdict).toBe('worse');
    expect(verdict('cheap', 'units')?.verdict).toBe('better');
    const same = verdict('same', 'profit');
    expect(same).toMatchObject({ estimate: 0, sdOfDifferences: 0, pValue: 1, adjustedPValue: 1, minimumDetectableEffect: 0, verdict: 'no detectable difference' });
    expect(summary.verdict.everyArmBetter).toBe(false);
    expect(summary.verdict.byArm.map((entry) => [entry.arm, entry.verdict])).toEqual([['same', 'no detectable difference'], ['cheap', 'worse']]);
  });

  it('adjusts p-values by Holm across every (arm, KPI) with a direction, never below the raw p-value', async () => {
    const summary = await rules();
    const directional = summary.kpis.filter((kpi) => kpi.direction !== 'none').length;
    expect(summary.comparisons).toHaveLength(2 * directional);
    for (const comparison of summary.comparisons) {
      expect(comparison.adjustedPValue).toBeGreaterThanOrEqual(comparison.pValue);
      expect(comparison.adjustedPValue).toBeLessThanOrEqual(1);
    }
    const smallest = Math.min(...summary.comparisons.map((comparison) => comparison.pValue));
    expect(Math.min(...summary.comparisons.map((comparison) => comparison.adjustedPValue))).toBeCloseTo(Math.min(1, smallest * summary.comparisons.length), 12);
  });

  it('turns the verdict around with the other baseline, and the bootstrap interval holds the estimate', async () => {
    const { summary } = await compare({ ...quick, arms: ['list=fixed:17.99', 'cheap=fixed:12.99'], baseline: 'cheap' });
    const profit = summary.comparisons.find((comparison) => comparison.kpi === 'profit');
    expect(profit?.arm).toBe('list');
    expect(profit?.verdict).toBe('better');
    expect(profit?.bootstrap.low).toBeLessThanOrEqual(profit?.estimate ?? Number.NaN);
    expect(profit?.bootstrap.high).toBeGreaterThanOrEqual(profit?.estimate ?? Number.NaN);
    expect(profit?.probabilityOfImprovement).toBe(1);
    expect(summary.verdict.everyArmBetter).toBe(true);
  });

  it('writes a summary that fits the strict, versioned schema and is the same on a second run', async () => {
    const summary = await rules();
    const roundTripped: unknown = JSON.parse(JSON.stringify(summary));
    const parsed = comparisonSummarySchema.safeParse(roundTripped);
    expect(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 3))).toBe(true);
    expect(summary.schemaVersion).toBe(comparisonSchemaVersion);
    expect(summary.scenario.contentHash).toBe(loadScenario('steady-state-v1').contentHash);
    const again = (await compare({ ...quick, arms: ['list=fixed:17.99', 'same=fixed:17.99', 'cheap=fixed:12.99'] })).summary;
    expect({ ...again, createdAt: '' }).toEqual({ ...summary, createdAt: '' });
  });
});

describe('learners and artifacts', () => {
  it('trains a learner per seed, with a learning curve across seeds, and pins an artifact by the sha256 of its policy.json', async () => {
    const folder = await writeQLearningArtifact('pinned');
    const { summary, run } = await compare({ ...quick, seeds: 3, arms: ['fixed:17.99', 'q=q-learning', `saved=${folder}`] });
    const arm = (name: string) => summary.arms.find((candidate) => candidate.name === name);
    expect(arm('q')).toMatchObject({ source: 'agent', kind: 'q-learning', learns: true, artifact: null });
    expect(arm('fixed:17.99')).toMatchObject({ source: 'rule', kind: 'fixed-price', learns: false, config: { price: 17.99 } });
    expect(arm('saved')).toMatchObject({ source: 'artifact', kind: 'q-learning', learns: false });
    expect(arm('saved')?.artifact?.policySha256).toBe(createHash('sha256').update(readFileSync(join(folder, 'policy.json'))).digest('hex'));
    expect(run.results.filter((result) => result.arm === 'q').map((result) => result.trainedSteps)).toEqual([730, 730, 730]);
    expect(run.results.filter((result) => result.arm === 'saved').every((result) => result.trainedSteps === 0)).toBe(true);
    const curve = summary.learningCurves.filter((point) => point.arm === 'q');
    expect(curve[0]?.steps).toBe(0);
    expect(curve.at(-1)?.steps).toBe(730);
    expect(curve.every((point) => point.n === 3 && point.low <= point.mean && point.mean <= point.high)).toBe(true);
    // The first seed's first evaluation episode, day by day, for the trajectory charts.
    expect(run.trajectories.filter((day) => day.arm === 'q')).toHaveLength(365);
  });
});

describe('docs/compare.md', () => {
  it('documents every field of the summary schema and its version', () => {
    const docs = readFileSync(join(root, 'docs', 'compare.md'), 'utf8');
    const missing = schemaFieldPaths(comparisonSummarySchema).filter((path) => !docs.includes(`\`${path}\``));
    expect(missing).toEqual([]);
    expect(docs).toContain(`schemaVersion\` | ${comparisonSchemaVersion}`);
  });
});

/** Dotted paths of every field in a zod object schema (arrays as `[]`). */
function schemaFieldPaths(schema: unknown, prefix = ''): string[] {
  const definition = (schema as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; innerType?: unknown } }).def;
  if (!definition) return [];
  if (definition.type === 'nullable' || definition.type === 'optional') return schemaFieldPaths(definition.innerType, prefix);
  if (definition.type === 'array') return schemaFieldPaths(definition.element, `${prefix}[]`);
  if (definition.type !== 'object' || !definition.shape) return [];
  return Object.entries(definition.shape).flatMap(([key, value]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return [path, ...schemaFieldPaths(value, path)];
  });
}

async function writeQLearningArtifact(name: string): Promise<string> {
  const loaded = loadScenario('steady-state-v1');
  const model = buildMarketModel(loaded.scenario);
  const env = makeEnv(model);
  const agent = await agentFor(env, 'q-learning', {}, 1);
  await train(env, agent, { steps: 365, seed: 1 });
  const artifact = buildArtifact(await agent.export(), {
    name,
    scenario: embeddedScenarioOf(loaded),
    features: buildObservationFeatures(model),
    ladder: model.ladder,
    training: { steps: 365 },
    seeds: [1],
  });
  agent.dispose();
  return writeArtifact(join(scratch, name), artifact);
}
