/**
 * Card: the design of the demand fit (calibration/logit-poisson.ts): its rows, in memory
 * (LogitPoissonData) or block by block (BlockedLogitPoissonData, a long history read from its
 * scratch file), the parameter layout and names (quality, priceSensitivity, lift:<promotion>,
 * rivalQuality:<column>, arrival:<level>, then the arrival covariates), and what a row's
 * mean is made of under theta: its log market size with the arrival effects, and our logit
 * share against the outside option and the rivals.
 */
export interface LogitPoissonData {
  readonly rows: number;
  readonly units: Float64Array;
  /** log of the market size (arrivals) per row. */
  readonly logMarketSize: Float64Array;
  readonly price: Float64Array;
  readonly promotions: readonly Float64Array[];
  readonly promotionNames: readonly string[];
  readonly rivalPrices: readonly Float64Array[];
  readonly rivalNames: readonly string[];
  /** 1 for rows used in the fit (e.g. the training part of a holdout split); all rows when absent. */
  readonly include?: Uint8Array;
  /**
   * Arrival effects: log multipliers of the market size by level (e.g. weekday), for when no
   * traffic column measures arrivals. level[row] is the row's level, -1 for the baseline;
   * the parameters are named `arrival:<name>`, after the rival qualities.
   */
  readonly arrivalEffects?: { readonly names: readonly string[]; readonly level: Int8Array };
  /**
   * Arrival covariates: columns x_j whose effect beta_j adds beta_j x_j[row] to log lambda
   * (festival windows, season, weather: calibration/calendar-effects.ts). Their parameters
   * follow the arrival effects and are named as given.
   */
  readonly arrivalCovariates?: { readonly names: readonly string[]; readonly columns: readonly Float64Array[] };
  /** 1 for censored rows (the period stocked out: demand >= units sold); their term is log P(Y >= y). All exact when absent. */
  readonly censored?: Uint8Array;
}

/**
 * A design whose rows come block by block (a long history read from its scratch file:
 * calibration/sales-blocks.ts): each block is a LogitPoissonData over its own rows, read
 * afresh at each pass. Every fit sums over the blocks in row order, so a blocked design
 * gives the fit of the same rows in one block, to the last bit.
 */
export interface BlockedLogitPoissonData {
  readonly rows: number;
  readonly promotionNames: readonly string[];
  readonly rivalNames: readonly string[];
  readonly arrivalNames: readonly string[];
  readonly covariateNames: readonly string[];
  /** The blocks in row order; a block may be reused (overwritten) once the next is asked for. */
  blocks(): Iterable<LogitPoissonData>;
}

/** A design in memory, or read block by block. */
export type DemandData = LogitPoissonData | BlockedLogitPoissonData;

/** The blocks of a design (one for a design in memory). */
export function designBlocks(data: DemandData): Iterable<LogitPoissonData> {
  return 'blocks' in data ? data.blocks() : [data];
}

/** Parameter counts and names of a design. */
export function shapeOf(data: DemandData): { promotionCount: number; rivalCount: number; arrivalNames: readonly string[]; covariateNames: readonly string[]; promotionNames: readonly string[]; rivalNames: readonly string[] } {
  if ('blocks' in data) return { promotionCount: data.promotionNames.length, rivalCount: data.rivalNames.length, arrivalNames: data.arrivalNames, covariateNames: data.covariateNames, promotionNames: data.promotionNames, rivalNames: data.rivalNames };
  return {
    promotionCount: data.promotions.length,
    rivalCount: data.rivalPrices.length,
    arrivalNames: data.arrivalEffects?.names ?? [],
    covariateNames: data.arrivalCovariates?.names ?? [],
    promotionNames: data.promotionNames,
    rivalNames: data.rivalNames,
  };
}

/** Parameters of the fit: quality, price sensitivity, one per promotion, rival, arrival effect and covariate. */
export function parameterCount(design: DemandData): number {
  const shape = shapeOf(design);
  return 2 + shape.promotionCount + shape.rivalCount + shape.arrivalNames.length + shape.covariateNames.length;
}

export function parameterNames(promotionNames: readonly string[], rivalNames: readonly string[], arrivalNames: readonly string[] = [], covariateNames: readonly string[] = []): string[] {
  return [
    'quality',
    'priceSensitivity',
    ...promotionNames.map((name) => `lift:${name}`),
    ...rivalNames.map((name) => `rivalQuality:${name}`),
    ...arrivalNames.map((name) => `arrival:${name}`),
    ...covariateNames,
  ];
}

/** The row's log market size plus its arrival effect under `theta` (the effects follow the rival qualities). */
export function rowLogMarketSize(data: LogitPoissonData, theta: ArrayLike<number>, row: number): number {
  const level = data.arrivalEffects?.level[row] ?? -1;
  const offset = 2 + data.promotions.length + data.rivalPrices.length;
  let covariates = 0;
  const covariateOffset = offset + (data.arrivalEffects?.names.length ?? 0);
  data.arrivalCovariates?.columns.forEach((column, index) => (covariates += (theta[covariateOffset + index] ?? 0) * (column[row] ?? 0)));
  return (data.logMarketSize[row] ?? 0) + (level >= 0 ? (theta[offset + level] ?? 0) : 0) + covariates;
}

/** The rivals' utilities of the last logitShare call (reused: no allocation per row). */
let rivalUtilities = new Float64Array(8);

/** Our logit share given the parameters, one row's price, promotions and rival prices. */
export function logitShare(theta: ArrayLike<number>, price: number, promotions: ArrayLike<number>, rivalPrices: ArrayLike<number>): number {
  const sensitivity = theta[1] ?? 0;
  let ours = (theta[0] ?? 0) - sensitivity * price;
  for (let index = 0; index < promotions.length; index++) ours += (theta[2 + index] ?? 0) * (promotions[index] ?? 0);
  let largest = Math.max(0, ours);
  if (rivalUtilities.length < rivalPrices.length) rivalUtilities = new Float64Array(rivalPrices.length);
  const utilities = rivalUtilities;
  for (let index = 0; index < rivalPrices.length; index++) {
    const utility = (theta[2 + promotions.length + index] ?? 0) - sensitivity * (rivalPrices[index] ?? 0);
    utilities[index] = utility;
    largest = Math.max(largest, utility);
  }
  let denominator = Math.exp(-largest) + Math.exp(ours - largest);
  for (let index = 0; index < rivalPrices.length; index++) denominator += Math.exp((utilities[index] ?? 0) - largest);
  return Math.exp(ours - largest) / denominator;
}

/** Copies one row of some columns into `into` (a row's promotions or rival prices, say). */
export function rowOf(columns: readonly ArrayLike<number>[], row: number, into: Float64Array): Float64Array {
  for (let index = 0; index < columns.length; index++) into[index] = columns[index]?.[row] ?? 0;
  return into;
}
