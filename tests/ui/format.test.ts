/** The dashboard's number formatting (ui/client/format.ts): never a negative zero (the why-panel showed "-0"). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatSafeDomain, formatMoney, formatNumber, formatSigned } from '../../ui/client/format.js';

describe('formatNumber', () => {
  it('prints a value that rounds to zero as 0, never -0', () => {
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(-0.0001)).toBe('0');
    expect(formatNumber(-0.004, 2)).toBe('0');
    expect(formatNumber(-0.0004, 3)).toBe('0');
    expect(formatMoney(-0.4)).toBe('0');
    expect(formatSigned(-0.2)).toBe('0');
  });

  it('keeps the sign of everything else', () => {
    expect(formatNumber(-1.234)).toBe('-1.23');
    expect(formatNumber(1234.5, 0)).toBe('1,235');
    expect(formatSigned(12.2)).toBe('+12');
    expect(formatSigned(-3)).toBe('-3');
    expect(formatNumber(Number.NaN)).toBe('–');
  });

  it('never starts with "-0" unless a non-zero digit follows (fast-check)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: 0, max: 4 }), (value, digits) => {
        expect(formatNumber(value, digits)).not.toMatch(/^-0(?![.,]\d*[1-9])/);
      }),
    );
  });
});

describe('flatSafeDomain (a learning curve\'s y axis)', () => {
  it('widens a flat range by a round step a digit below the leading one, so tick labels need few digits', () => {
    expect(flatSafeDomain([80_154.818, 80_154.818, 80_154.818])).toEqual([80_154.818 - 1000, 80_154.818 + 1000]);
    expect(flatSafeDomain([0, 0])).toEqual([-1, 1]);
    expect(flatSafeDomain([-4.68])).toEqual([-4.68 - 0.1, -4.68 + 0.1]);
  });

  it('leaves a range that varies to vega, and always contains the values (fast-check)', () => {
    expect(flatSafeDomain([1.2, 4.68])).toBeUndefined();
    expect(flatSafeDomain([])).toBeUndefined();
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 1, max: 5 }), (value, count) => {
        const domain = flatSafeDomain(Array.from({ length: count }, () => value));
        expect(domain).toBeDefined();
        const [low, high] = domain ?? [0, 0];
        expect(low).toBeLessThan(value);
        expect(high).toBeGreaterThan(value);
        expect(high - low).toBeGreaterThanOrEqual(Math.abs(value) / 50);
      }),
    );
  });
});
