/**
 * The fit's own figures for the calibration report (report.ts): each row's fitted mean
 * M_t s_t, the Pearson residuals, the identified parameters, and the price-response curve
 * (expected units and profit over the observed prices, 95% band by the delta method).
 */
import type { CalibrationResult } from './calibrate.js';
import { logitShare, waldZ95 } from './logit-poisson.js';
import type { PricePoint } from './report-types.js';

/** Each row's fitted mean M_t s_t under the final fit. */
export function fittedMeans(result: CalibrationResult): Float64Array {
  const { sales, logMarketSize } = result.rows;
  const theta = result.fit.theta;
  const promotions = new Float64Array(sales.promotions.length);
  const rivals = new Float64Array(sales.rivalPrices.length);
  const means = new Float64Array(sales.rows);
  for (let row = 0; row < sales.rows; row++) {
    loadRow(result, row, promotions, rivals);
    means[row] = Math.exp(logMarketSize[row] ?? 0) * logitShare(theta, sales.price[row] ?? 0, promotions, rivals);
  }
  return means;
}

function loadRow(result: CalibrationResult, row: number, promotions: Float64Array, rivals: Float64Array): void {
  const sales = result.rows.sales;
  sales.promotions.forEach((column, index) => (promotions[index] = column[row] ?? 0));
  sales.rivalPrices.forEach((column, index) => (rivals[index] = column[row] ?? 0));
}

/** Pearson residuals (y - m) / sqrt(V(m)): V(m) = m (Poisson) or m + m^2 / k (negative binomial). */
export function pearsonResiduals(result: CalibrationResult, means = fittedMeans(result)): Float64Array {
  const size = result.fit.dispersionSize?.value;
  const units = result.rows.sales.units;
  return means.map((mean, row) => {
    const variance = size === undefined ? mean : mean + (mean * mean) / size;
    return variance > 0 ? ((units[row] ?? 0) - mean) / Math.sqrt(variance) : 0;
  });
}

/** Indices of the identified parameters (finite, positive variance) of the fit. */
export function identifiedParameters(result: CalibrationResult): number[] {
  return result.fit.parameters.flatMap((_, index) => {
    const variance = result.fit.covariance[index]?.[index] ?? Number.NaN;
    return Number.isFinite(variance) && variance > 0 ? [index] : [];
  });
}

/**
 * Expected units and profit over `points` prices spanning the observed range: the mean over
 * rows of M_t s_t(p) (each row's promotions, rival prices and market size kept), with a 95%
 * band by the delta method: Var = g' Cov g, g the gradient of that mean in the identified
 * parameters, d(M s)/dtheta = M s (d_0 - sum_j s_j d_j) (weekday arrival effects, when
 * fitted, held at their estimates). Profit is (p - c) x units, c the scenario's unit cost.
 */
export function priceResponse(result: CalibrationResult, points = 40): PricePoint[] {
  const { sales, logMarketSize } = result.rows;
  const theta = result.fit.theta;
  const promotionCount = sales.promotions.length;
  const rivalCount = sales.rivalPrices.length;
  const identified = identifiedParameters(result);
  const size = theta.length;
  const unitCost = result.scenario.unitCost;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const price of sales.price) {
    low = Math.min(low, price);
    high = Math.max(high, price);
  }
  const sensitivity = theta[1] ?? 0;
  const gradient = new Float64Array(size);
  const direction = new Float64Array(size);
  const rivalShares = new Float64Array(rivalCount);
  const curve: PricePoint[] = [];
  for (let point = 0; point < points; point++) {
    const price = points === 1 ? low : low + ((high - low) * point) / (points - 1);
    gradient.fill(0);
    let units = 0;
    for (let row = 0; row < sales.rows; row++) {
      let ours = (theta[0] ?? 0) - sensitivity * price;
      for (let index = 0; index < promotionCount; index++) ours += (theta[2 + index] ?? 0) * (sales.promotions[index]?.[row] ?? 0);
      let largest = Math.max(0, ours);
      for (let index = 0; index < rivalCount; index++) {
        const utility = (theta[2 + promotionCount + index] ?? 0) - sensitivity * (sales.rivalPrices[index]?.[row] ?? 0);
        rivalShares[index] = utility;
        largest = Math.max(largest, utility);
      }
      let denominator = Math.exp(-largest) + Math.exp(ours - largest);
      for (let index = 0; index < rivalCount; index++) {
        rivalShares[index] = Math.exp((rivalShares[index] ?? 0) - largest);
        denominator += rivalShares[index] ?? 0;
      }
      const share = Math.exp(ours - largest) / denominator;
      for (let index = 0; index < rivalCount; index++) rivalShares[index] = (rivalShares[index] ?? 0) / denominator;
      const mean = Math.exp(logMarketSize[row] ?? 0) * share;
      units += mean;
      // d log s / d theta = d_0 - sum_j s_j d_j, d_0 = (1, -p, z), d_k = (0, -r_k, e_k).
      direction.fill(0);
      direction[0] = 1 - share;
      let priceTerm = -price * share;
      for (let index = 0; index < rivalCount; index++) priceTerm += -(sales.rivalPrices[index]?.[row] ?? 0) * (rivalShares[index] ?? 0);
      direction[1] = -price - priceTerm;
      for (let index = 0; index < promotionCount; index++) direction[2 + index] = (sales.promotions[index]?.[row] ?? 0) * (1 - share);
      for (let index = 0; index < rivalCount; index++) direction[2 + promotionCount + index] = -(rivalShares[index] ?? 0);
      for (let index = 0; index < size; index++) gradient[index] = (gradient[index] ?? 0) + mean * (direction[index] ?? 0);
    }
    units /= sales.rows;
    let variance = 0;
    for (const left of identified) {
      for (const right of identified) variance += ((gradient[left] ?? 0) / sales.rows) * (result.fit.covariance[left]?.[right] ?? 0) * ((gradient[right] ?? 0) / sales.rows);
    }
    const halfWidth = waldZ95 * Math.sqrt(Math.max(0, variance));
    const unitsLower = Math.max(0, units - halfWidth);
    const unitsUpper = units + halfWidth;
    const margin = price - unitCost;
    const profitEnds = [margin * unitsLower, margin * unitsUpper];
    curve.push({ price, units, unitsLower, unitsUpper, profit: margin * units, profitLower: Math.min(...profitEnds), profitUpper: Math.max(...profitEnds) });
  }
  return curve;
}
