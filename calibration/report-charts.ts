/**
 * The charts and figures of the calibration report (report.ts, whose card lists what each
 * chart shows): the vega-lite specs of observed-fitted, price-response, residuals, holdout and
 * posterior-predictive, each chart's data, and the figures written to `<report>-figures.json`.
 */
import type { TopLevelSpec } from 'vega-lite';
import { chartConfig, vegaLiteSchema, type ReportChart } from '../experiments/report/charts.js';
import { formatterFor } from '../experiments/report/format.js';
import type { CalibrationResult } from './calibrate.js';
import { posteriorPredictiveCheck } from './posterior-predictive.js';
import { fittedMeans, pearsonResiduals, priceResponse } from './report-fit-figures.js';
import type { CalibrationReport, ReportFigures, ReportOptions } from './report-types.js';

export const reportChartNames = ['observed-fitted', 'price-response', 'residuals', 'holdout', 'posterior-predictive'] as const;

/** Evenly spaced rows, at most `limit` of them (all rows when there are fewer). */
function sampleRows(rows: number, limit: number): number[] {
  if (rows <= limit) return Array.from({ length: rows }, (_, row) => row);
  return Array.from({ length: limit }, (_, index) => Math.floor((index * rows) / limit));
}

/** The x axis of time charts: the period's first date for dated rows, else its number as given. */
function periodAxis(result: CalibrationResult): { label: (period: number) => string | number; type: 'temporal' | 'quantitative'; title: string; scale: { scale?: { zero: false } } } {
  const sales = result.rows.sales;
  let first = Number.POSITIVE_INFINITY;
  for (const value of sales.period) first = Math.min(first, value);
  const daysPerPeriod = result.record.source.periodLength === 'week' ? 7 : 1;
  if (sales.periodKind === 'date') {
    return { label: (period) => new Date((first + period * daysPerPeriod) * 86_400_000).toISOString().slice(0, 10), type: 'temporal', title: result.record.source.periodLength === 'week' ? 'week starting' : 'date', scale: {} };
  }
  return { label: (period) => first + period, type: 'quantitative', title: `period (${sales.map.period ?? 'period'})`, scale: { scale: { zero: false } } };
}

export function calibrationReport(result: CalibrationResult, options: ReportOptions = {}): CalibrationReport {
  const { sales, period, firstHoldoutPeriod } = result.rows;
  const means = fittedMeans(result);
  const residuals = pearsonResiduals(result, means);
  const predictive = posteriorPredictiveCheck(result, options);
  const curve = priceResponse(result, options.pricePoints ?? 40);
  const maxScatter = options.maxScatterRows ?? 4000;
  const axis = periodAxis(result);
  const unitCost = result.scenario.unitCost;
  const holdoutPart = (when: number) => (firstHoldoutPeriod !== undefined && when >= firstHoldoutPeriod ? 'holdout' : 'training');

  // Observed and fitted units per period, summed over stores.
  let lastPeriod = 0;
  for (const value of period) lastPeriod = Math.max(lastPeriod, value);
  const observedTotal = new Float64Array(lastPeriod + 1);
  const fittedTotal = new Float64Array(lastPeriod + 1);
  const present = new Uint8Array(lastPeriod + 1);
  for (let row = 0; row < sales.rows; row++) {
    const when = period[row] ?? 0;
    observedTotal[when] = (observedTotal[when] ?? 0) + (sales.units[row] ?? 0);
    fittedTotal[when] = (fittedTotal[when] ?? 0) + (means[row] ?? 0);
    present[when] = 1;
  }
  const observedFitted = [...present.keys()]
    .filter((when) => present[when] === 1)
    .flatMap((when) => [
      { period: axis.label(when), series: 'observed', units: observedTotal[when] ?? 0, part: holdoutPart(when) },
      { period: axis.label(when), series: 'fitted', units: fittedTotal[when] ?? 0, part: holdoutPart(when) },
    ]);
  const holdoutSpan = firstHoldoutPeriod === undefined ? [] : [{ start: axis.label(firstHoldoutPeriod), end: axis.label(lastPeriod), label: 'holdout' }];
  const storeNote = sales.storeNames.length > 1 ? `, summed over ${sales.storeNames.length} stores` : '';

  const scatterRows = sampleRows(sales.rows, maxScatter);
  const scatterNote = scatterRows.length < sales.rows ? [`Scatter points: ${scatterRows.length} evenly spaced rows of ${sales.rows} (every figure uses all rows).`] : [];
  const observedPoints = scatterRows.map((row) => ({ price: sales.price[row] ?? 0, units: sales.units[row] ?? 0, profit: ((sales.price[row] ?? 0) - unitCost) * (sales.units[row] ?? 0) }));
  const residualPoints = scatterRows.map((row) => ({ fitted: means[row] ?? 0, period: axis.label(period[row] ?? 0), residual: residuals[row] ?? 0, part: holdoutPart(period[row] ?? 0) }));
  const histogram = residualHistogram(residuals);

  // The predictive check drawn for one series: the only store, or the one with the most units.
  const storeUnits = new Float64Array(sales.storeNames.length);
  for (let row = 0; row < sales.rows; row++) storeUnits[sales.store[row] ?? 0] = (storeUnits[sales.store[row] ?? 0] ?? 0) + (sales.units[row] ?? 0);
  const shownStore = storeUnits.indexOf(Math.max(...storeUnits));
  const predictivePoints: { period: string | number; units: number; lower: number; median: number; upper: number; inside: string }[] = [];
  for (let row = 0; row < sales.rows; row++) {
    if ((sales.store[row] ?? 0) !== shownStore) continue;
    const units = sales.units[row] ?? 0;
    const lower = predictive.lower[row] ?? 0;
    const upper = predictive.upper[row] ?? 0;
    predictivePoints.push({ period: axis.label(period[row] ?? 0), units, lower, median: predictive.median[row] ?? 0, upper, inside: units >= lower && units <= upper ? 'inside the band' : 'outside the band' });
  }
  const shownCoverage = predictivePoints.filter((point) => point.inside === 'inside the band').length / Math.max(1, predictivePoints.length);

  const holdout = result.holdout;
  const holdoutBars = holdout
    ? (['wape', 'mape'] as const).flatMap((metric) =>
        (
          [
            ['model', 'model'],
            ['seasonalNaive', `seasonal naive (${holdout.seasonLength})`],
            ['mean', 'mean'],
          ] as const
        ).map(([key, forecast]) => ({ metric: metric.toUpperCase(), forecast, value: holdout[metric][key] })),
      )
    : [];

  const charts: ReportChart[] = [
    {
      name: 'observed-fitted',
      title: 'Observed and fitted units over time',
      caption: `Units per ${result.record.source.periodLength}${storeNote}: observed, and fitted by the final fit (the mean M_t s_t from each row's price, promotions, rival prices and market size).${firstHoldoutPeriod === undefined ? '' : ' Shaded: the held-out periods (their forecasts are scored in the holdout table by the fit on the earlier periods).'}`,
      notes: [],
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        width: 640,
        height: 260,
        layer: [
          ...(holdoutSpan.length === 0
            ? []
            : [
                {
                  data: { values: holdoutSpan },
                  mark: { type: 'rect' as const, color: '#e8e8e8' },
                  encoding: { x: { field: 'start', type: axis.type, ...axis.scale }, x2: { field: 'end' } },
                },
              ]),
          {
            data: { values: observedFitted },
            mark: { type: 'line', point: { size: 12 }, strokeWidth: 1.2 },
            encoding: {
              x: { field: 'period', type: axis.type, title: axis.title, ...axis.scale },
              y: { field: 'units', type: 'quantitative', title: `units per ${result.record.source.periodLength}` },
              color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['observed', 'fitted'], range: ['#555555', '#d62728'] } },
              tooltip: [{ field: 'period' }, { field: 'series' }, { field: 'units', format: ',.1f' }, { field: 'part' }],
            },
          },
        ],
      },
    },
    {
      name: 'price-response',
      title: 'Price response',
      caption:
        `Expected units and expected profit ((p - ${formatterFor([unitCost])(unitCost)}) x units) per row over the observed price range: the mean over the history's rows of M_t s_t(p), each row keeping its promotions, rival prices and market size, ` +
        'with a 95% band by the delta method from the fit\'s covariance. Points: the observed rows.',
      notes: [...scatterNote, ...(result.record.defaults.some((entry) => entry.field === 'unitCost') ? ['The unit cost is a default (not in the data): read profit levels with care.'] : [])],
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        hconcat: (
          [
            ['units', 'unitsLower', 'unitsUpper', 'expected units'],
            ['profit', 'profitLower', 'profitUpper', 'expected profit'],
          ] as const
        ).map(([field, lowerField, upperField, title]) => ({
          width: 320,
          height: 240,
          layer: [
            { data: { values: observedPoints }, mark: { type: 'point' as const, filled: true, size: 10, opacity: 0.35, color: '#777777' }, encoding: { x: { field: 'price', type: 'quantitative' as const, title: 'price', scale: { zero: false } }, y: { field, type: 'quantitative' as const, title } } },
            { data: { values: curve }, mark: { type: 'area' as const, opacity: 0.25, color: '#1f77b4' }, encoding: { x: { field: 'price', type: 'quantitative' as const }, y: { field: lowerField, type: 'quantitative' as const }, y2: { field: upperField } } },
            {
              data: { values: curve },
              mark: { type: 'line' as const, color: '#1f77b4', strokeWidth: 2 },
              encoding: { x: { field: 'price', type: 'quantitative' as const }, y: { field, type: 'quantitative' as const }, tooltip: [{ field: 'price', format: ',.4f' }, { field, format: ',.2f' }, { field: lowerField, format: ',.2f' }, { field: upperField, format: ',.2f' }] },
            },
          ],
        })),
      },
    },
    {
      name: 'residuals',
      title: 'Residual diagnostics',
      caption: `Pearson residuals (y - m) / sqrt(V(m)), V the ${result.fit.likelihood === 'negative-binomial' ? 'negative binomial variance m + m^2 / k' : 'Poisson variance m'}: against the fitted mean, against time (held-out periods in orange), and their histogram with the standard normal density scaled to it. A good fit: no trend or funnel, a spread of about 1.`,
      notes: scatterNote,
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        hconcat: [
          {
            width: 220,
            height: 200,
            data: { values: residualPoints },
            mark: { type: 'point', filled: true, size: 10, opacity: 0.4 },
            encoding: { x: { field: 'fitted', type: 'quantitative', title: 'fitted mean' }, y: { field: 'residual', type: 'quantitative', title: 'Pearson residual' }, color: { value: '#1f77b4' } },
          },
          {
            width: 260,
            height: 200,
            data: { values: residualPoints },
            mark: { type: 'point', filled: true, size: 10, opacity: 0.4 },
            encoding: {
              x: { field: 'period', type: axis.type, title: axis.title, ...axis.scale },
              y: { field: 'residual', type: 'quantitative', title: 'Pearson residual' },
              color: { field: 'part', type: 'nominal', title: null, scale: { domain: ['training', 'holdout'], range: ['#1f77b4', '#ff7f0e'] } },
            },
          },
          {
            width: 220,
            height: 200,
            data: { values: histogram },
            layer: [
              { mark: { type: 'bar', color: '#9ecae1' }, encoding: { x: { field: 'low', type: 'quantitative', title: 'Pearson residual', bin: { binned: true } }, x2: { field: 'high' }, y: { field: 'count', type: 'quantitative', title: 'rows' } } },
              { mark: { type: 'line', color: '#d62728' }, encoding: { x: { field: 'middle', type: 'quantitative' }, y: { field: 'normal', type: 'quantitative' } } },
            ],
          },
        ],
      },
    },
    ...(holdout
      ? [
          {
            name: 'holdout',
            title: 'Holdout forecasts',
            caption: `WAPE and MAPE on the last ${holdout.holdoutPeriods} of ${holdout.trainingPeriods + holdout.holdoutPeriods} periods (${holdout.rows} rows): the model fitted on the earlier periods against seasonal naive (season ${holdout.seasonLength}) and the training mean. Lower is better.`,
            notes: [],
            spec: {
              $schema: vegaLiteSchema,
              config: chartConfig,
              data: { values: holdoutBars },
              facet: { column: { field: 'metric', type: 'nominal', title: null } },
              spec: {
                width: 200,
                height: 160,
                mark: 'bar',
                encoding: {
                  x: { field: 'forecast', type: 'nominal', title: null, sort: null, axis: { labelAngle: -20 } },
                  y: { field: 'value', type: 'quantitative', title: 'error' },
                  color: { field: 'forecast', type: 'nominal', legend: null, sort: null },
                  tooltip: [{ field: 'metric' }, { field: 'forecast' }, { field: 'value', format: '.4f' }],
                },
              },
              resolve: { scale: { y: 'independent' } },
            } satisfies TopLevelSpec,
          },
        ]
      : []),
    {
      name: 'posterior-predictive',
      title: 'Posterior-predictive check',
      caption:
        `Scenario ${predictive.scenarioId} simulated by the market under the historical prices, promotions and rival prices, once per parameter draw (${predictive.draws} draws from the fit's normal approximation, seed ${predictive.seed}): ` +
        `the central 90% band of the simulated units and their median, with the observed units. ${formatPercent(predictive.coverage90)} of all ${predictive.rows} rows lie inside their band (about 90% when the scenario describes the history).`,
      notes: sales.storeNames.length > 1 ? [`Drawn: store ${sales.storeNames[shownStore] ?? shownStore} (the most units; ${formatPercent(shownCoverage)} of its rows inside). The coverage is over every store's rows.`] : [],
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        width: 640,
        height: 260,
        data: { values: predictivePoints },
        encoding: { x: { field: 'period', type: axis.type, title: axis.title, ...axis.scale } },
        layer: [
          { mark: { type: 'area', opacity: 0.3, color: '#2ca02c' }, encoding: { y: { field: 'lower', type: 'quantitative', title: `units per ${result.record.source.periodLength}` }, y2: { field: 'upper' } } },
          { mark: { type: 'line', color: '#2ca02c', strokeWidth: 1 }, encoding: { y: { field: 'median', type: 'quantitative' } } },
          {
            mark: { type: 'point', filled: true, size: 16 },
            encoding: {
              y: { field: 'units', type: 'quantitative' },
              color: { field: 'inside', type: 'nominal', title: null, scale: { domain: ['inside the band', 'outside the band'], range: ['#333333', '#d62728'] } },
              tooltip: [{ field: 'period' }, { field: 'units' }, { field: 'lower' }, { field: 'median' }, { field: 'upper' }],
            },
          },
        ],
      },
    },
  ];

  const chartData: Record<string, unknown> = {
    'observed-fitted': { series: observedFitted, holdout: holdoutSpan },
    'price-response': { curve, observed: observedPoints },
    residuals: { points: residualPoints, histogram },
    ...(holdout ? { holdout: holdoutBars } : {}),
    'posterior-predictive': { store: sales.storeNames[shownStore] ?? String(shownStore), coverage90: shownCoverage, points: predictivePoints },
  };
  const figures: ReportFigures = {
    scenarioId: result.scenario.id,
    source: result.record.source,
    estimates: result.record.estimates,
    derived: result.record.derived,
    fit: {
      likelihood: result.fit.likelihood,
      logLikelihood: result.fit.logLikelihood,
      dispersion: result.fit.dispersion,
      dispersionSize: result.fit.dispersionSize?.value ?? null,
      meanElasticity: result.meanElasticity,
      predictiveCoverage90: result.predictiveCoverage90,
    },
    holdout: holdout ?? null,
    posteriorPredictive: { draws: predictive.draws, seed: predictive.seed, scenarioId: predictive.scenarioId, rows: predictive.rows, coverage90: predictive.coverage90, method: predictive.method },
    priceResponse: { unitCost, method: 'mean over rows of M_t s_t(p) (each row keeping its promotions, rival prices and market size); 95% band by the delta method from the fit covariance', curve },
    charts: chartData,
  };
  return { figures, charts, predictive };
}

/** 30 equal bins over the residuals (clipped to +-6) and the standard normal density scaled to the counts. */
function residualHistogram(residuals: Float64Array): { low: number; high: number; middle: number; count: number; normal: number }[] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of residuals) {
    const clipped = Math.max(-6, Math.min(6, value));
    low = Math.min(low, clipped);
    high = Math.max(high, clipped);
  }
  if (!(high > low)) high = low + 1;
  const bins = 30;
  const width = (high - low) / bins;
  const counts = new Float64Array(bins);
  for (const value of residuals) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((Math.max(-6, Math.min(6, value)) - low) / width)));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return Array.from(counts, (count, bin) => {
    const binLow = low + bin * width;
    const middle = binLow + width / 2;
    return { low: binLow, high: binLow + width, middle, count, normal: (residuals.length * width * Math.exp((-middle * middle) / 2)) / Math.sqrt(2 * Math.PI) };
  });
}

export function formatPercent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}
