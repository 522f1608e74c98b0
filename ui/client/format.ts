/** Numbers for people on the dashboard (no DOM here, so node tests import it). */

/** At most `digits` decimals, '–' if not finite, and never "-0" (a value that rounds to zero prints as 0). */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, signDisplay: 'negative' });
}

export const formatMoney = (value: number): string => formatNumber(value, 0);

/** A signed difference: "+12", "-3.5", "0". */
export const formatSigned = (value: number, digits = 0): string => formatNumber(value, digits).replace(/^(?=[1-9])/, '+');
