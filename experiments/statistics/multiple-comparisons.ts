/**
 * Adjusted p-values for many comparisons at once (arms x KPIs), in the order given.
 *
 * Holm (1979, "A simple sequentially rejective multiple test procedure", Scand. J. Statist.
 * 6(2)), adjusted p-values as in Wright (1992, "Adjusted P-values for simultaneous
 * inference", Biometrics 48(4)): with p_(1) <= ... <= p_(m),
 *   adjusted_(i) = max over j <= i of min(1, (m - j + 1) p_(j)).
 * It controls the family-wise error rate under any dependence.
 *
 * Benjamini and Hochberg (1995, "Controlling the false discovery rate", JRSS B 57(1)):
 *   adjusted_(i) = min over j >= i of min(1, m p_(j) / j).
 * It controls the false discovery rate for independent or positively dependent tests.
 *
 * These are R's p.adjust(p, "holm") and p.adjust(p, "BH"). pricelab uses Holm by default
 * for its verdicts and reports BH beside it.
 */
import { refuse } from './validate.js';

export function holmAdjust(pValues: readonly number[]): number[] {
  checkPValues(pValues);
  const m = pValues.length;
  const order = ascendingOrder(pValues);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[index] as number)));
    adjusted[index] = running;
  });
  return adjusted;
}

export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  checkPValues(pValues);
  const m = pValues.length;
  const order = ascendingOrder(pValues);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank -= 1) {
    const index = order[rank] as number;
    running = Math.min(running, Math.min(1, (m * (pValues[index] as number)) / (rank + 1)));
    adjusted[index] = running;
  }
  return adjusted;
}

function checkPValues(pValues: readonly number[]): void {
  refuse(
    'p-value adjustment',
    pValues.flatMap((value, index) => (value >= 0 && value <= 1 ? [] : [{ path: ['pValues', index], message: `expected a p-value in [0, 1], found ${String(value)}` }])),
  );
}

/** Indices that sort the p-values ascending; ties keep their input order. */
function ascendingOrder(pValues: readonly number[]): number[] {
  return pValues.map((_, index) => index).sort((left, right) => (pValues[left] as number) - (pValues[right] as number) || left - right);
}
