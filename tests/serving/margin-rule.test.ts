/**
 * The guardrail-KPI gate's text prints only the margin forms the gate file gives (issue 14
 * follow-up): a KPI with only an absolute margin read "max(30, 0 x |0.00|)".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowedWorsening, defaultGuardrailMargins, marginRule } from '../../serving/promotion-gates.js';

describe('marginRule', () => {
  it('prints an absolute-only margin as "absolute 30", with no relative term', () => {
    expect(marginRule({ absolute: 30 }, 0)).toBe('absolute 30');
    expect(marginRule(defaultGuardrailMargins.priceChanges ?? { absolute: -1 }, 12.5)).toBe('absolute 30');
  });

  it('prints a relative-only margin with the baseline mean it applies to', () => {
    expect(marginRule({ relative: 0.25 }, 0)).toBe('25% of |baseline mean 0| = 0');
    expect(marginRule({ relative: 0.05 }, -0.062)).toBe('5% of |baseline mean -0.062| = 0.0031');
  });

  it('prints both forms as the max of the two and the allowed worsening', () => {
    expect(marginRule({ absolute: 0.005, relative: 0.05 }, 0.062)).toBe('max(absolute 0.005, 5% of |baseline mean 0.062| = 0.0031) = 0.005');
    expect(marginRule({ absolute: 3, relative: 0.1 }, 41.7)).toBe('max(absolute 3, 10% of |baseline mean 41.7| = 4.17) = 4.17');
  });

  it('names a form exactly when the margin gives it, and ends with the allowed worsening (fast-check)', () => {
    const amount = fc.double({ min: 0, max: 1e4, noNaN: true });
    const margin = fc.oneof(fc.record({ absolute: amount }), fc.record({ relative: fc.double({ min: 0, max: 2, noNaN: true }) }), fc.record({ absolute: amount, relative: fc.double({ min: 0, max: 2, noNaN: true }) }));
    fc.assert(
      fc.property(margin, fc.double({ min: -1e6, max: 1e6, noNaN: true }), (given, baselineMean) => {
        const rule = marginRule(given, baselineMean);
        expect(rule.includes('absolute')).toBe('absolute' in given);
        expect(rule.includes('baseline mean')).toBe('relative' in given);
        expect(rule).not.toMatch(/ x \|/);
        const last = Number(/(?:=|absolute) (\S+)$/.exec(rule)?.[1]);
        expect(last).toBeCloseTo(Number(allowedWorsening(given, baselineMean).toPrecision(3)), 6);
      }),
    );
  });
});
