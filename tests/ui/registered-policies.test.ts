/**
 * Registered policies in the dashboard (issues 13.1 and 14.1): a policy trained on the
 * user's own scenario file runs in the dashboard after the file is gone (the version
 * carries its scenario), listed under that scenario; it runs only on that scenario; an
 * edited registered version is refused (its content hash is checked against the registry
 * at every load); artifacts load from the runs folder only.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { builtInScenarioFolder } from '../../scenarios/load.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { dashboardClient, daysIn } from './dashboard-client.js';

let server: DashboardServer;
let home: string;
let runs: string;
let artifactFolder: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-registered-'));
  runs = join(home, 'runs');
  mkdirSync(runs);
  const scenarioFile = join(home, 'my-coffee.json');
  const base = JSON.parse(readFileSync(join(builtInScenarioFolder, 'steady-state-v1.json'), 'utf8')) as { id: string };
  writeFileSync(scenarioFile, JSON.stringify({ ...base, id: 'my-coffee-v1' }, null, 2));
  const trained = await trainedPolicyArtifact(runs, { name: 'coffee', steps: 600, scenario: scenarioFile });
  trained.agent.dispose();
  artifactFolder = trained.folder;
  const registry = PolicyRegistry.open(home);
  registry.register(trained.folder, { name: 'coffee', reason: 'dashboard test', actor: 'suite' });
  registry.register(trained.folder, { name: 'tampered', reason: 'dashboard test', actor: 'suite' });
  registry.close();
  rmSync(scenarioFile); // the user's file is gone: the versions carry it
  server = await startDashboard({ port: 0, resultsHome: home, runsFolder: runs });
}, 60_000);

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

describe('registered policies in the dashboard', () => {
  it("lists the user's scenario a registered policy carries, and the policies trained on it", async () => {
    const scenarios = (await (await fetch(`${server.url}/api/scenarios`)).json()) as { id: string; horizon: number }[];
    expect(scenarios.find((scenario) => scenario.id === 'my-coffee-v1')?.horizon).toBeGreaterThan(0);
    const policies = (await (await fetch(`${server.url}/api/policies?scenario=my-coffee-v1`)).json()) as { rules: string[]; registered: { spec: string }[] };
    expect(policies.registered.map((policy) => policy.spec)).toEqual(expect.arrayContaining(['registry:coffee@1', 'registry:tampered@1']));
    const onBuiltIn = (await (await fetch(`${server.url}/api/policies?scenario=steady-state-v1`)).json()) as { registered: { spec: string }[] };
    expect(onBuiltIn.registered).toEqual([]);
  });

  it("runs a policy trained on the user's own scenario file, alone and against a rule, after the file is gone", async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'my-coffee-v1', policies: ['registry:coffee@1'], seed: 2 });
      client.socket.emit('step', { days: 3 });
      await client.until((received) => daysIn(received.frames) === 3);
      expect(client.received.problems).toEqual([]);
      const state = client.received.sessions.at(-1);
      expect(state?.scenario.id).toBe('my-coffee-v1');
      expect(state?.arms[0]?.agentKind).toBe('q-learning');

      client.socket.emit('configure', { scenario: 'my-coffee-v1', policies: ['registry:coffee@1', 'fixed:17.99'], seed: 2 });
      client.socket.emit('step', { days: 4 });
      await client.until((received) => received.sessions.at(-1)?.arms.length === 2 && daysIn(received.frames, 1) === 4);
      expect(client.received.problems).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('refuses to run it on another scenario, and refuses an edited registered version naming it', async () => {
    const registry = PolicyRegistry.open(home);
    const version = registry.resolve('tampered@1');
    registry.close();
    const manifestPath = join(version.path, 'policy.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { guardrails: { maxPrice?: number } };
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, guardrails: { ...manifest.guardrails, maxPrice: 99 } }, null, 2));
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'steady-state-v1', policies: ['registry:coffee@1'], seed: 1 });
      await client.until((received) => received.problems.length === 1);
      expect(client.received.problems[0]?.problems[0]?.message).toContain('trained on my-coffee-v1');
      client.socket.emit('configure', { scenario: 'my-coffee-v1', policies: ['registry:tampered@1'], seed: 1 });
      await client.until((received) => received.problems.length === 2);
      expect(client.received.problems[1]?.message).toContain('tampered@1');
      expect(client.received.sessions.at(-1)?.scenario.id).toBe('singles-day-v1'); // the default session is kept
    } finally {
      client.close();
    }
  });

  it('loads an artifact from the runs folder by a path relative to it', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'my-coffee-v1', policies: [`artifact:${relative(runs, artifactFolder)}`], seed: 1 });
      client.socket.emit('step', { days: 2 });
      await client.until((received) => daysIn(received.frames) === 2);
      expect(client.received.problems).toEqual([]);
    } finally {
      client.close();
    }
  });
});
