/**
 * `pricelab bench queue` end to end on this machine: it starts its own redis-server and
 * worker processes, measures the local-thread reference in the same run, and reports the
 * overhead per job, runs per second with 1, 2 and 4 worker processes, and a scaling model
 * whose predictions follow from its own measured job time (a relation, not a fixed figure).
 */
import { describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../fixtures/cli.js';

interface BenchQueue {
  readonly runs: number;
  readonly msPerRun: { readonly local: number; readonly queue: number };
  readonly overheadPerJobMs: number;
  readonly storeWriteMs: number;
  readonly throughput: readonly { readonly workers: number; readonly runsPerSecond: number }[];
  readonly identicalResults: boolean;
  readonly scalingModel: { readonly jobSeconds: number; readonly submitterCeilingRunsPerSecond: number; readonly predicted: readonly { readonly machines: number; readonly coresEach: number; readonly runsPerSecond: number }[] };
}

describe('pricelab bench queue', () => {
  it('measures the queue beside local threads, stores identical results, and predicts from its own job time', async () => {
    ensureBuilt();
    const result = await cli('bench', 'queue', '--runs', '2', '--repetitions', '1', '--json');
    expect(result.code, result.stderr).toBe(0);
    const bench = JSON.parse(result.stdout) as BenchQueue;
    expect(bench.runs).toBe(2);
    expect(bench.identicalResults).toBe(true);
    expect(bench.msPerRun.local).toBeGreaterThan(0);
    expect(bench.msPerRun.queue).toBeGreaterThan(0);
    expect(bench.overheadPerJobMs).toBeCloseTo(bench.msPerRun.queue - bench.msPerRun.local, 6);
    expect(bench.storeWriteMs).toBeGreaterThan(0);
    expect(bench.throughput.map((row) => row.workers)).toEqual([1, 2, 4]);
    for (const row of bench.throughput) expect(row.runsPerSecond).toBeGreaterThan(0);
    for (const prediction of bench.scalingModel.predicted) {
      const expected = Math.min((prediction.machines * prediction.coresEach) / bench.scalingModel.jobSeconds, bench.scalingModel.submitterCeilingRunsPerSecond);
      expect(prediction.runsPerSecond).toBeCloseTo(expected, 6);
    }
  }, 120_000);
});
