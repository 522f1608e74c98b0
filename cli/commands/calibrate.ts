/**
 * `pricelab calibrate <sales file> --out <scenario.json>`: fits the simulator's demand model
 * to a shop's sales history (calibration/) and writes a scenario whose `calibration` block
 * records the source, every estimate with its 95% interval and method, and the defaults.
 * The scenario is validated before it is written, and written atomically: bad input exits 2
 * and leaves no file behind.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { calibrateFile, type CalibrationResult } from '../../calibration/calibrate.js';
import { releaseSales } from '../../calibration/reader.js';
import { perBlockLogMarketSize } from '../../calibration/block-passes.js';
import { blockedSalesDesign } from '../../calibration/design-blocks.js';
import { censoringSummaryLines } from '../../calibration/censoring.js';
import { competitorSummaryLines } from '../../calibration/competitors.js';
import { poolingOptionsFromFlags, poolingSummaryLines, type PoolingOptions } from '../../calibration/pooling.js';
import { defaultColumnMap, parseColumnMap } from '../../calibration/column-map.js';
import { endogeneitySummaryLines } from '../../calibration/endogeneity.js';
import { invertedSharesSummaryLines } from '../../calibration/inverted-shares.js';
import { checkReportPath, reportSummary, reportText, writeCalibrationReport } from '../../calibration/report.js';
import { configError } from '../../core/errors.js';
import { readJsonFile } from '../../core/json-file.js';
import { applyAggregateSegments, applyPanelSegments, readChoicePanel, selectLatentClasses, testSecondSegmentOfSales } from '../../calibration/segments.js';
import type { CalibrationRecord } from '../../scenarios/calibration-record.js';
import { validateScenario } from '../../scenarios/load.js';
import { formatNumber, integer, nonNegativeInteger, printJson, run, table, writeFileAtomically } from '../output.js';

interface CalibrateCommandOptions {
  out: string;
  map?: string;
  period: 'day' | 'week';
  holdout: number;
  marketSizeMultiple?: number;
  id?: string;
  json?: boolean;
  seed?: number;
  likelihood: 'auto' | 'poisson' | 'negative-binomial';
  stores?: string;
  storeAttributes?: string;
  store?: string;
  report?: string;
  panel?: string;
  panelOption?: string;
  segmentTest?: boolean;
  segmentBootstrap?: number;
}

function shareBelowOne(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed >= 1) throw new InvalidArgumentError(`expected a share in [0, 1), found "${value}"`);
  return parsed;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`expected a number > 0, found "${value}"`);
  return parsed;
}

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('fit a scenario to a sales history (CSV, CSV.gz or JSON Lines): demand, calendar, endogeneity, stockouts, returns, rivals, reference prices, segments and stores, each with a 95% interval; holdout and posterior-predictive checks')
    .argument('<sales>', 'the sales file: one row per period and product (and store)')
    .requiredOption('--out <file>', 'where to write the calibrated scenario (JSON)')
    .option('--map <file>', 'a JSON column map (docs/calibration.md); default: columns period, units, price (cost, traffic, store when present)')
    .addOption(new Option('--period <length>', 'the length of one period of the history').choices(['day', 'week']).default('day'))
    .option('--holdout <share>', 'share of the last periods held out to score forecasts (0 for none)', shareBelowOne, 0.2)
    .addOption(
      new Option('--likelihood <law>', 'the law of units: auto picks the negative binomial when the Poisson fit is overdispersed (Pearson dispersion > 1.5)')
        .choices(['auto', 'poisson', 'negative-binomial'])
        .default('auto'),
    )
    .option('--market-size-multiple <k>', 'without a traffic column: the market per period is k x the store\'s mean units', positiveNumber)
    .option('--stores <file>', 'store attributes (CSV, one row per store, keyed by the store column): store price sensitivities regressed on them')
    .option('--store-attributes <names>', 'comma-separated attribute columns of --stores (default: every other column)')
    .option('--store <id>', 'write this store\'s market (its partially pooled quality and sensitivity) instead of the pooled one')
    .option('--id <id>', 'the scenario id (default: calibrated-<file name>-v1)')
    .option('--seed <n>', 'seeds the report\'s parameter draws and simulated markets (default 1); recorded in the scenario card (the fit draws no random numbers)', integer)
    .option('--json', 'print the result as JSON')
    .option('--panel <file>', 'a customer-level choice panel (CSV customer,period,choice,price_<option>, or JSON Lines): segments by a latent-class logit, classes by BIC (docs/calibration.md "Segments")')
    .option('--segment-test', 'without a panel: test one segment against two (a price-sensitive second one) by a likelihood ratio, and use two when it rejects at 5% (slower: an EM of two logit fits)')
    .option('--segment-bootstrap <B>', 'with --segment-test: parametric bootstrap replicates of its p-value (default 99; 0: the approximate chi-bar-square alone; each replicate refits both models)', nonNegativeInteger)
    .option('--panel-option <name>', 'the panel option that is our product (default: "ours", else the first)')
    .option('--report <file>', 'also write an HTML report with a posterior-predictive check (each chart as PNG in a -charts folder beside it, every figure in a -figures.json file)')
    .action(
      run(async (sales: string, options: CalibrateCommandOptions) => {
        if (resolve(options.out) === resolve(sales)) {
          throw configError('refusing to overwrite the sales file', [{ path: ['out'], message: `expected a scenario path other than the sales file, found ${options.out}` }]);
        }
        if (options.report !== undefined) checkReportPath(options.report, [options.out, sales]);
        if (options.segmentBootstrap !== undefined && !options.segmentTest) {
          throw configError('--segment-bootstrap sets the replicates of --segment-test', [{ path: ['segmentBootstrap'], message: `expected --segment-test beside --segment-bootstrap ${options.segmentBootstrap}, found none` }]);
        }
        // Bad input is refused before the fit, which can take a minute.
        const panel = options.panel === undefined ? undefined : readChoicePanel(options.panel);
        const map = options.map === undefined ? parseColumnMap(defaultColumnMap, 'the default column map') : parseColumnMap(readJsonFile(options.map, 'column map'), options.map);
        const result = await calibrateFile(sales, {
          map,
          defaultMap: options.map === undefined,
          periodLength: options.period,
          holdout: options.holdout,
          likelihood: options.likelihood,
          ...poolingFlag(poolingOptionsFromFlags(options, map.store)),
          ...(options.marketSizeMultiple === undefined ? {} : { marketSizeMultiple: options.marketSizeMultiple }),
          ...(options.id === undefined ? {} : { scenarioId: options.id }),
          ...(options.seed === undefined ? {} : { seed: options.seed }),
        });
        // A long history's rows are in a scratch file until the report is written (calibration/sales-blocks.ts).
        try {
          if (panel !== undefined && options.panel !== undefined) {
            // The written block (result.scenario.calibration) and result.record may be copies sharing their arrays: both get the segments.
            const calibration = (result.scenario.calibration as CalibrationRecord | undefined) ?? result.record;
            applyPanelSegments(result.scenario, calibration, selectLatentClasses(panel), options.panel, options.panelOption);
            if (calibration !== result.record && calibration.segments) result.record.segments = calibration.segments;
          }
          if (options.segmentTest && options.panel === undefined) {
            const calibration = (result.scenario.calibration as CalibrationRecord | undefined) ?? result.record;
            applyAggregateSegments(result.scenario, calibration, testSecondSegmentOfSales(result.rows.sales, perBlockLogMarketSize(blockedSalesDesign(result.rows.sales, result.rows.rules), result.rows.sales, result.fit.theta), result.fit, { ...(options.segmentBootstrap === undefined ? {} : { bootstrap: options.segmentBootstrap }), ...(options.seed === undefined ? {} : { seed: options.seed }) }));
            if (calibration !== result.record && calibration.segments) result.record.segments = calibration.segments;
          }
          // The scenario must load as any other: validated before a byte is written.
          validateScenario(result.scenario, options.out);
          writeFileAtomically(options.out, `${JSON.stringify(result.scenario, null, 2)}\n`);
          const written = options.report === undefined ? undefined : await writeCalibrationReport(options.report, result, options.seed === undefined ? {} : { seed: options.seed });
          if (options.json) printJson({ ...summary(result, options.out), ...(written ? { report: reportSummary(written) } : {}) });
          else process.stdout.write(text(result, options.out) + (written ? reportText(written) : ''));
        } finally {
          releaseSales(result.rows.sales);
        }
      }),
    );
}

const poolingFlag = (pooling: PoolingOptions | undefined) => (pooling === undefined ? {} : { pooling });

function summary(result: CalibrationResult, out: string) {
  return {
    scenarioFile: out,
    scenarioId: result.scenario.id,
    source: result.record.source,
    estimates: result.record.estimates,
    derived: result.record.derived,
    defaults: result.record.defaults,
    fit: result.record.fit,
    holdout: result.record.holdout ?? null,
    censoring: result.record.censoring ?? null,
    endogeneity: result.record.endogeneity ?? null,
    invertedShares: result.record.invertedShares ?? null,
    pooling: result.record.pooling ?? null,
    competitorStrategies: result.record.competitorStrategies ?? null,
    segments: result.record.segments ?? null,
    seconds: result.seconds,
  };
}

function text(result: CalibrationResult, out: string): string {
  const record = result.record;
  const lines = [
    `calibrated ${record.source.file} (${record.source.rows} rows, ${record.source.periods} ${record.source.periodLength}s ${record.source.firstPeriod}..${record.source.lastPeriod}, ${record.source.stores} store(s)) in ${formatNumber(result.seconds, 2)} s`,
    `wrote ${out} (scenario ${result.scenario.id})`,
    '',
    table([
      ['parameter', 'estimate', '95% interval', 'into'],
      ...record.estimates.map((estimate) => [estimate.parameter, formatNumber(estimate.value, 4), `${formatNumber(estimate.lower, 4)} .. ${formatNumber(estimate.upper, 4)}`, estimate.scenarioPath ?? '(recorded only)']),
    ]),
    '',
    `intervals: ${record.fit.intervalMethod}; ${record.fit.iterations} iterations, dispersion ${formatNumber(record.fit.dispersion, 3)}`,
    `predictive check: ${formatNumber(100 * (record.fit.predictiveCoverage90 ?? Number.NaN), 1)}% of rows inside their 90% band (about 90% when the law fits)`,
    ...record.derived.map((figure) => `${figure.name}: ${formatNumber(figure.value, 4)} (${figure.method})`),
  ];
  if (record.holdout) {
    const holdout = record.holdout;
    lines.push(
      '',
      `holdout: last ${holdout.holdoutPeriods} of ${holdout.trainingPeriods + holdout.holdoutPeriods} periods (${holdout.rows} rows)`,
      table([
        ['forecast', 'WAPE', 'MAPE'],
        ['model', formatNumber(holdout.wape.model, 4), formatNumber(holdout.mape.model, 4)],
        [`seasonal naive (${holdout.seasonLength})`, formatNumber(holdout.wape.seasonalNaive, 4), formatNumber(holdout.mape.seasonalNaive, 4)],
        ['mean', formatNumber(holdout.wape.mean, 4), formatNumber(holdout.mape.mean, 4)],
      ]),
      `holdout rows inside their 90% band (training fit): ${formatNumber(100 * (holdout.predictiveCoverage90 ?? Number.NaN), 1)}%`,
    );
  }
  lines.push(...poolingSummaryLines(record.pooling));
  lines.push(...endogeneitySummaryLines(record.endogeneity), ...invertedSharesSummaryLines(record.invertedShares));
  lines.push(...censoringSummaryLines(record.censoring));
  lines.push(...competitorSummaryLines(record.competitorStrategies));
  if (record.segments?.test) lines.push(`segments: ${record.segments.chosenClasses} (likelihood ratio ${formatNumber(record.segments.test.statistic, 4)}, p = ${formatNumber(record.segments.test.pValue, 4)}: ${record.segments.test.method})`);
  lines.push('', 'left at defaults:', ...record.defaults.map((entry) => `  ${entry.field} = ${String(entry.value)}: ${entry.reason}`), '');
  return `${lines.join('\n')}\n`;
}
