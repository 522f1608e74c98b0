/**
 * Card: customer segments into the scenario's logit segments, with the record
 * (`calibration.segments`): from a choice panel's latent classes (calibration/choice-panel.ts,
 * calibration/latent-class-logit.ts) or from the aggregate test of a second segment
 * (calibration/second-segment-test.ts).
 *
 * Panel (applyPanelSegments): class c becomes a logit segment with arrival rate
 * pi_c x the scenario's total, scale mu_c = q / alpha_c,ours (so that q / mu_c, the segment's
 * utility of our quality, is the class's) and price sensitivity beta_c mu_c. Rivals' class
 * utilities cannot be placed (the simulator shares rival qualities across segments): recorded.
 * Aggregate (applyAggregateSegments): when the test supports two segments, the one-segment
 * template is split into a regular and a price-sensitive segment (arrival rates by the fitted
 * share, scale = q / the segment's quality); otherwise one segment is recorded as a default.
 * This module also gathers the exports of the three modules above.
 */
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import type { Interval, LatentClassSelection } from './latent-class-logit.js';
import type { LogitPoissonFit } from './logit-poisson.js';
import type { AggregateSegmentTest } from './second-segment-test.js';

export { readChoicePanel, type ChoicePanel } from './choice-panel.js';
export { fitLatentClassLogit, selectLatentClasses, type ClassEstimate, type Interval, type LatentClassFit, type LatentClassOptions, type LatentClassSelection } from './latent-class-logit.js';
export { chiBarSquareUpperTail, testSecondSegment, testSecondSegmentOfSales, type AggregateSegmentOptions, type AggregateSegmentTest } from './second-segment-test.js';

export const aggregateMethod =
  'likelihood-ratio test of one logit segment against two (share and second segment by EM on the Poisson thinning), p-value by parametric bootstrap (McLachlan 1987: logs drawn from the fitted one segment, both models refitted, p = (1 + #{LR* >= LR}) / (B + 1)); the chi-bar-square 0.5 chi2(d - 1) + 0.5 chi2(d) beside it is approximate (the second segment is not identified under one segment)';

/** How the test's p-value was computed, for the record and the CLI summary. */
export function aggregatePValueMethod(test: AggregateSegmentTest): string {
  return test.pValueMethod === 'bootstrap'
    ? `parametric bootstrap, B = ${test.replicates} (${test.exceedances} with LR* >= LR); chi-bar-square p = ${round(test.approximatePValue)} (approximate, d = ${test.extraParameters})`
    : `chi-bar-square with d = ${test.extraParameters} (approximate: no bootstrap)`;
}

/** Records the aggregate test (`calibration.segments`) and, when it supports two segments, puts them in the scenario. */
export function applyAggregateSegments(scenario: ScenarioInput, record: CalibrationRecord, test: AggregateSegmentTest): void {
  const demand = scenario.demand;
  const stale = record.defaults.findIndex((entry) => entry.field === 'demand.segments');
  if (stale >= 0) record.defaults.splice(stale, 1);
  const interval = (fit: LogitPoissonFit | undefined, index: number) => {
    const parameter = fit?.parameters[index];
    return parameter && Number.isFinite(parameter.standardError) ? roundInterval(parameter) : { value: round(fit?.theta[index] ?? 0), standardError: 0, lower: round(fit?.theta[index] ?? 0), upper: round(fit?.theta[index] ?? 0) };
  };
  const classes = test.supported
    ? test.segments.map((fit, index) => {
        const share = index === 0 ? 1 - test.share : test.share;
        return { share: { value: round(share), standardError: 0, lower: round(share), upper: round(share) }, quality: [interval(fit, 0)], priceSensitivity: interval(fit, 1) };
      })
    : [];
  record.segments = {
    source: 'aggregate',
    method: aggregateMethod,
    chosenClasses: test.supported ? 2 : 1,
    test: {
      statistic: round(test.statistic),
      pValue: Math.min(1, Math.max(0, round(test.pValue))),
      method: aggregatePValueMethod(test),
      ...(test.pValueMethod === 'bootstrap' ? { replicates: test.replicates, approximatePValue: Math.min(1, Math.max(0, round(test.approximatePValue))) } : {}),
    },
    classes,
  };
  if (!test.supported || demand.kind !== 'logit' || !demand.segments[0]) {
    record.defaults.push({ field: 'demand.segments', value: 'one segment', reason: `the likelihood-ratio test does not support a second segment (statistic ${round(test.statistic)}, p = ${round(test.pValue)}, ${test.pValueMethod === 'bootstrap' ? `parametric bootstrap, B = ${test.replicates}` : 'chi-bar-square, approximate'})` });
    return;
  }
  const template = demand.segments[0];
  const totalRate = demand.segments.reduce((total, segment) => total + segment.arrivalRate, 0);
  const placed = test.segments.map((fit, index) => {
    const scale = demand.quality / (fit.theta[0] ?? Number.NaN);
    const share = index === 0 ? 1 - test.share : test.share;
    return Number.isFinite(scale) && scale >= 1e-3 && scale <= 1e3
      ? { ...template, name: index === 0 ? 'regular' : 'price-sensitive', arrivalRate: round(totalRate * share), priceSensitivity: round(Math.max(1e-9, (fit.theta[1] ?? 0) * scale)), scale: round(scale) }
      : undefined;
  });
  if (placed.every((segment) => segment !== undefined)) {
    demand.segments = placed;
    record.defaults.push({ field: 'demand.segments[].rival utilities and promotion lifts', value: 'shared', reason: 'the simulator shares rival qualities across segments and has no promotions: each segment\'s own are in its fit, not placed; the shares\' intervals are not computed (EM without the information matrix)' });
  } else {
    record.defaults.push({ field: 'demand.segments', value: 'one segment', reason: 'a second segment is supported but its quality cannot be reached from the scenario\'s with a positive scale' });
  }
}

const round = (value: number) => Number(value.toPrecision(6));
const roundInterval = (interval: Interval) => ({
  value: round(interval.value),
  standardError: Number.isFinite(interval.standardError) ? round(interval.standardError) : 0,
  lower: Number.isFinite(interval.lower) ? round(interval.lower) : round(interval.value),
  upper: Number.isFinite(interval.upper) ? round(interval.upper) : round(interval.value),
});

export const panelMethod =
  'latent-class logit by EM (4 seeded starts per class count), classes chosen by BIC (N = customers); 95% Wald intervals from the observed information (numerical Jacobian of the analytic score), shares by the delta method through their logits';

/**
 * Puts the chosen classes into the scenario's logit segments and records them
 * (`calibration.segments`). `ourOption` names the panel option that is our product (default
 * "ours", else the first option).
 */
export function applyPanelSegments(scenario: ScenarioInput, record: CalibrationRecord, selection: LatentClassSelection, panelFile: string, ourOption?: string): void {
  const demand = scenario.demand;
  const ours = Math.max(0, selection.options.indexOf(ourOption ?? (selection.options.includes('ours') ? 'ours' : (selection.options[0] ?? ''))));
  const classes = selection.chosen.classes;
  const problems: string[] = [];
  // In place: the scenario's calibration block and the result's record may share this array.
  const stale = record.defaults.findIndex((entry) => entry.field === 'demand.segments');
  if (stale >= 0) record.defaults.splice(stale, 1);
  if (demand.kind === 'logit') {
    const template = demand.segments[0];
    const totalRate = demand.segments.reduce((total, segment) => total + segment.arrivalRate, 0);
    const quality = demand.quality;
    const segments = classes.flatMap((estimate, index) => {
      const alpha = estimate.quality[ours]?.value ?? Number.NaN;
      const scale = quality / alpha;
      if (!(Number.isFinite(scale) && scale >= 1e-3 && scale <= 1e3)) {
        problems.push(`class ${index + 1}: quality ${round(alpha)} cannot be reached from the scenario's ${round(quality)} with a positive scale`);
        return [];
      }
      return [{ ...(template ?? {}), name: `class-${index + 1}`, arrivalRate: round(totalRate * estimate.share.value), priceSensitivity: round(Math.max(1e-9, estimate.priceSensitivity.value * scale)), scale: round(scale) }];
    });
    if (segments.length === classes.length && template) {
      demand.segments = segments;
      classes.forEach((estimate, index) => {
        record.estimates.push(
          { parameter: `segment:class-${index + 1}:share`, scenarioPath: `demand.segments[${index}].arrivalRate`, ...roundInterval(estimate.share), method: `${panelMethod}; arrival rate = share x the total` },
          { parameter: `segment:class-${index + 1}:quality`, scenarioPath: `demand.segments[${index}].scale`, ...roundInterval(estimate.quality[ours]!), method: `${panelMethod}; scale = demand.quality / this` },
          { parameter: `segment:class-${index + 1}:priceSensitivity`, scenarioPath: `demand.segments[${index}].priceSensitivity`, ...roundInterval(estimate.priceSensitivity), method: `${panelMethod}; the segment's is this x its scale` },
        );
      });
      if (selection.options.length > 1) {
        record.defaults.push({ field: 'demand.segments[].rival utilities', value: 'competitor qualities / scale', reason: 'the simulator shares rival qualities across segments: each class\'s own rival constants are recorded in calibration.segments, not placed' });
      }
    } else {
      record.defaults.push({ field: 'demand.segments', value: 'as fitted from the sales', reason: `the panel's classes could not be placed: ${problems.join('; ')}` });
    }
  }
  record.segments = {
    source: 'panel',
    file: panelFile,
    method: panelMethod,
    customers: selection.customers,
    rows: selection.rows,
    options: [...selection.options],
    chosenClasses: classes.length,
    bic: selection.fits.map((fit) => ({ classes: fit.classes.length, logLikelihood: round(fit.logLikelihood), parameters: fit.parameters, bic: round(fit.bic), converged: fit.converged })),
    classes: classes.map((estimate) => ({ share: roundInterval(estimate.share), quality: estimate.quality.map(roundInterval), priceSensitivity: roundInterval(estimate.priceSensitivity) })),
  };
}
