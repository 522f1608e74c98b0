/**
 * What a competitor strategy fit becomes (method in competitors.ts): the scenario's competitor
 * fields for the chosen strategy, the rounded calibration.competitorStrategies record, the
 * summary lines of `pricelab calibrate`, and the calibration.estimates entries with Wald intervals.
 */
import type { ScenarioInput } from '../scenarios/schema.js';
import { competitorKinds, z975, type CompetitorKind, type ParameterValue, type RivalStrategyFit, type StrategyCandidate } from './competitor-types.js';

type CompetitorInput = NonNullable<ScenarioInput['competitors']>[number];

/**
 * The scenario's competitor fields for a chosen strategy: the strategy block, the unit cost
 * (a fitted best-response cost, or the default cost adjusted so that unitCost x (1 +
 * floorMargin) is the fitted floor of match and undercut) and the latency in days.
 */
export function scenarioCompetitorFields(
  fit: RivalStrategyFit,
  defaults: { readonly unitCost: number; readonly daysPerPeriod: number },
): { strategy: CompetitorInput['strategy']; unitCost: number; unitCostFitted: boolean; latencyDays: number } {
  const chosen = fit.chosen;
  const number = (key: string) => Number(chosen.parameters[key]);
  const round = (value: number) => Number(value.toPrecision(6));
  const latencyDays = chosen.latency * defaults.daysPerPeriod;
  const floorAndCost = () => {
    const floor = number('floor');
    // floorMargin is at most 100 in the schema: a floor above 101 x the default cost raises the cost instead.
    const unitCost = Math.max(Math.min(defaults.unitCost, floor), floor / 101);
    return { unitCost: round(unitCost), floorMargin: round(Math.min(100, Math.max(0, floor / Math.max(unitCost, 1e-12) - 1))) };
  };
  switch (chosen.kind) {
    case 'fixed':
      return { strategy: { kind: 'fixed', price: round(number('price')) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'random-walk':
      return { strategy: { kind: 'random-walk', step: round(number('step')), min: round(number('min')), max: round(Math.max(number('max'), number('min') * 1.0001)) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'match': {
      const { unitCost, floorMargin } = floorAndCost();
      return { strategy: { kind: 'match', floorMargin }, unitCost, unitCostFitted: false, latencyDays };
    }
    case 'undercut': {
      const { unitCost, floorMargin } = floorAndCost();
      return { strategy: { kind: 'undercut', amount: round(number('amount')), floorMargin }, unitCost, unitCostFitted: false, latencyDays };
    }
    case 'two-bound':
      return { strategy: { kind: 'two-bound', step: round(number('step')), floor: round(number('floor')), ceiling: round(Math.max(number('ceiling'), number('floor') * 1.0001)) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'ratio-follower':
      return { strategy: { kind: 'ratio-follower', target: String(chosen.parameters.target), ratio: round(number('ratio')) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'best-response':
      return { strategy: { kind: 'best-response' }, unitCost: round(number('unitCost')), unitCostFitted: true, latencyDays };
  }
}

/** The record of a fit, rounded to 6 significant digits (calibration.competitorStrategies). */
export function competitorStrategyRecord(fit: RivalStrategyFit, competitor: string) {
  const round = (value: number) => Number(value.toPrecision(6));
  const roundParameters = (parameters: Readonly<Record<string, ParameterValue>>) =>
    Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, typeof value === 'number' ? round(value) : typeof value === 'string' ? value : value.map(round)]));
  const candidate = (entry: StrategyCandidate) => ({
    kind: entry.kind,
    logLikelihood: round(entry.logLikelihood),
    parameterCount: entry.parameterCount,
    bic: round(entry.bic),
    sigma: round(entry.sigma),
    latency: entry.latency,
    phase: entry.phase,
    parameters: roundParameters(entry.parameters),
    intervals: Object.fromEntries(Object.entries(entry.intervals).map(([key, [lower, upper]]) => [key, [round(lower), round(upper)] as [number, number]])),
  });
  return {
    rival: fit.column ?? fit.name,
    competitor,
    chosen: fit.chosen.kind,
    observations: fit.observations,
    noiseFloor: round(fit.noiseFloor),
    candidates: fit.candidates.map(candidate),
    notFitted: fit.notFitted.map((entry) => ({ kind: entry.kind, reason: entry.reason })),
    method: competitorMethod,
  };
}

export const competitorMethod =
  'each strategy of the simulator fitted by maximum likelihood to the rival\'s price given every firm\'s price one period earlier (Gaussian noise in currency units, sigma profiled and floored at the noise floor; stores pooled); chosen by the smallest BIC = -2 loglik + k log n (docs/calibration.md, Competitors)';

/** What the summary reads of a calibration.competitorStrategies entry. */
interface CompetitorSummaryInput {
  readonly rival: string;
  readonly competitor: string;
  readonly chosen: string;
  readonly observations: number;
  readonly candidates: readonly { readonly kind: string; readonly bic: number; readonly latency: number; readonly parameters: Readonly<Record<string, ParameterValue>> }[];
}

/**
 * The text lines of `pricelab calibrate` for the competitor fits: per rival, every kind's
 * BIC (the chosen one starred, with its latency and parameters), aligned in columns.
 */
export function competitorSummaryLines(records: readonly CompetitorSummaryInput[] | undefined): string[] {
  if (!records || records.length === 0) return [];
  const header = ['rival', 'pairs', ...competitorKinds];
  const rows = records.map((record) => [
    `${record.rival} -> ${record.competitor}`,
    String(record.observations),
    ...competitorKinds.map((kind) => {
      const candidate = record.candidates.find((entry) => entry.kind === kind);
      return candidate ? `${candidate.bic.toFixed(1)}${kind === record.chosen ? '*' : ''}` : '-';
    }),
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (row: readonly string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  const chosen = records.map((record) => {
    const candidate = record.candidates.find((entry) => entry.kind === record.chosen);
    const parameters = Object.entries(candidate?.parameters ?? {})
      .filter(([, value]) => !Array.isArray(value))
      .map(([key, value]) => `${key} ${String(value)}`)
      .join(', ');
    return `  ${record.competitor}: ${record.chosen}${candidate && candidate.latency > 1 ? ` every ${candidate.latency} periods` : ''} (${parameters})`;
  });
  return ['', 'competitor strategies (BIC, smallest starred; docs/calibration.md, Competitors):', format(header), ...rows.map(format), ...chosen];
}

/** Where each chosen parameter goes in the competitor block (absent: recorded only, e.g. a floor, which sets unitCost x (1 + floorMargin)). */
const scenarioFields: Partial<Record<CompetitorKind, Record<string, string>>> = {
  fixed: { price: 'strategy.price' },
  'random-walk': { step: 'strategy.step' },
  undercut: { amount: 'strategy.amount' },
  'two-bound': { step: 'strategy.step', ceiling: 'strategy.ceiling' },
  'ratio-follower': { ratio: 'strategy.ratio' },
  'best-response': { unitCost: 'unitCost' },
};

const competitorEstimateMethod =
  'competitor strategy fit (docs/calibration.md, Competitors): least squares within the chosen strategy\'s branch, given its kind, latency and change points; Wald 95% interval sigma / sqrt(information)';

/** calibration.estimates entries for the chosen strategy's parameters that have a Wald interval. */
export function competitorEstimates(fit: RivalStrategyFit, position: number): { parameter: string; scenarioPath?: string; value: number; standardError: number; lower: number; upper: number; method: string }[] {
  const round = (value: number) => Number(value.toPrecision(6));
  const chosen = fit.chosen;
  const ranges = new Set(Object.keys(chosen.kind === 'two-bound' ? { floor: true } : {}));
  return Object.entries(chosen.intervals).flatMap(([name, [lower, upper]]) => {
    if (ranges.has(name)) return [];
    const value = Number(chosen.parameters[name]);
    const field = scenarioFields[chosen.kind]?.[name];
    return [
      {
        parameter: `competitor:${fit.name}.${chosen.kind}.${name}`,
        ...(field === undefined ? {} : { scenarioPath: `competitors[${position}].${field}` }),
        value: round(value),
        standardError: round((upper - lower) / (2 * z975)),
        lower: round(lower),
        upper: round(upper),
        method: competitorEstimateMethod,
      },
    ];
  });
}
