/**
 * Issue 13.1: `pricelab evaluate --policy` and `pricelab compare --agents` load registered
 * versions (`registry:name@version|alias`, or their folder in $PRICELAB_HOME/policies)
 * only when policy.json still has the content hash recorded at registration: an edited
 * version is refused with exit 4 naming name@version, as serving refuses it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith, ensureBuilt } from '../fixtures/cli.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-registered-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const home = join(scratch, 'home');
const pricelab = (...args: string[]) => cliWith({ PRICELAB_HOME: home }, ...args);
const versionFolder = join(home, 'policies', 'everyday', '1');
const quickCompare = ['--seeds', '2', '--episodes', '1', '--steps', '1', '--resamples', '200', '--no-store'];
let outside: string;
let contentHash: string;

beforeAll(async () => {
  ensureBuilt();
  outside = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'fixed-price', config: { price: 17.99 }, steps: 1, seed: 1 })).folder;
  const registered = await pricelab('policy', 'register', outside, '--reason', 'first', '--json');
  expect(registered.code).toBe(0);
  contentHash = (JSON.parse(registered.stdout) as { version: { contentHash: string } }).version.contentHash;
}, 120_000);

describe('registered versions outside serving (issue 13.1)', () => {
  it('evaluates and compares registry:name@version and name@alias through the registry', async () => {
    const evaluated = await pricelab('evaluate', 'steady-state-v1', '--policy', 'registry:everyday@1', '--episodes', '2', '--json');
    expect(evaluated.stderr).toBe('');
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ policy: { name: 'everyday', agentKind: 'fixed-price' } });
    expect((await pricelab('policy', 'promote', 'everyday@1', '--to', 'candidate', '--reason', 'try it')).code).toBe(0);
    const byAlias = await pricelab('evaluate', 'steady-state-v1', '--policy', 'registry:everyday@candidate', '--episodes', '2', '--json');
    expect(byAlias.code).toBe(0);
    expect(JSON.parse(byAlias.stdout).kpis).toEqual(JSON.parse(evaluated.stdout).kpis);

    const compared = await pricelab('compare', 'steady-state-v1', '--agents', 'baseline=fixed:29.99,candidate=registry:everyday@1', ...quickCompare, '--json');
    expect(compared.code).toBe(0);
    const candidate = (JSON.parse(compared.stdout) as { arms: { name: string; spec: string; artifact?: { policySha256: string; path: string } }[] }).arms.find((arm) => arm.name === 'candidate');
    expect(candidate).toMatchObject({ spec: 'registry:everyday@1', artifact: { policySha256: contentHash, path: versionFolder } });

    expect((await pricelab('evaluate', 'steady-state-v1', '--policy', 'registry:Bad Name@1')).code).toBe(2);
    expect((await pricelab('evaluate', 'steady-state-v1', '--policy', 'registry:nobody@1')).code).toBe(3);
    expect((await pricelab('evaluate', 'steady-state-v1', '--policy', 'registry:everyday@7')).code).toBe(3);
    // A plain folder outside the home needs no registry.
    expect((await pricelab('evaluate', 'steady-state-v1', '--policy', outside, '--episodes', '1')).code).toBe(0);
  }, 180_000);

  it('refuses a version edited after registration (exit 4 naming everyday@1), by reference and by its folder', async () => {
    // The reviewer's edit: policy.json itself changed (here the fixed price), so every per-file hash it lists still holds.
    const manifestPath = join(versionFolder, 'policy.json');
    const original = readFileSync(manifestPath, 'utf8');
    const manifest = JSON.parse(original) as { agentConfig: { price: number } };
    manifest.agentConfig.price = 29.99;
    writeFileSync(manifestPath, JSON.stringify(manifest));
    try {
      for (const policy of ['registry:everyday@1', 'registry:everyday@candidate', versionFolder, `${home}/policies/everyday/../everyday/1`]) {
        const refused = await pricelab('evaluate', 'steady-state-v1', '--policy', policy, '--episodes', '1');
        expect({ policy, code: refused.code }).toEqual({ policy, code: 4 });
        expect(refused.stderr).toMatch(/everyday@1 was changed after it was registered/);
      }
      for (const arm of ['candidate=registry:everyday@1', `candidate=${versionFolder}`]) {
        const refused = await pricelab('compare', 'steady-state-v1', '--agents', `baseline=fixed:29.99,${arm}`, ...quickCompare);
        expect({ arm, code: refused.code }).toEqual({ arm, code: 4 });
        expect(refused.stderr).toMatch(/everyday@1 was changed after it was registered/);
      }
    } finally {
      writeFileSync(manifestPath, original);
    }
    expect((await pricelab('evaluate', 'steady-state-v1', '--policy', versionFolder, '--episodes', '1')).code).toBe(0);
  }, 180_000);

  it('refuses a folder planted inside the registry that no registry row names (exit 4)', async () => {
    const planted = join(home, 'policies', 'everyday', '9');
    cpSync(outside, planted, { recursive: true });
    const refused = await pricelab('evaluate', 'steady-state-v1', '--policy', planted, '--episodes', '1');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/policies\/everyday\/9 lies inside the policy registry but is no registered version/);
    expect((await pricelab('compare', 'steady-state-v1', '--agents', `baseline=fixed:29.99,candidate=${planted}`, ...quickCompare)).code).toBe(4);
  }, 60_000);
});
