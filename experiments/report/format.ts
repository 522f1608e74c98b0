/**
 * Numbers for people: every number of one KPI is shown with the same count of decimals,
 * chosen so the largest of them has four significant digits (81,604 and 51,297 for rewards;
 * 0.4895 and 0.5213 for a margin rate; 17.99 for a price). A column is then comparable at a
 * glance, nothing prints as 0.000000: exactly 0 prints as 0 (never -0, never 0.0000). A set whose values are
 * all below 1e-6 in magnitude is rounding noise and prints as 0.
 */

/** Significant digits of the largest value in a set. */
export const significantDigits = 4;

/** Below this, a value is rounding noise (a difference of 1e-13 between equal arms): a set
 * whose every value is smaller shows as 0, never as 0.0000000000. */
const negligible = 1e-6;

/** Decimals that give the largest finite |value| in `values` `digits` significant digits. */
export function decimalsFor(values: Iterable<number | null>, digits = significantDigits): number {
  let largest = 0;
  for (const value of values) if (value !== null && Number.isFinite(value)) largest = Math.max(largest, Math.abs(value));
  if (largest < negligible) return 0;
  // The magnitude after rounding: 0.99996 shows as 1.000, not 1.0000.
  const magnitude = Math.floor(Math.log10(Number(largest.toPrecision(digits))));
  return Math.max(0, digits - 1 - magnitude);
}

/** `value` with exactly `decimals` decimals and thousands separators; exactly 0 is '0'; '-' when missing. */
export function formatFixed(value: number | null, decimals: number): string {
  if (value === null || !Number.isFinite(value)) return '-';
  if (value === 0) return '0';
  const text = value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  // -0.00 and the like: a value that rounds to zero has no sign.
  return /^-[0.,]*$/.test(text) ? text.slice(1) : text;
}

/** A formatter for one set of values (one KPI's means and intervals, say). */
export function formatterFor(values: Iterable<number | null>, digits = significantDigits): (value: number | null) => string {
  const decimals = decimalsFor(values, digits);
  return (value) => formatFixed(value, decimals);
}

/** A d3-format specifier (vega axes and tooltips) with the decimals of `formatterFor`. */
export function d3FormatFor(values: Iterable<number | null>, digits = significantDigits): string {
  return `,.${decimalsFor(values, digits)}f`;
}
