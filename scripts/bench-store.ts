/**
 * Store write and poll latency, SQLite (the embedded default) against PostgreSQL (a server
 * of this script's own, started as the tests start theirs: tests/fixtures/postgres.ts), in
 * one run: per operation, the median and 95th percentile in milliseconds over `count`
 * repetitions. Prints JSON.
 *
 *   npx tsx scripts/bench-store.ts [count]
 *
 * Operations: a sweep run's life (registerRuns of one run, markRunning, finishRun with 12
 * metrics and 5 evaluation episodes), recordComparison, and the registry's changeCount
 * (what every serve replica polls) and moveAlias (a promotion: one locked transaction with
 * its audit entry).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreLocation } from '../core/store-url.js';
import { openResultsStore } from '../experiments/store-backend.js';
import { openPolicyRegistry } from '../serving/registry-backend.js';
import { startPostgres } from '../tests/fixtures/postgres.js';
import { trainedPolicyArtifact } from '../tests/fixtures/policy-artifact.js';

const count = Number(process.argv[2] ?? 200);

function summary(samples: number[]): { medianMs: number; p95Ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { medianMs: Number(at(0.5).toFixed(3)), p95Ms: Number(at(0.95).toFixed(3)) };
}

async function timed(samples: number[], call: () => unknown): Promise<void> {
  const started = performance.now();
  await call();
  samples.push(performance.now() - started);
}

async function measure(location: StoreLocation, artifact: string): Promise<Record<string, { medianMs: number; p95Ms: number }>> {
  const store = await openResultsStore(location);
  const samples: Record<string, number[]> = { registerRun: [], markRunning: [], finishRun: [], recordComparison: [], changeCount: [], moveAlias: [] };
  const metrics = Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`eval/metric${index}`, index * 1.5]));
  const evaluations = Array.from({ length: 5 }, (_, episode) => ({ episode, seed: 500 + episode, totalReward: 100 + episode, kpis: { profit: 10, units: 3, priceChanges: 1 } }));
  for (let index = 0; index < count; index++) {
    const id = `bench-${index}`;
    await timed(samples.registerRun!, () => store.registerRuns([{ id, experiment: 'bench', scenario: { id: 'steady-state-v1', contentHash: 'a'.repeat(64) }, agent: { name: 'q', kind: 'q-learning', config: {} }, seed: index, manifest: {} }]));
    await timed(samples.markRunning!, () => store.markRunning(id));
    await timed(samples.finishRun!, () => store.finishRun(id, { manifest: { done: true }, metrics, evaluations }));
    await timed(samples.recordComparison!, () => store.recordComparison({ scenario: 's', arms: ['a', 'b'], baseline: 'a', summary: { index, verdict: 'better' } }));
  }
  await store.close();
  const registry = await openPolicyRegistry(location);
  await registry.register(artifact, { reason: 'bench', actor: 'bench' });
  for (let index = 0; index < count; index++) {
    await timed(samples.changeCount!, () => registry.changeCount());
    await timed(samples.moveAlias!, () => registry.moveAlias('everyday', 1, index % 2 === 0 ? 'staging' : 'candidate', { reason: 'bench', actor: 'bench' }));
  }
  await registry.close();
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summary(values)]));
}

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-bench-store-'));
const server = await startPostgres();
try {
  const artifact = (await trainedPolicyArtifact(scratch, { steps: 500 })).folder;
  const sqlite = await measure({ kind: 'sqlite', home: join(scratch, 'home') }, artifact);
  const postgres = await measure({ kind: 'postgres', url: await server.database(), home: join(scratch, 'artifacts') }, artifact);
  process.stdout.write(`${JSON.stringify({ count, loadAverage: loadavg().map((value) => Number(value.toFixed(2))), sqlite, postgres }, null, 2)}\n`);
} finally {
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
}
