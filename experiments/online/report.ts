/**
 * What every online design reports, in one shape: the estimate of the global treatment
 * effect (mean daily reward under B minus under A) with its fixed-horizon interval, the
 * always-valid interval a monitoring dashboard would show (mSPRT confidence sequence over
 * the design's sequence of paired differences), the truth from full-horizon runs on common
 * seeds (truth.ts), and the bias (estimate - truth).
 */
import type { AlwaysValidInterval } from '../statistics/index.js';

export type DesignName = 'switchback' | 'split' | 'customer';

export interface OnlineExperimentReport {
  readonly design: DesignName;
  readonly scenario: string;
  readonly policies: { readonly a: string; readonly b: string };
  readonly seed: number;
  readonly days: number;
  /** Estimated effect of B over A on the mean daily reward. */
  readonly estimate: number;
  readonly standardError: number;
  readonly low: number;
  readonly high: number;
  readonly level: number;
  /** How the interval was computed (which test, over which units). */
  readonly method: string;
  /** The always-valid (sequential) interval over the same differences, for monitoring. */
  readonly alwaysValid: AlwaysValidInterval;
  /** The truth: B minus A when the whole market runs each, on the same seeds. */
  readonly truth: { readonly effect: number; readonly meanA: number; readonly meanB: number };
  /** estimate - truth. */
  readonly bias: number;
  readonly truthInInterval: boolean;
  /** Warnings that come with the design (unfair to customers, biased by substitution, ...). */
  readonly flags: readonly string[];
  /** Design-specific details (assignments, block means, units). */
  readonly details: Record<string, unknown>;
}

/** The interval fields of a report, from a t-test's result at `level`. */
export function intervalOf(test: { estimate: number; standardError: number; low: number; high: number }, level: number): Pick<OnlineExperimentReport, 'estimate' | 'standardError' | 'low' | 'high' | 'level'> {
  return { estimate: test.estimate, standardError: test.standardError, low: test.low, high: test.high, level };
}

export function withTruth(
  partial: Omit<OnlineExperimentReport, 'truth' | 'bias' | 'truthInInterval'>,
  truth: { effect: number; meanA: number; meanB: number },
): OnlineExperimentReport {
  return {
    ...partial,
    truth: { effect: truth.effect, meanA: truth.meanA, meanB: truth.meanB },
    bias: partial.estimate - truth.effect,
    truthInInterval: truth.effect >= partial.low && truth.effect <= partial.high,
  };
}
