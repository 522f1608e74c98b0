/**
 * Scenario curves: known answers against the same formula written in JavaScript, the
 * temperature table against direct evaluation, and every forbidden construct refused with
 * the field path in the error.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { buildCalendar } from '../../env/calendar.js';
import { checkCurve, compileCurve, curveRangeFor, curveVariableNames, maxCurveDepth, maxCurveLength, maxCurveNesting, tabulateCurve, type CurveScope } from '../../scenarios/curves.js';
import { refusalOf } from '../fixtures/refusal.js';

const path = ['curves', 'seasonality'] as const;
// 2026-01-01 is a Thursday (weekday 3); 400 days cover a whole year and a leap-free new year.
const calendar = buildCalendar('2026-01-01', 400);

function scopeOf(day: number, temperature = 15): CurveScope {
  const weekday = calendar.weekday[day] ?? 0;
  return { day, dayOfYear: calendar.dayOfYear[day] ?? 1, weekday, weekend: weekday >= 5 ? 1 : 0, temperature };
}

describe('curve values', () => {
  test('names the variables a curve may use', () => {
    expect(curveVariableNames).toEqual(['day', 'dayOfYear', 'weekday', 'weekend', 'temperature']);
  });

  test('constants: a number, pi, e, implicit multiplication', () => {
    expect(compileCurve(1.5, path).evaluate(scopeOf(0))).toBe(1.5);
    expect(compileCurve('pi', path).evaluate(scopeOf(0))).toBe(Math.PI);
    expect(compileCurve('e', path).evaluate(scopeOf(0))).toBe(Math.E);
    expect(compileCurve('2 pi', path).evaluate(scopeOf(0))).toBeCloseTo(2 * Math.PI, 12);
    const table = tabulateCurve(compileCurve(0.8, path), calendar);
    expect(table.days).toBe(400);
    expect(table.usesTemperature).toBe(false);
    for (let day = 0; day < table.days; day++) expect(table.valueAt(day, 0)).toBe(0.8);
  });

  test('a seasonal cosine matches the same formula in JavaScript on every day', () => {
    const table = tabulateCurve(compileCurve('1 + 0.3 * cos(2 * pi * (dayOfYear - 15) / 365)', path), calendar);
    for (let day = 0; day < calendar.days; day++) {
      const dayOfYear = calendar.dayOfYear[day] ?? 0;
      expect(table.valueAt(day, 0)).toBeCloseTo(1 + 0.3 * Math.cos((2 * Math.PI * (dayOfYear - 15)) / 365), 12);
    }
  });

  test('day, weekday and weekend follow the calendar', () => {
    // Levels, not multipliers: no range (null).
    const dayTable = tabulateCurve(compileCurve('day', path, null), calendar);
    const weekdayTable = tabulateCurve(compileCurve('weekday', path, null), calendar);
    const weekendTable = tabulateCurve(compileCurve('1 + 0.25 * weekend', path), calendar);
    expect(weekdayTable.valueAt(0, 0)).toBe(3); // Thursday 1 January 2026
    for (let day = 0; day < calendar.days; day++) {
      const weekday = calendar.weekday[day] ?? -1;
      expect(dayTable.valueAt(day, 0)).toBe(day);
      expect(weekdayTable.valueAt(day, 0)).toBe(weekday);
      expect(weekendTable.valueAt(day, 0)).toBe(weekday >= 5 ? 1.25 : 1);
    }
  });

  test('conditionals, comparisons and the whitelisted functions evaluate', () => {
    const curve = compileCurve('weekday == 4 ? max(1.2, sqrt(2)) : round(abs(-0.96), 1)', path);
    expect(curve.evaluate({ ...scopeOf(0), weekday: 4 })).toBeCloseTo(Math.SQRT2, 12);
    expect(curve.evaluate({ ...scopeOf(0), weekday: 2 })).toBe(1);
  });

  test('a value that is only bad on a day beyond the probed year is reported at tabulation, naming the day', () => {
    const curve = compileCurve('1 + 1 / (day - 380)', path);
    const error = refusalOf(() => tabulateCurve(curve, calendar));
    expect(error.kind).toBe('config');
    expect(error.problems[0]?.path).toEqual(path);
    expect(error.problems[0]?.message).toMatch(/day 380\b.*expected a finite number, found Infinity/);
  });

  test('valueAt refuses a day outside the table', () => {
    const table = tabulateCurve(compileCurve('1', path), calendar);
    expect(() => table.valueAt(400, 0)).toThrow(RangeError);
    expect(() => table.valueAt(-1, 0)).toThrow(RangeError);
  });
});

describe('temperature curves', () => {
  const source = '1 + 0.02 * temperature - 0.0004 * temperature^2 + 0.1 * weekend';
  const curve = compileCurve(source, ['curves', 'demandMultiplier']);
  const table = tabulateCurve(curve, calendar, { minTemperature: -10, maxTemperature: 40 });

  test('know they use temperature', () => {
    expect(curve.usesTemperature).toBe(true);
    expect(table.usesTemperature).toBe(true);
    expect(compileCurve('1 + weekend', path).usesTemperature).toBe(false);
  });

  test('equal direct evaluation at integer degrees', () => {
    for (const day of [0, 2, 3, 150, 399]) {
      for (let temperature = -10; temperature <= 40; temperature++) {
        expect(table.valueAt(day, temperature)).toBeCloseTo(curve.evaluate(scopeOf(day, temperature)), 12);
      }
    }
  });

  test('interpolate between neighbouring degrees', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 399 }), fc.double({ min: -10, max: 40, noNaN: true }), (day, temperature) => {
        const below = table.valueAt(day, Math.floor(temperature));
        const above = table.valueAt(day, Math.ceil(temperature));
        const value = table.valueAt(day, temperature);
        expect(value).toBeGreaterThanOrEqual(Math.min(below, above) - 1e-12);
        expect(value).toBeLessThanOrEqual(Math.max(below, above) + 1e-12);
        const fraction = temperature - Math.floor(temperature);
        expect(value).toBeCloseTo(below + fraction * (above - below), 12);
      }),
    );
  });

  test('clamp outside the grid', () => {
    expect(table.valueAt(5, -60)).toBe(table.valueAt(5, -10));
    expect(table.valueAt(5, 99)).toBe(table.valueAt(5, 40));
  });

  test('default to a -30..50 C grid, and report a bad value with its day and temperature', () => {
    const root = compileCurve('sqrt(temperature + 20)', path);
    expect(tabulateCurve(root, calendar, { minTemperature: -20 }).valueAt(0, 50)).toBeCloseTo(Math.sqrt(70), 12);
    const error = refusalOf(() => tabulateCurve(root, calendar));
    expect(error.problems[0]?.path).toEqual(path);
    expect(error.problems[0]?.message).toMatch(/day 0 .*temperature -30 C.*complex number/);
  });
});

describe('refused curves', () => {
  // Each construct is refused by compileCurve (a config PricelabError) and by checkCurve (problems), both naming the path.
  const forbidden: readonly { readonly construct: string; readonly source: string | number; readonly message: RegExp }[] = [
    { construct: 'an assignment', source: 'x = 1', message: /found an assignment/ },
    { construct: 'a function definition', source: 'f(x) = x', message: /found a function definition/ },
    { construct: 'an unknown symbol', source: 'foo', message: /expected a variable .* found the unknown symbol "foo"/ },
    { construct: 'import', source: 'import("fs")', message: /found a call to import/ },
    { construct: 'evaluate', source: 'evaluate("1")', message: /found a call to evaluate/ },
    { construct: 'parse', source: 'parse("1")', message: /found a call to parse/ },
    { construct: 'createUnit', source: 'createUnit("x")', message: /found a call to createUnit/ },
    { construct: 'an unknown function', source: 'random()', message: /found a call to random/ },
    { construct: 'a function used as a value', source: 'sin', message: /found the function sin used as a value/ },
    { construct: 'a string literal', source: '"abc"', message: /expected a number, found the string "abc"/ },
    { construct: 'a boolean literal', source: 'true', message: /expected a number, found the boolean true/ },
    { construct: 'a matrix', source: '[1, 2]', message: /found a matrix/ },
    { construct: 'an object', source: '{a: 1}', message: /found an object/ },
    { construct: 'property access', source: 'day.constructor', message: /found a property or index access/ },
    { construct: 'a range', source: '1:3', message: /found a range/ },
    { construct: 'several statements', source: '1; 2', message: /found several statements/ },
    { construct: 'a unit', source: '5 cm', message: /found the unknown symbol "cm"/ },
    { construct: 'a forbidden operator', source: '3!', message: /found the operator "!"/ },
    { construct: 'a syntax error', source: '(1 + ', message: /found a syntax error/ },
    { construct: 'a non-finite result', source: '1/0', message: /expected a finite number, found Infinity/ },
    { construct: 'a complex result', source: 'log(-1)', message: /found the complex number/ },
    { construct: 'a boolean result', source: 'weekend == 1', message: /found the boolean/ },
    { construct: 'a wrong number of arguments', source: 'sin(1, 2)', message: /evaluation error/ },
    { construct: 'a non-finite number', source: Number.POSITIVE_INFINITY, message: /expected a finite number, found Infinity/ },
    { construct: 'a value bad on one day of the year', source: '1 + 1 / abs(dayOfYear - 100)', message: /day 99 \(dayOfYear 100.*found Infinity/ },
  ];

  test.each(forbidden)('$construct: $source', ({ source, message }) => {
    const error = refusalOf(() => compileCurve(source, path));
    expect(error.kind).toBe('config');
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) expect(problem.path).toEqual(path);
    expect(error.problems.map((problem) => problem.message).join('\n')).toMatch(message);
    expect(error.message).toContain('curves.seasonality');
    expect(checkCurve(source, path)).toEqual(error.problems);
  });

  test('checkCurve lists every problem of an expression at once, and none for a valid one', () => {
    const problems = checkCurve('foo + bar(weekday) + "x"', ['curves', 'temperature']);
    expect(problems).toHaveLength(3);
    for (const problem of problems) expect(problem.path).toEqual(['curves', 'temperature']);
    expect(checkCurve('1 + 0.3 * sin(2 pi dayOfYear / 365)', path)).toEqual([]);
  });
});

describe('careless curves (issue 13.13): refused fast, with the field, the expectation and what was found', () => {
  const within = (seconds: number, check: () => void) => {
    const started = performance.now();
    check();
    expect((performance.now() - started) / 1000).toBeLessThan(seconds);
  };

  test.each([
    { source: 'exp(day)', name: 'seasonality', message: /"exp\(day\)" on day 5 \(dayOfYear 6.*expected an arrival multiplier in \[0, 100\], found 148\.4/ },
    { source: 'pow(10, 300)', name: 'demandMultiplier', message: /expected an arrival multiplier in \[0, 100\], found 1e\+300/ },
    { source: '1 - 0.5 * weekend * 3', name: 'dayOfWeek', message: /on day 5 .*found -0\.5/ },
    { source: '15 + day', name: 'temperature', message: /on day 46 .*expected a temperature in degrees C in \[-90, 60\], found 61/ },
    { source: 1e308, name: 'seasonality', message: /expected an arrival multiplier in \[0, 100\], found 1e\+308/ },
  ])('$name = $source is out of its range', ({ source, name, message }) => {
    const curvePath = ['curves', name];
    const error = refusalOf(() => compileCurve(source, curvePath));
    expect(error.problems.map((problem) => problem.path)).toEqual([curvePath]);
    expect(error.problems[0]?.message).toMatch(message);
    expect(checkCurve(source, curvePath)).toEqual(error.problems);
  });

  test('a temperature-driven multiplier out of range is refused at tabulation, naming the day and the temperature', () => {
    const curve = compileCurve('max(1, 3 * temperature)', ['curves', 'demandMultiplier']);
    const error = refusalOf(() => tabulateCurve(curve, calendar));
    expect(error.problems[0]?.message).toMatch(/temperature 34 C\): expected an arrival multiplier in \[0, 100\], found 102/);
  });

  test('a curve of 200,000 terms is refused by its length, at once (it overflowed the stack)', () => {
    const source = Array.from({ length: 200_000 }, () => 'day').join(' + ');
    within(1, () => {
      const problems = checkCurve(source, path);
      expect(problems).toEqual([{ path, message: `expected an expression of at most ${maxCurveLength} characters, found ${source.length}` }]);
    });
  });

  test('deep nesting is refused before parsing: parentheses, and chains under the length cap', () => {
    const parentheses = `${'('.repeat(300)}1${')'.repeat(300)}`;
    expect(checkCurve(parentheses, path)).toEqual([{ path, message: `expected parentheses nested at most ${maxCurveNesting} deep, found 300` }]);
    const chain = Array.from({ length: 249 }, () => 'e').join('+');
    expect(chain.length).toBeLessThanOrEqual(maxCurveLength);
    expect(checkCurve(chain, path)[0]?.message).toMatch(new RegExp(`expected an expression at most ${maxCurveDepth} operations deep, found 24\\d`));
    const powers = Array.from({ length: 300 }, () => '1').join('^');
    expect(checkCurve(powers, path)[0]?.message).toMatch(/operations deep/);
    // Within the caps, a long but shallow expression is fine.
    expect(checkCurve(`(${Array.from({ length: 20 }, () => '0.01').join(' + ')}) + (${Array.from({ length: 20 }, () => '0.02').join(' + ')})`, path)).toEqual([]);
  });

  test('the ranges come from the curve path; other paths have none unless given', () => {
    expect(curveRangeFor(['curves', 'seasonality'])).toEqual({ min: 0, max: 100, meaning: 'an arrival multiplier' });
    expect(curveRangeFor(['curves', 'constructor'])).toBeUndefined();
    expect(curveRangeFor(['elsewhere'])).toBeUndefined();
    expect(checkCurve('day', ['elsewhere'])).toEqual([]);
    expect(checkCurve('day', ['elsewhere'], { min: 0, max: 10, meaning: 'a share' })[0]?.message).toMatch(/expected a share in \[0, 10\], found 11/);
  });
});
