import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare } from '../../experiments/compare.js';
import { ResultsStore, databasePath } from '../../experiments/store.js';
import { cliWith, ensureBuilt } from '../fixtures/cli.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-policy-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let good: string;
let evidencePath: string;
const home = join(scratch, 'home');
const pricelab = (...args: string[]) => cliWith({ PRICELAB_HOME: home }, ...args);

beforeAll(async () => {
  ensureBuilt();
  good = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'fixed-price', config: { price: 17.99 }, steps: 1, seed: 1 })).folder;
  const { summary } = await compare({ scenario: 'steady-state-v1', arms: ['baseline=fixed:29.99', `candidate=${good}`], seeds: 4, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
  evidencePath = join(scratch, 'compare.json');
  writeFileSync(evidencePath, JSON.stringify(summary));
  // As \`pricelab compare\` does: evidence counts only when recorded in the results store.
  const store = ResultsStore.open(home);
  store.recordComparison({ scenario: summary.scenario.id, arms: summary.arms.map((arm) => arm.name), baseline: summary.baseline, summary });
  store.close();
}, 120_000);

describe('pricelab policy', () => {
  it('registers, lists, refuses an ungated production promotion (exit 1, gate named), promotes with evidence, rolls back, audits', async () => {
    const registered = await pricelab('policy', 'register', good, '--reason', 'first', '--json');
    expect(registered.code).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({ created: true, version: { name: 'everyday', version: 1 } });

    const refused = await pricelab('policy', 'promote', 'everyday@1', '--to', 'production', '--reason', 'no evidence');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused by the evidence-valid gate/);

    const gates = join(scratch, 'gates.json');
    writeFileSync(gates, JSON.stringify({ baseline: 'fixed:29.99', guardrailMargins: { returnRate: { relative: 0.5 }, priceChanges: { absolute: 0 }, customersLost: { relative: 0.1 } } }));
    const promoted = await pricelab('policy', 'promote', 'everyday@1', '--to', 'production', '--evidence', evidencePath, '--gates', gates, '--reason', 'beats 29.99', '--json');
    expect(promoted.code).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ promoted: true, to: 1, alias: 'production' });

    await pricelab('policy', 'promote', 'everyday@1', '--to', 'staging', '--reason', 'stage');
    const listed = await pricelab('policy', 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual({ policies: [{ name: 'everyday', versions: 1, aliases: { production: 1, staging: 1 }, retired: false }] });
    expect((await pricelab('policy', 'rollback', 'everyday', '--alias', 'production', '--reason', 'x')).code).toBe(3); // nothing earlier to go back to

    const audit = JSON.parse((await pricelab('policy', 'audit', 'everyday', '--json')).stdout) as { entries: { action: string }[] };
    expect(audit.entries.map((entry) => entry.action)).toEqual(['register', 'promote', 'promote']);
    const shown = await pricelab('policy', 'show', 'everyday@production', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'everyday', versions: [{ version: 1 }] });
  }, 60_000);

  it('gives pipelines exit codes: 2 bad input, 3 not found, 4 a tampered artifact', async () => {
    expect((await pricelab('policy', 'show', 'Bad Name')).code).toBe(2);
    expect((await pricelab('policy', 'show', 'nobody')).code).toBe(3);
    expect((await pricelab('policy', 'promote', 'everyday@1', '--to', 'prod', '--reason', 'x')).code).toBe(2);
    // A Q-learning artifact whose table was changed after export.
    const tampered = (await trainedPolicyArtifact(scratch, { name: 'tabular', steps: 500, seed: 9 })).folder;
    writeFileSync(join(tampered, 'q-table.json'), '{"changed": true}');
    expect((await pricelab('policy', 'register', tampered, '--reason', 'x')).code).toBe(4);
    // File names in policy.json that leave the folder or collide with the manifest: exit 4, nothing left behind.
    for (const hostile of ['../../../../etc/hostname', 'policy.json']) {
      const folder = (await trainedPolicyArtifact(scratch, { name: 'hostile', steps: 1, seed: 11, kind: 'fixed-price', config: { price: 17.99 } })).folder;
      const manifest = JSON.parse(readFileSync(join(folder, 'policy.json'), 'utf8'));
      manifest.files[hostile] = { sha256: '0'.repeat(64), bytes: 1 };
      writeFileSync(join(folder, 'policy.json'), JSON.stringify(manifest));
      const refused = await pricelab('policy', 'register', folder, '--reason', 'x');
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/plain file name|manifest itself/);
      rmSync(folder, { recursive: true, force: true });
      expect(existsSync(join(home, 'policies', 'hostile')) ? readdirSync(join(home, 'policies', 'hostile')) : []).toEqual([]);
    }
  }, 180_000);

  it('removes an alias and retires a policy (audited); audit --verify checks the hash chain (exit 4 naming the first broken entry)', async () => {
    const own = join(scratch, 'home-retire');
    const here = (...args: string[]) => cliWith({ PRICELAB_HOME: own }, ...args);
    expect((await here('policy', 'register', good, '--reason', 'v1')).code).toBe(0);
    expect((await here('policy', 'promote', 'everyday@1', '--to', 'staging', '--reason', 'try')).code).toBe(0);
    const removed = await here('policy', 'alias', 'remove', 'everyday', 'staging', '--reason', 'trial over', '--actor', 'ben', '--json');
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ name: 'everyday', alias: 'staging', removed: 1 });
    expect((await here('policy', 'alias', 'remove', 'everyday', 'staging', '--reason', 'again')).code).toBe(3);
    expect((await here('policy', 'alias', 'remove', 'everyday', 'prod', '--reason', 'typo')).code).toBe(2);
    expect((await here('policy', 'alias', 'remove', 'everyday', 'staging')).code).toBe(2); // --reason is required

    expect((await here('policy', 'promote', 'everyday@1', '--to', 'candidate', '--reason', 'again')).code).toBe(0);
    const retired = await here('policy', 'retire', 'everyday', '--reason', 'replaced', '--actor', 'cat', '--json');
    expect(retired.code).toBe(0);
    expect(JSON.parse(retired.stdout)).toEqual({ name: 'everyday', retired: true, removedAliases: { candidate: 1 } });
    const promoteRetired = await here('policy', 'promote', 'everyday@1', '--to', 'staging', '--reason', 'back');
    expect(promoteRetired.code).toBe(2);
    expect(promoteRetired.stderr).toMatch(/retired/);
    expect(JSON.parse((await here('policy', 'list', '--json')).stdout)).toEqual({ policies: [{ name: 'everyday', versions: 1, aliases: {}, retired: true }] });
    expect((await here('policy', 'show', 'everyday')).stdout).toMatch(/everyday is retired .* by cat: replaced/);
    const audit = JSON.parse((await here('policy', 'audit', 'everyday', '--json')).stdout) as { entries: { action: string; actor: string }[] };
    expect(audit.entries.map((entry) => entry.action)).toEqual(['register', 'promote', 'alias-remove', 'promote', 'alias-remove', 'retire']);

    const verified = await here('policy', 'audit', 'everyday', '--verify');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/audit log verified: 6 entries/);
    // The log follows the check (the README's 'who moved what, when and why; the hash chain checked').
    expect(verified.stdout).toMatch(/retire\s+everyday\s+-\s+replaced/);
    // Edit entry 3 behind the registry's back (triggers dropped): --verify names it, every other command refuses.
    const db = new Database(databasePath(own));
    db.exec("DROP TRIGGER policy_audit_append_only_update; UPDATE policy_audit SET actor = 'nobody' WHERE id = 3;");
    db.close();
    const broken = await here('policy', 'audit', '--verify');
    expect(broken.code).toBe(4);
    expect(broken.stderr).toMatch(/broken at entry #3/);
    expect((await here('policy', 'list')).code).toBe(4);
  }, 300_000);
});
