/**
 * Card: one censored row's term of the demand likelihood (calibration/logit-poisson.ts).
 *
 * Censored rows (a stockout: units sold is a lower bound on demand, `censored`): the row's
 * term is log P(Y >= y) instead of log P(Y = y), under the same law (Tobit-style). With
 * eta = log lambda and S = P(Y >= y): dS/deta = y P(Y = y) for both laws (Poisson:
 * S = P(y, lambda), the regularized lower incomplete gamma; NB2: S = I_x(y, k), the
 * regularized incomplete beta at x = lambda / (k + lambda)), so
 *   dl/deta = a = y P(Y = y) / S,   d2l/deta2 = a (r_y - a)
 * where r_y = dlog P(Y = y)/deta is the uncensored row's residual (y - lambda, or
 * k (y - lambda) / (k + lambda)). The rest of the chain rule (through the shares) is the
 * uncensored row's with a in place of the residual and a (a - r_y) as the curvature; a
 * censored row with y = 0 carries no information (S = 1). Its Fisher-scoring weight is a^2
 * (the censored score's square: positive, for the fallback direction only; intervals use the
 * observed information). Incomplete gamma and beta from @stdlib.
 */
import betainc from '@stdlib/math-base-special-betainc';
import gammainc from '@stdlib/math-base-special-gammainc';
import gammaln from '@stdlib/math-base-special-gammaln';

/**
 * One censored row's term: log S with S = P(Y >= y), its derivative in eta = log lambda
 * (`score`, a = y P(Y = y) / S) and minus its second derivative (`curvature`, a (a - r_y)),
 * under the Poisson (dispersionSize Infinity) or NB2 with size k. Non-integer y (units from
 * log units) use the continuous extensions (incomplete gamma and beta at real y).
 */
export function censoredTerm(units: number, logLambda: number, dispersionSize = Number.POSITIVE_INFINITY): { logSurvival: number; score: number; curvature: number } {
  if (!(units > 0)) return { logSurvival: 0, score: 0, curvature: 0 };
  const lambda = Math.exp(logLambda);
  const poisson = !Number.isFinite(dispersionSize);
  const k = dispersionSize;
  // log P(Y = y) (continuous in y) and r_y = dlog P(Y = y)/deta.
  const logProbability = poisson
    ? units * logLambda - lambda - gammaln(units + 1)
    : gammaln(units + k) - gammaln(k) - gammaln(units + 1) + k * (Math.log(k) - Math.log(k + lambda)) + units * (logLambda - Math.log(k + lambda));
  const residual = poisson ? units - lambda : (k * (units - lambda)) / (k + lambda);
  const survival = poisson ? gammainc(lambda, units) : betainc(lambda / (k + lambda), units, k);
  let logSurvival = Math.log(survival);
  if (!(survival > 1e-300)) {
    // Far in the tail (lambda << y) S leaves the normal doubles: sum the tail itself,
    // S = P(Y = y) sum_j prod_{i < j} P(Y = y + i + 1) / P(Y = y + i), whose ratios
    // (lambda / (y + i + 1), or x (y + i + k) / (y + i + 1)) are small there.
    const x = poisson ? 0 : lambda / (k + lambda);
    let term = 1;
    let sum = 1;
    for (let index = 0; index < 100_000 && term > 1e-17 * sum; index++) {
      term *= poisson ? lambda / (units + index + 1) : (x * (units + index + k)) / (units + index + 1);
      sum += term;
    }
    logSurvival = logProbability + Math.log(sum);
  }
  const score = Math.exp(Math.log(units) + logProbability - logSurvival);
  return { logSurvival, score, curvature: score * (score - residual) };
}
