/**
 * `pricelab sample-size`: in process for the answers and the errors (exit 2, naming the
 * option), and once through the built command.
 */
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSampleSize, solveSampleSize } from '../../../cli/commands/sample-size.js';
import { cli, ensureBuilt } from '../../fixtures/cli.js';


async function runInProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const program = new Command('pricelab')
    .exitOverride()
    .configureOutput({ writeOut: (text) => (stdout += text), writeErr: (text) => (stderr += text) });
  registerSampleSize(program);
  process.exitCode = 0;
  let code: number;
  try {
    await program.parseAsync(args, { from: 'user' });
    code = Number(process.exitCode ?? 0);
  } catch {
    code = 2; // cli/main.ts maps every commander usage error to exit 2 (bad input)
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = 0;
  }
  return { code, stdout, stderr };
}

afterEach(() => {
  process.exitCode = 0;
});

describe('pricelab sample-size', () => {
  it('gives the MDE at --n (R: power.t.test(n = 20, sd = 1, power = 0.8) -> 0.909)', async () => {
    const result = await runInProcess('sample-size', '--sd', '1', '--n', '20', '--json');
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { effect: number; solvedFor: string; n: number };
    expect(answer.solvedFor).toBe('effect');
    expect(answer.n).toBe(20);
    expect(Math.abs(answer.effect - 0.9091587)).toBeLessThan(1e-4);
  });

  it('gives the seeds needed for --effect (R: power.t.test(power = .9, delta = 1) -> n = 22.02, so 23)', async () => {
    const result = await runInProcess('sample-size', '--sd', '1', '--effect', '1', '--power', '0.9');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^n = 23 seeds per arm/);
  });

  it('paired: pairs of seeds', () => {
    const answer = solveSampleSize({ sd: 1, n: 20, alpha: 0.05, power: 0.8, paired: true });
    expect(answer.design).toBe('paired');
    expect(Math.abs(answer.effect - 0.6604413)).toBeLessThan(1e-4);
    expect(answer.achievedPower).toBeCloseTo(0.8, 9);
  });

  it.each([
    [['--sd', '-1', '--n', '5'], '--sd'],
    [['--sd', 'abc', '--n', '5'], '--sd'],
    [['--sd', '1', '--n', '1'], '--n'],
    [['--sd', '1', '--n', '5', '--alpha', '1.5'], '--alpha'],
    [['--sd', '1', '--effect', '0'], '--effect'],
    [['--n', '5'], '--sd'],
  ])('exits 2 on %j, naming %s', async (args, option) => {
    const result = await runInProcess('sample-size', ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(option);
  });

  it('exits 2 when given neither or both of --effect and --n, naming them', async () => {
    for (const args of [['--sd', '1'], ['--sd', '1', '--n', '5', '--effect', '1']]) {
      const result = await runInProcess('sample-size', ...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--effect.*--n/);
    }
  });

  it('runs from the built pricelab command', async () => {
    ensureBuilt();
    const result = await cli('sample-size', '--sd', '1', '--n', '20', '--json');
    expect(result.code).toBe(0);
    expect(Math.abs((JSON.parse(result.stdout) as { effect: number }).effect - 0.9091587)).toBeLessThan(1e-4);
    expect((await cli('sample-size', '--sd', '-1', '--n', '20')).code).toBe(2);
  }, 30_000);
});
