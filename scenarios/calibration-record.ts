/**
 * The optional `calibration` block of a scenario: where a calibrated scenario came from
 * (the sales file's sha256, rows, period range), every fitted value with its 95% interval
 * and method, what was left at a default and why, the fit's diagnostics and the holdout
 * check. Written by `pricelab calibrate` (calibration/), read by people: the simulator
 * ignores it. docs/calibration.md describes each field.
 */
import { z } from 'zod';

const finite = z.number().finite();
const share = z.number().min(0).max(1);
/** A 95% Wald interval (endogeneity and inverted shares). */
const interval = z.strictObject({ value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite });
const namedInterval = z.strictObject({ parameter: z.string().min(1), value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite });
const poolingInterval = z.strictObject({ value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite });
const poolingTau = z.strictObject({ value: finite.nonnegative(), lower: finite.nonnegative(), upper: finite.nonnegative() });

export const calibrationRecordSchema = z.strictObject({
  method: z.string().min(1).describe('the estimator, named (e.g. maximum likelihood, Poisson units with the logit mean)'),
  source: z.strictObject({
    file: z.string().min(1).describe('the sales file as given on the command line'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits').describe('sha256 of the file\'s bytes'),
    format: z.string().min(1).describe('csv, csv.gz, jsonl or jsonl.gz'),
    rows: z.number().int().min(1).describe('rows used (after the filter)'),
    rowsRead: z.number().int().min(1).describe('rows in the file'),
    firstPeriod: z.union([z.string(), finite]).describe('first period (an index, or a date)'),
    lastPeriod: z.union([z.string(), finite]).describe('last period'),
    periods: z.number().int().min(1).describe('distinct periods'),
    periodLength: z.enum(['day', 'week']).describe('the length of one period of the history'),
    stores: z.number().int().min(1),
    product: z.string().optional(),
    columns: z.record(z.string(), z.union([z.string(), z.array(z.string()), z.record(z.string(), z.union([z.string(), z.number()]))])).describe('the column map used'),
  }),
  estimates: z
    .array(
      z.strictObject({
        parameter: z.string().min(1),
        scenarioPath: z.string().optional().describe('where the value went in this scenario; absent when the scenario has no place for it'),
        value: finite,
        standardError: finite.nonnegative(),
        lower: finite.describe('95% interval, lower end'),
        upper: finite.describe('95% interval, upper end'),
        method: z.string().min(1),
      }),
    )
    .describe('every fitted value'),
  derived: z
    .array(z.strictObject({ name: z.string().min(1), value: finite, method: z.string().min(1) }))
    .default([])
    .describe('figures computed from the estimates (e.g. the mean own-price elasticity)'),
  defaults: z
    .array(z.strictObject({ field: z.string().min(1), value: z.union([finite, z.string()]), reason: z.string().min(1) }))
    .describe('every scenario field not identified by the data, at its documented default'),
  fit: z.strictObject({
    logLikelihood: finite,
    iterations: z.number().int().min(0),
    converged: z.boolean(),
    dispersion: finite.describe('Pearson chi-square over residual degrees of freedom (about 1 for Poisson counts)'),
    intervalMethod: z.string().min(1),
    predictiveCoverage90: share.optional().describe('share of rows whose units fall inside the 90% predictive band of the fitted law (about 0.9 when the law fits)'),
    seconds: finite.nonnegative(),
  }),
  censoring: z
    .strictObject({
      rowsCensored: z.number().int().min(1).describe('rows whose demand is censored at the units sold (a stockout)'),
      shareCensored: share,
      rule: z.string().min(1).describe('which rows count as censored'),
      method: z.string().min(1),
      naiveMethod: z.string().min(1),
      censored: z.strictObject({ quality: z.strictObject({ value: finite, lower: finite, upper: finite }), priceSensitivity: z.strictObject({ value: finite, lower: finite, upper: finite }) }).describe('the censored fit, used for the scenario (95% intervals)'),
      naive: z.strictObject({ quality: z.strictObject({ value: finite, lower: finite, upper: finite }), priceSensitivity: z.strictObject({ value: finite, lower: finite, upper: finite }) }).describe('the naive fit, stockout rows taken as exact demand (95% intervals)'),
    })
    .optional()
    .describe('censored demand at stockouts: the naive fit beside the censored one (calibration/censoring.ts)'),
  pooling: z
    .strictObject({
      method: z.string().min(1),
      stores: z.number().int().min(1),
      storesEstimated: z.number().int().min(0).describe('stores with their own (level-1) fit; the others get the second-level prediction'),
      scenarioStore: z.string().optional().describe('the store whose shrunken estimates the scenario holds (--store); absent: the scenario is the pooled market'),
      priceSensitivity: z.strictObject({ tau: poolingTau, mean: poolingInterval }).describe('tau: spread of the store sensitivities; mean: at average store attributes'),
      quality: z.strictObject({ tau: poolingTau, mean: poolingInterval }),
      meanElasticity: finite.describe('mean over stores of the shrunken store elasticities'),
      pooledElasticity: finite.optional().describe('the same from the fit the stores are pooled around (one sensitivity for all): mean over rows of -b p (1 - s)'),
      attributes: z
        .strictObject({ file: z.string().min(1), sha256: z.string(), coefficients: z.array(poolingInterval.extend({ name: z.string().min(1), elasticityPerUnit: finite })) })
        .optional()
        .describe('the store sensitivities regressed on the store attributes (centred): effect per unit of each attribute'),
      storeEstimates: z.array(
        z.strictObject({
          store: z.string(),
          rows: z.number().int().min(0),
          weight: share.describe('tau^2 / (tau^2 + v_s): the weight on the store\'s own estimate'),
          own: z.strictObject({ quality: poolingInterval, priceSensitivity: poolingInterval }).optional().describe('the store\'s own fit; absent when it could not be fitted'),
          quality: poolingInterval,
          priceSensitivity: poolingInterval,
          elasticity: poolingInterval,
        }),
      ),
    })
    .optional()
    .describe('partial pooling across stores (calibration/pooling.ts)'),
  holdout: z
    .strictObject({
      fraction: z.number().min(0).max(1),
      trainingPeriods: z.number().int().min(1),
      holdoutPeriods: z.number().int().min(1),
      rows: z.number().int().min(1),
      seasonLength: z.number().int().min(1).describe('periods per season of the seasonal-naive baseline'),
      wape: z.strictObject({ model: finite, seasonalNaive: finite, mean: finite }).describe('sum |actual - forecast| / sum actual'),
      mape: z.strictObject({ model: finite, seasonalNaive: finite, mean: finite }).describe('mean |actual - forecast| / actual over rows with units > 0'),
      predictiveCoverage90: share.optional().describe('share of holdout rows inside the 90% predictive band of the fit on the training periods'),
    })
    .optional(),
  referencePrices: z
    .strictObject({
      supported: z.boolean().describe('true when the scenario got reference prices from this estimate'),
      reason: z.string().optional().describe('why not, when not supported'),
      method: z.string().min(1),
      priceRises: z.number().int().min(0),
      priceCuts: z.number().int().min(0),
      memory: z.strictObject({ value: finite, lower: finite, upper: finite, perDay: finite, method: z.string().min(1) }).optional().describe('memory z per period of the history, its profile-likelihood interval, and per day'),
      gain: z.strictObject({ value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite, method: z.string().min(1) }).optional(),
      loss: z.strictObject({ value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite, method: z.string().min(1) }).optional(),
      lossAversion: z.strictObject({ difference: finite, standardError: finite.nonnegative(), statistic: finite, pValue: share, method: z.string().min(1) }).optional().describe('test of loss > gain'),
      noReferenceTest: z.strictObject({ statistic: finite.nonnegative(), pValue: share, method: z.string().min(1) }).optional().describe('test of gain = loss = 0'),
      profile: z.array(z.strictObject({ memory: finite, logLikelihood: finite })).optional().describe('the profile log-likelihood over the memory'),
    })
    .optional()
    .describe('reference prices: memory, gain and loss by profile likelihood (calibration/reference-prices.ts)'),
  segments: z
    .strictObject({
      source: z.enum(['panel', 'aggregate']).describe('a customer-level choice panel (latent classes) or the sales themselves (likelihood-ratio test)'),
      file: z.string().optional().describe('the panel file'),
      method: z.string().min(1),
      customers: z.number().int().min(0).optional(),
      rows: z.number().int().min(0).optional(),
      options: z.array(z.string()).optional().describe('the panel\'s options (prices), in the order of each class\'s quality'),
      chosenClasses: z.number().int().min(1),
      bic: z.array(z.strictObject({ classes: z.number().int().min(1), logLikelihood: finite, parameters: z.number().int().min(0), bic: finite, converged: z.boolean() })).optional(),
      test: z
        .strictObject({
          statistic: finite.nonnegative(),
          pValue: share,
          method: z.string().min(1),
          replicates: z.number().int().min(1).optional().describe('parametric bootstrap replicates B (pValue is the bootstrap\'s)'),
          approximatePValue: share.optional().describe('the chi-bar-square p-value, approximate (the second segment is not identified under one)'),
        })
        .optional()
        .describe('aggregate: the likelihood-ratio test of one segment against two'),
      classes: z.array(
        z.strictObject({
          share: z.strictObject({ value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite }),
          quality: z.array(z.strictObject({ value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite })),
          priceSensitivity: z.strictObject({ value: finite, standardError: finite.nonnegative(), lower: finite, upper: finite }),
        }),
      ),
    })
    .optional()
    .describe('customer segments: latent classes of a choice panel, or the aggregate test (calibration/segments.ts)'),
  endogeneity: z
    .strictObject({
      instruments: z.array(z.string()).describe('the excluded price instruments used (cost column; mean price of the other stores in the period)'),
      rows: z.number().int().min(0).describe('rows where every instrument is defined'),
      firstStage: z
        .strictObject({ fStatistic: finite, numeratorDegrees: z.number().int().min(1), denominatorDegrees: z.number().int(), weak: z.boolean().describe('F below 10'), method: z.string().min(1) })
        .optional(),
      naive: z.strictObject({ priceSensitivity: interval, method: z.string().min(1) }).optional(),
      instrumented: z.strictObject({ priceSensitivity: interval, controlCoefficient: interval, method: z.string().min(1) }).optional(),
      durbinWuHausman: z.strictObject({ statistic: finite, pValue: share, method: z.string().min(1) }).optional().describe('test of an exogenous price'),
      choice: z.enum(['naive', 'instrumented']).describe('the estimate the scenario uses'),
      reason: z.string().min(1),
    })
    .optional()
    .describe('price endogeneity: control-function estimate beside the naive one (calibration/endogeneity.ts)'),
  invertedShares: z
    .strictObject({
      method: z.string().min(1),
      rows: z.number().int().min(0),
      rowsDropped: z.number().int().min(0).describe('rows with units above the traffic'),
      ordinaryLeastSquares: z.strictObject({ estimates: z.array(namedInterval), method: z.string().min(1) }),
      twoStageLeastSquares: z
        .strictObject({ estimates: z.array(namedInterval), instruments: z.array(z.string()), rows: z.number().int().min(0), firstStageF: finite, weak: z.boolean(), method: z.string().min(1) })
        .optional(),
    })
    .optional()
    .describe('demand on inverted shares (Berry 1994) beside the likelihood fit, when traffic is given (calibration/inverted-shares.ts)'),
  competitorStrategies: z
    .array(
      z.strictObject({
        rival: z.string().min(1).describe('the rival price column'),
        competitor: z.string().min(1).describe('the competitor of this scenario it became'),
        chosen: z.string().min(1).describe('the strategy kind of smallest BIC, in the competitor block'),
        observations: z.number().int().min(1).describe('pairs of consecutive periods in the likelihood (stores pooled)'),
        noiseFloor: finite.nonnegative().describe('the floor of the noise standard deviation, currency units'),
        candidates: z
          .array(
            z.strictObject({
              kind: z.string().min(1),
              logLikelihood: finite,
              parameterCount: z.number().int().min(1),
              bic: finite,
              sigma: finite.nonnegative().describe('the fitted noise standard deviation, currency units'),
              latency: z.number().int().min(1).describe('reprices every this many periods'),
              phase: z.number().int().min(0),
              parameters: z.record(z.string(), z.union([finite, z.string(), z.array(finite)])),
              intervals: z.record(z.string(), z.tuple([finite, finite])).default({}).describe('95% intervals of the continuous parameters (Wald within the chosen branch, or the range that fits the same)'),
            }),
          )
          .describe('every strategy kind fitted, with its log-likelihood, parameter count k, BIC and parameters'),
        notFitted: z.array(z.strictObject({ kind: z.string().min(1), reason: z.string().min(1) })).default([]),
        method: z.string().min(1),
      }),
    )
    .optional()
    .describe('competitor strategies fitted to each rival price series and chosen by BIC (calibration/competitors.ts)'),
});

export type CalibrationRecord = z.output<typeof calibrationRecordSchema>;
