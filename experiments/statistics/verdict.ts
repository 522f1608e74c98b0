/**
 * The verdict on one arm against the baseline for one KPI: 'better' or 'worse' when the
 * difference is significant after correction (adjusted p < alpha, Holm by default), in the
 * direction the KPI prefers; otherwise 'no detectable difference' (which is not "equal": the
 * report gives the minimum detectable effect at the seeds used beside it, from power.ts).
 */
import { openUnitProblems, refuse } from './validate.js';

export type Verdict = 'better' | 'worse' | 'no detectable difference';

export interface VerdictOptions {
  /** The arm minus the baseline, in the KPI's units. */
  estimate: number;
  /** The corrected p-value of that difference (Holm across arms and KPIs). */
  adjustedP: number;
  /** Significance level (default 0.05). */
  alpha?: number;
  /** True for revenue or profit, false for stockouts or refunds. */
  higherIsBetter: boolean;
}

export function verdictOf(options: VerdictOptions): Verdict {
  const alpha = options.alpha ?? 0.05;
  refuse('verdict', [
    ...openUnitProblems('alpha', alpha),
    ...(Number.isFinite(options.estimate) ? [] : [{ path: ['estimate'], message: `expected a finite number, found ${String(options.estimate)}` }]),
    ...(options.adjustedP >= 0 && options.adjustedP <= 1 ? [] : [{ path: ['adjustedP'], message: `expected a p-value in [0, 1], found ${String(options.adjustedP)}` }]),
  ]);
  if (options.adjustedP >= alpha || options.estimate === 0) return 'no detectable difference';
  return options.estimate > 0 === options.higherIsBetter ? 'better' : 'worse';
}
