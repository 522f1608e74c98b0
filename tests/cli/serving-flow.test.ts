/**
 * The serving path as a deployment pipeline runs it from a fresh PRICELAB_HOME, with small
 * budgets, command by command as README.md's serving section writes them:
 *
 *   train (a clearance policy: 17.99, then 14.99 for the last 2 days) -> register as v1 ->
 *   compare against the best fixed price (evidence holding the registered version, recorded
 *   in the store) -> promote with the shipped gates -> promote again (a no-op) -> train and
 *   register v2 (the last 3 days) -> compare against production v1 -> promote -> serve ->
 *   rollback (picked up by the running server without a restart) -> audit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnv } from '../../env/env.js';
import { loadScenario } from '../../scenarios/load.js';
import { cliWith, ensureBuilt, main, root } from '../fixtures/cli.js';
import { postJson } from '../fixtures/serving.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-serving-flow-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 300_000);

const home = join(scratch, 'home');
const runs = join(scratch, 'runs');
const environment = { PRICELAB_HOME: home };

async function pricelab(...args: string[]): Promise<string> {
  const result = await cliWith(environment, ...args);
  expect(result.code, `pricelab ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The features a client sends on the day with `daysLeft` days left (today included), steady-state-v1, seed 1. */
function requestWithDaysLeft(daysLeft: number): { features: Record<string, number>; lastPrice: number } {
  const env = makeEnv(loadScenario('steady-state-v1').scenario);
  const space = env.observationSpace;
  const daysLeftIndex = space.featureNames.indexOf('daysLeft');
  let { observation } = env.reset({ seed: 1 });
  const unscaled = () => Object.fromEntries(space.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (space.scales[index] ?? 1)]));
  while (Math.round((observation[daysLeftIndex] ?? 0) * (space.scales[daysLeftIndex] ?? 1)) > daysLeft) observation = env.step(Math.floor(env.actionSpace.n / 2)).observation;
  const features = unscaled();
  return { features, lastPrice: features.lastPrice ?? 17.99 };
}

async function startServe(): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, [main, 'serve', '--port', '0'], { cwd: root, env: { ...process.env, ...environment, NO_COLOR: '1' } });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /pricelab serving on (http:\/\/\S+)/.exec(output);
      if (found?.[1]) resolve(found[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${errors}`)));
  });
  return { child, url };
}

describe('the serving flow of the README', () => {
  it('registers, compares, promotes with the shipped gates, serves, and rolls back', async () => {
    const v1 = join(runs, 'clear2', 'policy');
    const v2 = join(runs, 'clear3', 'policy');
    await pricelab('train', 'steady-state-v1', '--agent', 'phased', '--config', 'scenarios/agent-configs/clearance-2d-steady-state-v1.json', '--steps', '365', '--out', join(runs, 'clear2'));
    expect(await pricelab('policy', 'register', v1, '--name', 'everyday', '--reason', 'clearance over the last 2 days')).toMatch(/registered everyday@1/);
    await pricelab('compare', 'steady-state-v1', '--agents', `base=fixed:17.99,candidate=${v1}`, '--seeds', '100', '--episodes', '1', '--json', join(runs, 'v1-vs-fixed.json'));
    expect(JSON.parse(await pricelab('policy', 'gates', 'show', 'everyday', '--json'))).toMatchObject({ source: expect.stringMatching(/shipped defaults/), gates: { baseline: { 'steady-state-v1': 'fixed:17.99' } } });

    const first = await pricelab('policy', 'promote', 'everyday@1', '--to', 'production', '--evidence', join(runs, 'v1-vs-fixed.json'), '--reason', 'beats the best fixed price');
    expect(first).toMatch(/^pass +primary-kpi: totalReward better on steady-state-v1$/m);
    expect(first).toMatch(/^pass +guardrail-kpis: .*priceChanges 1\.00 <= 30\.0/m);
    expect(first).toMatch(/everyday@production: none -> v1/);
    expect(await pricelab('policy', 'promote', 'everyday@1', '--to', 'production', '--evidence', join(runs, 'v1-vs-fixed.json'), '--reason', 'again')).toMatch(/everyday@production is already v1: nothing to do/);

    await pricelab('train', 'steady-state-v1', '--agent', 'phased', '--config', 'scenarios/agent-configs/clearance-3d-steady-state-v1.json', '--steps', '365', '--out', join(runs, 'clear3'));
    expect(await pricelab('policy', 'register', v2, '--name', 'everyday', '--reason', 'clearance over the last 3 days')).toMatch(/registered everyday@2/);
    await pricelab('compare', 'steady-state-v1', '--agents', `production=${v1},candidate=${v2}`, '--seeds', '100', '--episodes', '1', '--json', join(runs, 'v2-vs-v1.json'));
    expect(await pricelab('policy', 'promote', 'everyday@2', '--to', 'production', '--evidence', join(runs, 'v2-vs-v1.json'), '--reason', 'clears stock a day earlier')).toMatch(/everyday@production: v1 -> v2/);

    const { child, url } = await startServe();
    try {
      // Three days left: v2 is clearing at 14.99, v1 still holds 17.99.
      const request = requestWithDaysLeft(3);
      const served = await postJson(`${url}/v1/policies/everyday/price`, request);
      expect(served.status).toBe(200);
      expect(served.json).toMatchObject({ price: 14.99, policy: { name: 'everyday', version: 2 } });

      expect(await pricelab('policy', 'rollback', 'everyday', '--reason', 'returns up')).toMatch(/everyday@production: v2 -> v1/);
      let after = served;
      for (let attempt = 0; attempt < 100 && (after.json.policy as { version?: number } | undefined)?.version !== 1; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = await postJson(`${url}/v1/policies/everyday/price`, request);
      }
      expect(after.json).toMatchObject({ price: 17.99, policy: { name: 'everyday', version: 1 } });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    const audit = JSON.parse(await pricelab('policy', 'audit', 'everyday', '--json')) as { entries: { action: string; version: number | null }[] };
    expect(audit.entries.map((entry) => `${entry.action} ${entry.version}`)).toEqual(['register 1', 'promote 1', 'register 2', 'promote 2', 'rollback 1']);
  }, 240_000);

  it('stores gates per policy name (validated, audited); gates show names them as what a promotion without --gates uses', async () => {
    const other = { PRICELAB_HOME: join(scratch, 'gates-home') };
    const gatesFile = join(scratch, 'gates.json');
    writeFileSync(gatesFile, JSON.stringify({ baseline: 'fixed:16.99', guardrailMargins: { priceChanges: { absolute: 5 } } }));
    const stored = await cliWith(other, 'policy', 'gates', 'set', 'everyday', gatesFile, '--reason', 'our floor', '--actor', 'ci');
    expect(stored.code, stored.stderr).toBe(0);
    // A name neither registered nor given gates is refused, not answered with the defaults.
    const unknown = await cliWith(other, 'policy', 'gates', 'show', 'everday', '--json');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no policy named "everday" is registered and no gates are stored for it');
    const shown = await cliWith(other, 'policy', 'gates', 'show', 'everyday', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ source: expect.stringMatching(/the registry \(set .* by ci\)/), gates: { baseline: 'fixed:16.99', guardrailMargins: { priceChanges: { absolute: 5 } } } });
    const audit = JSON.parse((await cliWith(other, 'policy', 'audit', 'everyday', '--json')).stdout) as { entries: { action: string; actor: string }[] };
    expect(audit.entries).toMatchObject([{ action: 'set-gates', actor: 'ci' }]);
    writeFileSync(gatesFile, JSON.stringify({ guardrailMargins: { priceChanges: 0.25 } }));
    const refused = await cliWith(other, 'policy', 'gates', 'set', 'everyday', gatesFile, '--reason', 'bare number');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/gates\.guardrailMargins\.priceChanges/);
  }, 60_000);
});
