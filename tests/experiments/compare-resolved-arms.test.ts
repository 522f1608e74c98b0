/**
 * Arms resolved by the caller (experiments/compare/arms.ts `resolveArtifact`): the CLI maps
 * `registry:name@version` to a registered version's folder and recorded content hash, and
 * the arm is loaded only when policy.json still has that hash (issue 13.1).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { compare } from '../../experiments/compare.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-resolved-arms-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const quick = { scenario: 'steady-state-v1', seeds: 2, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 } as const;

async function refusal(promise: Promise<unknown>): Promise<PricelabError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(PricelabError);
  return error as PricelabError;
}

describe('arms resolved by the caller', () => {
  it('loads a resolved arm when its policy.json has the expected hash, refuses it (integrity, naming the label) when not', async () => {
    const folder = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'fixed-price', config: { price: 17.99 }, steps: 1, seed: 1 })).folder;
    const hash = createHash('sha256').update(readFileSync(join(folder, 'policy.json'))).digest('hex');
    const resolver = (recorded: string) => (spec: string) => (spec === 'registry:everyday@1' ? { folder, expected: { contentHash: recorded, label: 'everyday@1' } } : undefined);

    const { summary } = await compare({ ...quick, arms: ['fixed:29.99', 'c=registry:everyday@1'], resolveArtifact: resolver(hash) });
    expect(summary.arms.find((arm) => arm.name === 'c')).toMatchObject({ spec: 'registry:everyday@1', source: 'artifact', artifact: { policySha256: hash } });

    const edited = await refusal(compare({ ...quick, arms: ['fixed:29.99', 'c=registry:everyday@1'], resolveArtifact: resolver('0'.repeat(64)) }));
    expect(edited.kind).toBe('integrity');
    expect(edited.message).toMatch(/^everyday@1 was changed after it was registered: refused/);
  });

  it('refuses a registry: arm when no resolver was given (config, naming the arm)', async () => {
    const error = await refusal(compare({ ...quick, arms: ['fixed:29.99', 'c=registry:everyday@1'] }));
    expect(error.kind).toBe('config');
    expect(error.problems.map((problem) => problem.path.join('.'))).toContain('agents.1');
  });
});
