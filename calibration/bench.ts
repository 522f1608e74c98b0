/**
 * The calibration benchmark (`pricelab bench calibration`, or `npx tsx calibration/bench.ts`):
 * prints JSON. Each measurement runs in its own child process, one after another, pinned to
 * one core (`taskset -c 0` when the system has it, and a libuv pool of one thread), so its
 * peak resident set size (maxRSS) and CPU time are its own:
 *   - the whole orange-juice file (../shared/data/orangejuice, 106,139 rows; Tropicana
 *     Premium 64 oz in 83 stores, its ten rivals, feature and deal: 9,649 rows used),
 *     calibrated as `pricelab calibrate` does;
 *   - synthetic logs of `growthRows` (default 250,000) and `rows` (default 1,000,000) rows
 *     (50 stores, daily periods, two rival prices, one promotion, traffic), drawn from the
 *     logit model with known parameters and a seeded stream, written gzipped to a temporary
 *     folder first (not timed), then calibrated; the estimates are printed beside the truth.
 *     The two sizes show how memory grows with the rows.
 * The reference, measured in the same run on the same rows (no Python peer for calibration
 * exists in ../shared/bench/peers): the standard log-log regression with store fixed
 * effects (log units on log own price, promotions, log rival prices; ordinary least squares
 * by the normal equations, within-store demeaned, solved with ml-matrix), reading the same
 * file with the same reader and two passes over its blocks: what a pricing scientist would
 * otherwise run, and a floor (reading the file is most of its time).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { Matrix, solve } from 'ml-matrix';
import { RandomStream } from '../core/random.js';
import { poissonFromUniform } from '../env/sampling.js';
import { calibrateFile } from './calibrate.js';
import { parseColumnMap, type ColumnMap, type ColumnMapInput } from './column-map.js';
import { logitShare } from './logit-poisson.js';
import { readSales, type SalesData } from './reader.js';
import { salesBlocks, type SalesBlock } from './sales-blocks.js';

/** The synthetic market's true parameters: quality, sensitivity, promotion lift, two rival qualities. */
export const syntheticTruth = { quality: 2, priceSensitivity: 0.35, lift: 0.6, rivalQualities: [1.5, 2.2] } as const;

/** Writes a gzipped CSV of `rows` rows drawn from the logit model, streaming (constant memory). */
export async function writeSyntheticLog(path: string, rows: number, seed = 1): Promise<void> {
  const stores = 50;
  const uniform = new RandomStream(seed, 'synthetic-sales');
  const gzip = createGzip();
  const file = createWriteStream(path);
  gzip.pipe(file);
  const rivalPrices = Array.from({ length: stores }, () => [9.5, 12]);
  const theta = [syntheticTruth.quality, syntheticTruth.priceSensitivity, syntheticTruth.lift, ...syntheticTruth.rivalQualities];
  let chunk = ['date,store,units,price,promo,traffic,rival_a,rival_b'];
  const start = Date.UTC(2020, 0, 1);
  for (let row = 0; row < rows; row++) {
    const store = row % stores;
    const day = Math.floor(row / stores);
    const price = 8 + Math.floor(uniform.next() * 13) * 0.5;
    const promo = uniform.next() < 0.1 ? 1 : 0;
    const rivals = rivalPrices[store]!;
    rivals[0] = Math.min(13, Math.max(7, (rivals[0] ?? 9.5) + (uniform.next() - 0.5)));
    rivals[1] = Math.min(16, Math.max(9, (rivals[1] ?? 12) + (uniform.next() - 0.5)));
    const traffic = 100 + 4 * store;
    const units = poissonFromUniform(traffic * logitShare(theta, price, [promo], rivals), uniform.next());
    const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10);
    chunk.push(`${date},${store},${units},${price},${promo},${traffic},${(rivals[0] ?? 0).toFixed(2)},${(rivals[1] ?? 0).toFixed(2)}`);
    if (chunk.length >= 10_000) {
      if (!gzip.write(`${chunk.join('\n')}\n`)) await once(gzip, 'drain');
      chunk = [];
    }
  }
  gzip.end(chunk.length > 0 ? `${chunk.join('\n')}\n` : '');
  await once(file, 'close');
}

const syntheticMap: ColumnMapInput = { date: 'date', units: 'units', price: 'price', promotions: ['promo'], traffic: 'traffic', store: 'store', rivalPrices: ['rival_a', 'rival_b'] };
const orangeJuiceMap: ColumnMapInput = {
  period: 'week',
  logUnits: 'logmove',
  price: 'price1',
  rivalPrices: Array.from({ length: 10 }, (_, index) => `price${index + 2}`),
  promotions: ['feat', 'deal'],
  store: 'store',
  product: 'brand',
  filter: { brand: 1 },
};

/**
 * The reference estimator: log(units + 0.5) on log own price, promotions and log rival
 * prices with store fixed effects (within-store demeaning), ordinary least squares by the
 * normal equations (ml-matrix solve). Returns the own-price elasticity.
 */
export function logLogFixedEffects(sales: SalesData): number {
  const stores = sales.storeNames.length;
  const promotionCount = sales.promotionNames.length;
  const columns = 2 + promotionCount + sales.rivalNames.length;
  // Two passes over the blocks (calibration/sales-blocks.ts): the store means, then the within-store normal equations.
  const value = (block: SalesBlock, column: number, row: number): number => {
    if (column === 0) return Math.log((block.units[row] ?? 0) + 0.5);
    if (column === 1) return Math.log(block.price[row] ?? 1);
    if (column < 2 + promotionCount) return block.promotions[column - 2]?.[row] ?? 0;
    return Math.log(block.rivalPrices[column - 2 - promotionCount]?.[row] ?? 1);
  };
  const sums = new Float64Array(stores * columns);
  const counts = new Float64Array(stores);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const store = block.store[row] ?? 0;
      counts[store] = (counts[store] ?? 0) + 1;
      for (let column = 0; column < columns; column++) sums[store * columns + column] = (sums[store * columns + column] ?? 0) + value(block, column, row);
    }
  }
  const regressors = columns - 1;
  const xtx = Matrix.zeros(regressors, regressors);
  const xty = Matrix.zeros(regressors, 1);
  const centred = new Float64Array(columns);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const store = block.store[row] ?? 0;
      for (let column = 0; column < columns; column++) centred[column] = value(block, column, row) - (sums[store * columns + column] ?? 0) / (counts[store] ?? 1);
      for (let p = 0; p < regressors; p++) {
        const left = centred[p + 1] ?? 0;
        xty.set(p, 0, xty.get(p, 0) + left * (centred[0] ?? 0));
        for (let q = 0; q < regressors; q++) xtx.set(p, q, xtx.get(p, q) + left * (centred[q + 1] ?? 0));
      }
    }
  }
  return solve(xtx, xty, true).get(0, 0);
}

type Task = { readonly kind: 'calibrate' | 'reference'; readonly file: string; readonly map: ColumnMapInput; readonly period: 'day' | 'week' };

/** One measurement, in this process: wall and CPU seconds, peak RSS, and what was estimated. */
async function measure(task: Task): Promise<Record<string, unknown>> {
  const map: ColumnMap = parseColumnMap(task.map, 'bench map');
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let figures: Record<string, unknown>;
  if (task.kind === 'reference') {
    const sales = await readSales(task.file, { map });
    const readSeconds = (performance.now() - started) / 1000;
    const elasticity = logLogFixedEffects(sales);
    figures = { rowsUsed: sales.rows, rowsInFile: sales.rowsRead, readSeconds, elasticity };
  } else {
    const result = await calibrateFile(task.file, { map, periodLength: task.period });
    figures = {
      rowsUsed: result.record.source.rows,
      rowsInFile: result.record.source.rowsRead,
      likelihood: result.fit.likelihood,
      meanElasticity: result.meanElasticity,
      holdoutWape: result.holdout?.wape,
      estimates: result.record.estimates
        .filter((estimate) => /^(quality|priceSensitivity|lift:|rivalQuality:)/.test(estimate.parameter))
        .map((estimate) => ({ parameter: estimate.parameter, value: estimate.value, lower: estimate.lower, upper: estimate.upper })),
      storesPooled: result.pooling?.stores,
    };
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { ...figures, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakMegabytes: Math.round(process.resourceUsage().maxRSS / 1024) };
}

const thisFile = fileURLToPath(import.meta.url);

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs one task in a child process (pinned to core 0 when taskset exists) and returns its JSON. */
function inChild(task: Task, pinned: boolean): Record<string, unknown> {
  const node = [...process.execArgv, thisFile, '--task', JSON.stringify(task)];
  const [command, args] = pinned ? ['taskset', ['-c', '0', process.execPath, ...node]] : [process.execPath, node];
  const child = spawnSync(command, args as string[], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
  if (child.status !== 0) return { error: (child.stderr || child.stdout || `exit ${child.status}`).trim().split('\n').slice(-5).join('\n') };
  return JSON.parse(child.stdout) as Record<string, unknown>;
}

export interface CalibrationBench {
  readonly machine: { readonly pinnedToOneCore: boolean; readonly loadAverageBefore: readonly number[]; readonly loadAverageAfter: readonly number[]; readonly node: string };
  readonly reference: string;
  readonly orangeJuice: Record<string, unknown>;
  readonly synthetic: readonly Record<string, unknown>[];
  readonly memoryGrowth: Record<string, unknown> | undefined;
}

export interface CalibrationBenchOptions {
  readonly rows?: number;
  /** The smaller synthetic log, for how memory grows with the rows (0 to skip). */
  readonly growthRows?: number;
  readonly orangeJuiceFile?: string;
  readonly skipOrangeJuice?: boolean;
  readonly progress?: (message: string) => void;
}

export async function benchCalibration(options: CalibrationBenchOptions = {}): Promise<CalibrationBench> {
  const rows = options.rows ?? 1_000_000;
  const growthRows = options.growthRows ?? 250_000;
  const progress = options.progress ?? (() => undefined);
  const pinned = hasTaskset();
  const loadAverageBefore = loadavg().map((value) => Number(value.toFixed(2)));
  const pair = (file: string, map: ColumnMapInput, period: Task['period']) => {
    const reference = inChild({ kind: 'reference', file, map, period }, pinned);
    const calibration = inChild({ kind: 'calibrate', file, map, period }, pinned);
    const ratio = typeof calibration.seconds === 'number' && typeof reference.seconds === 'number' ? calibration.seconds / reference.seconds : null;
    return { calibration, reference, calibrationOverReference: ratio };
  };

  // ../shared beside the project: two folders up from calibration/bench.ts, three from dist/calibration/bench.js.
  const candidates = ['../../shared/data/orangejuice/orangejuice.csv.gz', '../../../shared/data/orangejuice/orangejuice.csv.gz'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const orangeJuiceFile = options.orangeJuiceFile ?? candidates.find((candidate) => existsSync(candidate)) ?? candidates[0]!;
  let orangeJuice: Record<string, unknown>;
  if (options.skipOrangeJuice) orangeJuice = { skipped: 'asked to skip' };
  else if (!existsSync(orangeJuiceFile)) orangeJuice = { skipped: `${orangeJuiceFile} is absent` };
  else {
    progress('orange juice: reference, then calibration...');
    orangeJuice = { file: orangeJuiceFile, targetSeconds: 30, ...pair(orangeJuiceFile, orangeJuiceMap, 'week') };
  }

  const folder = mkdtempSync(join(tmpdir(), 'pricelab-bench-calibration-'));
  const synthetic: Record<string, unknown>[] = [];
  try {
    for (const size of [growthRows, rows].filter((value, index, all) => value > 0 && all.indexOf(value) === index)) {
      const path = join(folder, `synthetic-${size}.csv.gz`);
      progress(`synthetic ${size} rows: writing the log (not timed)...`);
      const started = performance.now();
      await writeSyntheticLog(path, size);
      const writeSeconds = (performance.now() - started) / 1000;
      progress(`synthetic ${size} rows: reference, then calibration...`);
      synthetic.push({ rows: size, writeSeconds, targetSeconds: size >= 1_000_000 ? 120 : null, truth: syntheticTruth, ...pair(path, syntheticMap, 'day') });
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  const peak = (entry: Record<string, unknown> | undefined) => ((entry?.calibration as Record<string, unknown> | undefined)?.peakMegabytes as number | undefined) ?? Number.NaN;
  const [small, large] = synthetic.length === 2 ? synthetic : [undefined, undefined];
  const memoryGrowth =
    small && large
      ? {
          rows: [small.rows, large.rows],
          peakMegabytes: [peak(small), peak(large)],
          megabytesPerMillionRows: ((peak(large) - peak(small)) / (((large.rows as number) - (small.rows as number)) / 1e6)),
        }
      : undefined;
  return {
    machine: { pinnedToOneCore: pinned, loadAverageBefore, loadAverageAfter: loadavg().map((value) => Number(value.toFixed(2))), node: process.version },
    reference:
      'log-log OLS with store fixed effects on the same rows (log units + 0.5 on log price, promotions, log rival prices; normal equations, ml-matrix), reading the file with the same reader, in its own process; no Python peer for calibration exists',
    orangeJuice,
    synthetic,
    memoryGrowth,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const taskFlag = process.argv.indexOf('--task');
  if (taskFlag >= 0) {
    const figures = await measure(JSON.parse(process.argv[taskFlag + 1] ?? '{}') as Task);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } else {
    const number = (flag: string) => {
      const index = process.argv.indexOf(flag);
      const value = index >= 0 ? Number(process.argv[index + 1]) : Number.NaN;
      return Number.isFinite(value) ? value : undefined;
    };
    const rows = number('--rows');
    const growthRows = number('--growth-rows');
    const report = await benchCalibration({ ...(rows === undefined ? {} : { rows }), ...(growthRows === undefined ? {} : { growthRows }), ...(process.argv.includes('--skip-orange-juice') ? { skipOrangeJuice: true } : {}), progress: (message) => process.stderr.write(`${message}\n`) });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  }
}
