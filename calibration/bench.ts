/**
 * The calibration benchmark: prints JSON. Two measurements, each with its reference
 * measured in the same run (the time to only read the same file: the parsing floor):
 *   - a synthetic log of `rows` rows (default 1,000,000: 50 stores x daily periods, two
 *     rival prices, one promotion, traffic), drawn from the logit model with known
 *     parameters and a seeded stream, written gzipped to a temporary folder, then
 *     calibrated; the estimates are printed beside the truth;
 *   - the orange-juice file (../shared/data/orangejuice), when present: Tropicana Premium
 *     64 oz in 83 stores with its ten rivals, feature and deal.
 * Memory: the peak resident set size of the process (`maxRSS`) after each step. The reader
 * keeps 8 bytes per number per row (calibration/reader.ts), so memory grows with the rows
 * used, not with the file's text.
 *
 * Run: `npx tsx calibration/bench.ts [--rows N]` (or node on the compiled dist/calibration/bench.js).
 */
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { RandomStream } from '../env/random.js';
import { poissonFromUniform } from '../env/sampling.js';
import { calibrateFile } from './calibrate.js';
import { parseColumnMap } from './column-map.js';
import { logitShare } from './logit-poisson.js';
import { readSales } from './reader.js';

/** The synthetic market's true parameters: quality, sensitivity, promotion lift, two rival qualities. */
export const syntheticTruth = { quality: 2, priceSensitivity: 0.35, lift: 0.6, rivalQualities: [1.5, 2.2] } as const;

const peakMegabytes = () => Math.round(process.resourceUsage().maxRSS / 1024);

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

export interface CalibrationBench {
  readonly synthetic: Record<string, unknown>;
  readonly orangeJuice: Record<string, unknown> | { readonly skipped: string };
}

export async function benchCalibration(options: { rows?: number; orangeJuiceFile?: string } = {}): Promise<CalibrationBench> {
  const rows = options.rows ?? 1_000_000;
  const folder = mkdtempSync(join(tmpdir(), 'pricelab-bench-calibration-'));
  try {
    const path = join(folder, 'synthetic.csv.gz');
    let started = performance.now();
    await writeSyntheticLog(path, rows);
    const writeSeconds = (performance.now() - started) / 1000;
    const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', promotions: ['promo'], traffic: 'traffic', store: 'store', rivalPrices: ['rival_a', 'rival_b'] }, 'synthetic map');
    started = performance.now();
    await readSales(path, { map });
    const readSeconds = (performance.now() - started) / 1000;
    const peakAfterRead = peakMegabytes();
    started = performance.now();
    const result = await calibrateFile(path, { map, periodLength: 'day' });
    const calibrateSeconds = (performance.now() - started) / 1000;
    const synthetic = {
      rows,
      writeSeconds,
      readOnlySeconds: readSeconds,
      calibrateSeconds,
      peakMegabytesAfterRead: peakAfterRead,
      peakMegabytes: peakMegabytes(),
      likelihood: result.fit.likelihood,
      truth: syntheticTruth,
      estimates: result.record.estimates.map((estimate) => ({ parameter: estimate.parameter, value: estimate.value, lower: estimate.lower, upper: estimate.upper })),
      holdoutWape: result.holdout?.wape,
    };

    const orangeJuiceFile = options.orangeJuiceFile ?? fileURLToPath(new URL('../../shared/data/orangejuice/orangejuice.csv.gz', import.meta.url));
    let orangeJuice: CalibrationBench['orangeJuice'];
    if (!existsSync(orangeJuiceFile)) orangeJuice = { skipped: `${orangeJuiceFile} is absent` };
    else {
      const juiceMap = parseColumnMap(
        {
          period: 'week',
          logUnits: 'logmove',
          price: 'price1',
          rivalPrices: Array.from({ length: 10 }, (_, index) => `price${index + 2}`),
          promotions: ['feat', 'deal'],
          store: 'store',
          product: 'brand',
          filter: { brand: 1 },
        },
        'orange-juice map',
      );
      started = performance.now();
      await readSales(orangeJuiceFile, { map: juiceMap });
      const juiceRead = (performance.now() - started) / 1000;
      started = performance.now();
      const juice = await calibrateFile(orangeJuiceFile, { map: juiceMap, periodLength: 'week' });
      orangeJuice = {
        rowsInFile: juice.record.source.rowsRead,
        rowsUsed: juice.record.source.rows,
        readOnlySeconds: juiceRead,
        calibrateSeconds: (performance.now() - started) / 1000,
        likelihood: juice.fit.likelihood,
        meanElasticity: juice.meanElasticity,
        holdoutWape: juice.holdout?.wape,
        peakMegabytes: peakMegabytes(),
      };
    }
    return { synthetic, orangeJuice };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rowsFlag = process.argv.indexOf('--rows');
  const rows = rowsFlag >= 0 ? Number(process.argv[rowsFlag + 1]) : undefined;
  const report = await benchCalibration(rows === undefined || !Number.isFinite(rows) ? {} : { rows });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
