/**
 * `pricelab bench startup` measures what it says: one sample of each item per round, the
 * sweep worker's first task refused for its missing scenario (not failing to load), and a
 * baseline build measured beside this one. Not a timing test: no figure is asserted.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cli, ensureBuilt, root } from '../fixtures/cli.js';

describe('pricelab bench startup', () => {
  it('prints JSON with the references and each build, one sample per round (one round)', async () => {
    ensureBuilt();
    const { code, stdout, stderr } = await cli('bench', 'startup', '--runs', '1', '--baseline', join(root, 'dist'));
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      benchmark: string;
      runs: number;
      loadAverage: { before: number[]; after: number[] };
      reference: Record<'process' | 'workerThread', { samplesMs: number[]; medianMs: number }>;
      builds: { dist: string; help: { samplesMs: number[] }; sweepWorker: { samplesMs: number[] }; helpOverProcessMs: number }[];
    };
    expect(report.benchmark).toBe('startup');
    expect(report.loadAverage.before).toHaveLength(3);
    expect(report.reference.process.samplesMs).toHaveLength(1);
    expect(report.reference.workerThread.samplesMs).toHaveLength(1);
    expect(report.builds).toHaveLength(2);
    for (const build of report.builds) {
      expect(build.help.samplesMs).toHaveLength(1);
      expect(build.sweepWorker.samplesMs.every((sample) => sample > 0)).toBe(true);
      expect(Number.isFinite(build.helpOverProcessMs)).toBe(true);
    }
  }, 120_000);

  it('refuses a baseline that is not a build', async () => {
    ensureBuilt();
    const { code, stderr } = await cli('bench', 'startup', '--runs', '1', '--baseline', join(root, 'docs'));
    expect(code).toBe(2);
    expect(stderr).toContain('no cli/main.js in');
  }, 60_000);
});
