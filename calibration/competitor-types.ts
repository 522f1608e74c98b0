/**
 * The shapes of a competitor strategy fit (issue 15, item 7; method in competitors.ts): the
 * strategy kinds, one candidate's fit, a rival's fit with every candidate, the price history
 * fitted, the demand a best response replies under, and the fit's options.
 */
export const competitorKinds = ['fixed', 'random-walk', 'match', 'undercut', 'two-bound', 'ratio-follower', 'best-response'] as const;
export type CompetitorKind = (typeof competitorKinds)[number];

export type ParameterValue = number | string | readonly number[];

export interface StrategyCandidate {
  readonly kind: CompetitorKind;
  readonly logLikelihood: number;
  /** Free parameters counted by the BIC, sigma included. */
  readonly parameterCount: number;
  readonly bic: number;
  /** Fitted noise standard deviation, currency units. */
  readonly sigma: number;
  /** Repricing every `latency` periods, on periods with (period - phase) mod latency = 0. */
  readonly latency: number;
  readonly phase: number;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /**
   * 95% intervals of the continuous parameters, given the kind, latency and change points:
   * Wald from the least-squares information within the chosen branch (sigma / sqrt of it),
   * or the range of values that fit the same for a threshold. Absent when not identified.
   */
  readonly intervals: Readonly<Record<string, readonly [number, number]>>;
}

export interface RivalStrategyFit {
  /** Firm index of the rival in the history (ours is 0). */
  readonly firm: number;
  /** The rival's name in the history (the scenario's competitor name through calibrate). */
  readonly name: string;
  /** The sales file's rival price column, through fitCompetitorStrategies. */
  readonly column?: string;
  /** Transitions (pairs of consecutive periods) in the likelihood. */
  readonly observations: number;
  /** sigma's floor, currency units. */
  readonly noiseFloor: number;
  readonly chosen: StrategyCandidate;
  /** One per strategy kind fitted, in `competitorKinds` order. */
  readonly candidates: readonly StrategyCandidate[];
  /** Kinds not fitted and why (best response without a demand model). */
  readonly notFitted: readonly { readonly kind: CompetitorKind; readonly reason: string }[];
}

/**
 * Prices per firm and row: firm 0 is ours, the others rivals. Rows of one series (store)
 * are consecutive and in period order; a row follows the one before when both are of the
 * same series and one period apart.
 */
export interface PriceHistory {
  readonly prices: readonly Float64Array[];
  readonly period: Float64Array;
  readonly series: Int32Array;
  /** Names of the firms (for the ratio follower's target); default focal, firm-1, ... */
  readonly names?: readonly string[];
  /**
   * 1 for rows whose prices are not the strategies' own (festival periods, where the
   * simulator discounts every rival's regular price): no pair with such a row is used.
   */
  readonly leaveOut?: Uint8Array;
}

/** The demand the best response replies under: the calibrated logit (one segment, scale 1, outside utility 0). */
export interface ResponseDemand {
  /** Quality of every firm of the history, ours first. */
  readonly qualities: readonly number[];
  readonly priceSensitivity: number;
}

export interface CompetitorFitOptions {
  readonly demand?: ResponseDemand | undefined;
  /** sigma's floor as a share of the median rival price (default 0.001). */
  readonly noiseFloor?: number;
  /** Longest repricing latency tried, in periods (default 1). */
  readonly maxLatency?: number;
  /** Transitions used at most (default 20,000): whole series in row order until the cap. */
  readonly maxTransitions?: number;
  /** Firms a ratio follower may follow (default every other firm): the firms of the scenario. */
  readonly ratioTargets?: readonly number[];
}
/** The standard normal 97.5% quantile: 95% Wald intervals are value +- z975 standard errors. */
export const z975 = 1.959963984540054;
