/** Numbers for people on the dashboard (no DOM here, so node tests import it). */

/** At most `digits` decimals, '–' if not finite, and never "-0" (a value that rounds to zero prints as 0). */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, signDisplay: 'negative' });
}

export const formatMoney = (value: number): string => formatNumber(value, 0);

/** A signed difference: "+12", "-3.5", "0". */
export const formatSigned = (value: number, digits = 0): string => formatNumber(value, digits).replace(/^(?=[1-9])/, '+');

/**
 * A y domain for a chart whose values may all be equal, or undefined to let vega choose.
 * Vega takes an axis label's decimals from the tick step; over a flat range the step is 0
 * and a flat learning curve's axis read "80,154.818000". A flat range is widened by a round
 * step a digit below the value's leading one (80,154.8 -> [79,154.8, 81,154.8], labels
 * "79,200" ...), so labels keep sensible significant digits.
 */
export function flatSafeDomain(values: readonly number[]): [number, number] | undefined {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return undefined;
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const scale = Math.max(Math.abs(low), Math.abs(high));
  if (high - low > scale * 1e-9) return undefined;
  const pad = scale < 1e-12 ? 1 : 10 ** (Math.floor(Math.log10(scale)) - 1); // about zero: [-1, 1]
  return [low - pad, high + pad];
}
