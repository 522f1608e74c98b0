/**
 * The tutorial of docs/calibration.md runs as written: every JSON block is written to the
 * file the step names (in backticks before it), and every `pricelab` command of its code
 * blocks runs through the built CLI in a scratch folder, in order, and exits 0 (the data
 * folder `../shared/data/orangejuice/` pointed at the real one). The last command is the
 * comparison against the shop's own prices (run with --json added, to read its arms back).
 * Skipped, with the reason in its name, when the orange-juice data are absent. Slow: the
 * calibration of the 106,139-row file dominates (about 20 s on an idle machine).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, main, root } from '../fixtures/cli.js';

const page = readFileSync(new URL('../../docs/calibration.md', import.meta.url), 'utf8');
const dataFolder = resolve(root, '../shared/data/orangejuice');
const hasData = existsSync(join(dataFolder, 'orangejuice.csv.gz'));

/** The tutorial section: from its heading to the next `## ` heading. */
function tutorial(): string {
  const start = page.indexOf('## Tutorial');
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

interface Step {
  readonly kind: 'file' | 'command';
  /** The file name, or the command's arguments after `pricelab`. */
  readonly name: string;
  readonly content: string;
}

/** Words of a command line: blanks split, double or single quotes group. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

/** The tutorial's JSON files and pricelab commands, in order. */
function steps(text: string): Step[] {
  const found: Step[] = [];
  for (const block of text.matchAll(/```(json)?\n([\s\S]*?)```/g)) {
    const body = (block[2] ?? '').replace(/^ {3}/gm, '');
    if (block[1] === 'json') {
      const before = text.slice(0, block.index);
      const names = [...before.matchAll(/`([\w.-]+\.json)`/g)];
      found.push({ kind: 'file', name: names.at(-1)?.[1] ?? '', content: body });
      continue;
    }
    for (const line of body.replace(/\\\n\s*/g, ' ').split('\n')) {
      if (line.trim().startsWith('pricelab ')) found.push({ kind: 'command', name: line.trim(), content: line.trim() });
    }
  }
  return found;
}

describe('docs/calibration.md tutorial', () => {
  it('names a file before each JSON block and ends with the comparison against historical prices and Q-learning', () => {
    const found = steps(tutorial());
    expect(found.filter((step) => step.kind === 'file').map((step) => step.name)).toEqual(['tropicana.json', 'tropicana-store2.json']);
    for (const step of found.filter((entry) => entry.kind === 'file')) expect(() => JSON.parse(step.content) as unknown).not.toThrow();
    const last = found.at(-1);
    expect(last?.kind).toBe('command');
    expect(last?.content).toMatch(/^pricelab compare tropicana-v1\.json .*--agents \S*historical:\S+,q-learning/);
    for (const budget of ['--seeds', '--episodes', '--steps']) expect(last?.content).toContain(budget);
  });
});

describe.skipIf(!hasData)(hasData ? 'the tutorial on the orange-juice data' : `the tutorial on the orange-juice data (skipped: no ${dataFolder})`, () => {
  const folder = mkdtempSync(join(tmpdir(), 'pricelab-tutorial-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  beforeAll(() => ensureBuilt());

  const run = (args: readonly string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, [main, ...args], { cwd: folder, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', PRICELAB_HOME: join(folder, 'home') } }, (error, stdout, stderr) =>
        done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
      );
    });

  it('runs every command as written, in order', async () => {
    const found = steps(tutorial());
    const lastCommand = found.filter((step) => step.kind === 'command').at(-1);
    let last: { code: number; stdout: string; stderr: string } | undefined;
    for (const step of found) {
      if (step.kind === 'file') {
        writeFileSync(join(folder, step.name), step.content);
        continue;
      }
      const args = words(step.content.replaceAll('../shared/data/orangejuice/', `${dataFolder}/`)).slice(1);
      // The last command (the comparison) also prints its JSON summary, to be read back.
      last = await run(step === lastCommand ? [...args, '--json'] : args);
      expect(last.code, `${step.content}\n${last.stderr}`).toBe(0);
    }
    const parsed = JSON.parse(last?.stdout ?? '') as { arms: { name: string; kind: string; config: { lengthDays?: number; periodLength?: string } }[] };
    expect(parsed.arms.map((arm) => [arm.name, arm.kind])).toEqual([
      ['store-2', 'historical-replay'],
      ['q-learning', 'q-learning'],
    ]);
    // 121 weeks of 7 days: the calibrated horizon, played once.
    expect(parsed.arms[0]?.config).toMatchObject({ periodLength: 'week', lengthDays: 847 });
  }, 600_000);
});
