/**
 * Card: a reference-price estimate (calibration/reference-prices.ts) into the calibration
 * record and, when the data support it, into the scenario: every logit segment's
 * referencePrice {memory per day, gain, loss}; the memory per period z becomes per day
 * z^(1/days per period). Gain and loss are utility per currency unit, clipped at zero (the
 * scenario allows no negative ones; a default says so).
 */
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import { waldZ95, type ParameterEstimate } from './logit-poisson.js';
import { profileCutoff, type ReferencePriceEstimate } from './reference-prices.js';

const round = (value: number) => Number(value.toPrecision(6));
const finiteOr = (value: number, fallback = 0) => (Number.isFinite(value) ? round(value) : fallback);

export const referencePriceMethod =
  'profile likelihood over the memory z (grid 0..0.99, parabolic refinement) of the logit demand with gain max(r - p, 0) and loss max(p - r, 0) as utility regressors, r <- z r + (1 - z) p per store';

/**
 * Records the estimate (`calibration.referencePrices`) and, when supported, puts it in the
 * scenario: every logit segment gets referencePrice {memory per day, gain, loss}, and the
 * demand quality and price sensitivity become those of the fit with the reference terms
 * (without them the price sensitivity absorbs the short-run reference response). When not
 * supported the scenario keeps no reference price and the defaults say why.
 */
export function applyReferencePrices(scenario: ScenarioInput, record: CalibrationRecord, estimate: ReferencePriceEstimate, daysPerPeriod: number): void {
  const perDay = (memory: number) => (daysPerPeriod === 1 ? memory : memory ** (1 / daysPerPeriod));
  const interval = (parameter: ParameterEstimate) => ({ value: finiteOr(parameter.value), standardError: finiteOr(parameter.standardError), lower: finiteOr(parameter.lower), upper: finiteOr(parameter.upper) });
  record.referencePrices = {
    supported: estimate.supported,
    ...(estimate.reason === undefined ? {} : { reason: estimate.reason }),
    method: referencePriceMethod,
    priceRises: estimate.priceRises,
    priceCuts: estimate.priceCuts,
    ...(estimate.fit
      ? {
          memory: {
            value: round(estimate.memory.value),
            lower: round(estimate.memory.lower),
            upper: round(estimate.memory.upper),
            perDay: round(perDay(estimate.memory.value)),
            method: `maximum of the profile likelihood; interval: memories within ${profileCutoff.toFixed(2)}${estimate.dispersion > 1 ? ` x the dispersion ${estimate.dispersion.toPrecision(3)}` : ''} of the maximum (likelihood ratio, chi-square 1 df); per period of the history (per day: z^(1/${daysPerPeriod}))`,
          },
          gain: { ...interval(estimate.gain), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
          loss: { ...interval(estimate.loss), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
          lossAversion: {
            difference: finiteOr(estimate.lossAversion.difference),
            standardError: finiteOr(estimate.lossAversion.standardError),
            statistic: finiteOr(estimate.lossAversion.statistic),
            pValue: finiteOr(estimate.lossAversion.pValue, 1),
            method: 'one-sided Wald test of loss - gain > 0, variance from the covariance of the two coefficients',
          },
          noReferenceTest: {
            statistic: finiteOr(estimate.noReferenceTest.statistic),
            pValue: finiteOr(estimate.noReferenceTest.pValue, 1),
            method: 'likelihood ratio of gain = loss = 0 at the best memory, chi-square 2 df (optimistic: the memory is not identified under the null)',
          },
          profile: estimate.profile.filter((point) => Number.isFinite(point.logLikelihood)).map((point) => ({ memory: round(point.memory), logLikelihood: round(point.logLikelihood) })),
        }
      : {}),
  };
  const demand = scenario.demand;
  if (!estimate.supported || !estimate.fit || demand.kind !== 'logit') {
    record.defaults.push({ field: 'demand.segments[].referencePrice', value: 'none', reason: estimate.reason ?? 'the demand is not a logit' });
    return;
  }
  const gain = Math.max(0, estimate.gain.value);
  const loss = Math.max(0, estimate.loss.value);
  if (estimate.gain.value < 0) record.defaults.push({ field: 'demand.segments[].referencePrice.gain', value: 0, reason: `the fitted gain ${round(estimate.gain.value)} is negative; the scenario allows none` });
  if (estimate.loss.value < 0) record.defaults.push({ field: 'demand.segments[].referencePrice.loss', value: 0, reason: `the fitted loss ${round(estimate.loss.value)} is negative; the scenario allows none` });
  const adjusted = (index: number): ParameterEstimate | undefined => {
    const parameter = estimate.fit?.parameters[index];
    const standardError = Math.sqrt(estimate.covariance[index]?.[index] ?? Number.NaN);
    return parameter && { ...parameter, standardError, lower: parameter.value - waldZ95 * standardError, upper: parameter.value + waldZ95 * standardError };
  };
  const quality = adjusted(0);
  const sensitivity = adjusted(1);
  if (!quality || !sensitivity) return;
  demand.quality = round(quality.value);
  demand.segments.forEach((segment) => {
    segment.priceSensitivity = round(sensitivity.value);
    segment.referencePrice = { memory: round(Math.min(0.99, perDay(estimate.memory.value))), gain: round(gain), loss: round(loss) };
  });
  // The demand estimates now come from the fit with the reference terms.
  const method = `maximum likelihood: Poisson units with the logit mean and reference-price gain and loss at memory ${round(estimate.memory.value)}; ${estimate.fit.intervalMethod}, the memory's uncertainty added (delta method)`;
  for (const [index, parameter] of [quality, sensitivity].entries()) {
    const entry = record.estimates.find((candidate) => candidate.parameter === parameter.name);
    const values = { ...interval(parameter), method };
    if (entry) Object.assign(entry, values);
    else record.estimates.push({ parameter: parameter.name, scenarioPath: index === 0 ? 'demand.quality' : 'demand.segments[0].priceSensitivity', ...values });
  }
  record.estimates.push(
    { parameter: 'referenceMemory', scenarioPath: 'demand.segments[].referencePrice.memory', value: round(perDay(estimate.memory.value)), standardError: 0, lower: round(perDay(estimate.memory.lower)), upper: round(perDay(estimate.memory.upper)), method: 'profile likelihood (per day); the interval is the likelihood-ratio one, no standard error' },
    { parameter: 'referenceGain', scenarioPath: 'demand.segments[].referencePrice.gain', ...interval(estimate.gain), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
    { parameter: 'referenceLoss', scenarioPath: 'demand.segments[].referencePrice.loss', ...interval(estimate.loss), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
  );
}
