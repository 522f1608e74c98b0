/**
 * The logit-Poisson estimator against closed forms. When the model is saturated (as many
 * cells of identical rows as parameters) the MLE fits each cell's mean exactly, so
 * logit(mean units / M) of each cell is a linear function of the parameters and the
 * estimates and their standard errors have closed forms:
 *   Var(logit(s_hat_j)) = 1 / (n_j M s_j (1 - s_j)^2)   (delta method on mean_j ~ Poisson(n_j M s_j) / n_j).
 */
import { describe, expect, it } from 'vitest';
import { fitLogitNegativeBinomial, fitLogitPoisson, logitShare, type LogitPoissonData } from '../../calibration/logit-poisson.js';
import { RandomStream } from '../../core/random.js';
import { poissonFromUniform } from '../../env/sampling.js';

const logit = (share: number) => Math.log(share / (1 - share));
const mean = (values: readonly number[]) => values.reduce((total, value) => total + value, 0) / values.length;

function design(cells: { price: number; promotion?: number; units: number[] }[], marketSize: number, withPromotion: boolean): LogitPoissonData {
  const rows = cells.flatMap((cell) => cell.units.map((units) => ({ units, price: cell.price, promotion: cell.promotion ?? 0 })));
  return {
    rows: rows.length,
    units: Float64Array.from(rows.map((row) => row.units)),
    logMarketSize: new Float64Array(rows.length).fill(Math.log(marketSize)),
    price: Float64Array.from(rows.map((row) => row.price)),
    promotions: withPromotion ? [Float64Array.from(rows.map((row) => row.promotion))] : [],
    promotionNames: withPromotion ? ['feature'] : [],
    rivalPrices: [],
    rivalNames: [],
  };
}

describe('fitLogitPoisson', () => {
  it('matches the closed form with two price levels (estimates and standard errors)', () => {
    const marketSize = 100;
    const low = [30, 35, 28, 32, 33];
    const high = [20, 18, 22, 19, 21, 17];
    const fit = fitLogitPoisson(design([{ price: 2, units: low }, { price: 4, units: high }], marketSize, false), { quasiThreshold: Number.POSITIVE_INFINITY });
    const shareLow = mean(low) / marketSize;
    const shareHigh = mean(high) / marketSize;
    const sensitivity = (logit(shareLow) - logit(shareHigh)) / (4 - 2);
    const quality = logit(shareLow) + sensitivity * 2;
    expect(fit.converged).toBe(true);
    expect(fit.theta[0]).toBeCloseTo(quality, 8);
    expect(fit.theta[1]).toBeCloseTo(sensitivity, 8);
    const varianceLow = 1 / (low.length * marketSize * shareLow * (1 - shareLow) ** 2);
    const varianceHigh = 1 / (high.length * marketSize * shareHigh * (1 - shareHigh) ** 2);
    expect(fit.parameters[1]?.standardError).toBeCloseTo(Math.sqrt(varianceLow + varianceHigh) / 2, 8);
    // quality = (2 logit_low - logit_high): variance 4 v_low + v_high.
    expect(fit.parameters[0]?.standardError).toBeCloseTo(Math.sqrt(4 * varianceLow + varianceHigh), 8);
    expect(fit.parameters[1]?.lower).toBeCloseTo(sensitivity - 1.959963984540054 * Math.sqrt(varianceLow + varianceHigh) / 2, 8);
  });

  it('matches the closed form of a promotion lift: the logit difference of the promoted and plain cells at one price', () => {
    const marketSize = 50;
    const plain = [10, 12, 11, 9];
    const promoted = [18, 20, 17];
    const otherPrice = [6, 5, 7, 6, 6];
    const fit = fitLogitPoisson(
      design([{ price: 3, units: plain }, { price: 3, promotion: 1, units: promoted }, { price: 5, units: otherPrice }], marketSize, true),
      { quasiThreshold: Number.POSITIVE_INFINITY },
    );
    expect(fit.parameters.map((parameter) => parameter.name)).toEqual(['quality', 'priceSensitivity', 'lift:feature']);
    expect(fit.theta[2]).toBeCloseTo(logit(mean(promoted) / marketSize) - logit(mean(plain) / marketSize), 8);
    expect(fit.theta[1]).toBeCloseTo((logit(mean(plain) / marketSize) - logit(mean(otherPrice) / marketSize)) / 2, 8);
  });

  it('reproduces the generating shares when units equal their expectation (rivals included)', () => {
    const truth = [2, 0.5, 1.5]; // quality, sensitivity, rival quality
    const rows = 60;
    const price = Float64Array.from({ length: rows }, (_, row) => 3 + (row % 5));
    const rival = Float64Array.from({ length: rows }, (_, row) => 4 + ((row * 7) % 4));
    const marketSize = 1000;
    const units = price.map((value, row) => marketSize * logitShare(truth, value, [], [rival[row] ?? 0]));
    const fit = fitLogitPoisson({
      rows,
      units,
      logMarketSize: new Float64Array(rows).fill(Math.log(marketSize)),
      price,
      promotions: [],
      promotionNames: [],
      rivalPrices: [rival],
      rivalNames: ['rival'],
    });
    expect(fit.converged).toBe(true);
    truth.forEach((value, index) => expect(fit.theta[index]).toBeCloseTo(value, 6));
    expect(fit.parameters[2]?.name).toBe('rivalQuality:rival');
  });
});

describe('fitLogitNegativeBinomial', () => {
  it('fits each cell mean exactly in a saturated design (the same closed form as the Poisson), whatever the size', () => {
    const marketSize = 100;
    const low = [30, 45, 18, 32, 40];
    const high = [20, 8, 32, 19, 11, 27];
    const data = design([{ price: 2, units: low }, { price: 4, units: high }], marketSize, false);
    const fit = fitLogitNegativeBinomial(data);
    expect(fit.likelihood).toBe('negative-binomial');
    expect(fit.theta[1]).toBeCloseTo((logit(mean(low) / marketSize) - logit(mean(high) / marketSize)) / 2, 6);
    expect(fit.dispersionSize?.value).toBeGreaterThan(1);
    // Overdispersed cells: the negative binomial's likelihood is higher than the Poisson's.
    expect(fit.logLikelihood).toBeGreaterThan(fitLogitPoisson(data).logLikelihood);
  });

  it('recovers the size and the price sensitivity of gamma-Poisson counts (seeded), intervals covering the truth', () => {
    const uniform = new RandomStream(11, 'test');
    const size = 2;
    const truth = [1, 0.6];
    const rows = 4000;
    const marketSize = 80;
    const price = Float64Array.from({ length: rows }, (_, row) => 1 + (row % 7) * 0.5);
    // Gamma(2, 1/2) as the mean of two exponentials: mean 1, variance 1/2, so units are NB2 with size 2.
    const units = price.map((value) => {
      const mixing = (-Math.log(1 - uniform.next()) - Math.log(1 - uniform.next())) / size;
      return poissonFromUniform(marketSize * logitShare(truth, value, [], []) * mixing, uniform.next());
    });
    const fit = fitLogitNegativeBinomial({ rows, units, logMarketSize: new Float64Array(rows).fill(Math.log(marketSize)), price, promotions: [], promotionNames: [], rivalPrices: [], rivalNames: [] });
    expect(fit.converged).toBe(true);
    expect(fit.dispersionSize?.lower).toBeLessThan(size);
    expect(fit.dispersionSize?.upper).toBeGreaterThan(size);
    expect(fit.parameters[1]?.lower).toBeLessThan(truth[1] ?? 0);
    expect(fit.parameters[1]?.upper).toBeGreaterThan(truth[1] ?? 0);
    expect(fit.intervalMethod).toContain('negative binomial');
  });
});
