/**
 * Scenario curves: a multiplier or a level over the calendar (seasonality, day-of-week
 * effect, mean temperature, a demand multiplier) written in a scenario file as a number or
 * as a math expression, for example `1 + 0.3 * cos(2 * pi * (dayOfYear - 15) / 365)`.
 *
 * Variables: day (days since the scenario's start, 0..), dayOfYear (1..366), weekday
 * (Monday = 0 .. Sunday = 6), weekend (1 on Saturday and Sunday, else 0), temperature
 * (degrees C, the day's drawn temperature). Constants: pi, e. Functions: the whitelist in
 * `curveFunctionNames`. Operators: + - * / ^ mod, comparisons, and/or/not, and `a ? b : c`.
 *
 * Safety: expressions are parsed with mathjs and the syntax tree is checked against the
 * whitelists before anything is evaluated; assignments, function definitions, matrices,
 * strings, objects, property access, ranges, unknown symbols and every function outside the
 * whitelist (import, createUnit, evaluate, parse, ...) are refused. As a second line of
 * defence the mathjs instance has those functions disabled, as the mathjs security guide
 * recommends (https://mathjs.org/docs/expressions/security.html).
 *
 * Validity: a curve must give a finite real number on every day of any year, so compiling
 * probes it over a synthetic year (day 0..365, dayOfYear = day + 1, weekday = day mod 7,
 * temperature 15 C; other temperatures are checked at tabulation); a complex result (log(-1)),
 * a boolean or a non-finite value is refused. A scenario's curves have ranges too
 * (`curveRanges`, found from the curve's path, ['curves', name]): the arrival multipliers
 * (seasonality, dayOfWeek, demandMultiplier) lie in [0, 100], the temperature in [-90, 60] C,
 * so `exp(day)` or `pow(10, 300)` is refused with the day it leaves the range, not run.
 * Tabulation checks every value again, naming the day (and temperature).
 *
 * Size: an expression is at most 1,000 characters, nests parentheses at most 32 deep and
 * its syntax tree at most 200 deep (the parser and the checks recurse: a 200,000-term
 * curve overflowed the stack); longer or deeper ones are refused before parsing.
 *
 * Speed: expressions are compiled once and tabulated once per scenario: one value per day,
 * or, for curves that use temperature, one per day and integer degree from minTemperature to
 * maxTemperature, read by linear interpolation. The simulator only calls valueAt, which
 * reads typed arrays and allocates nothing.
 */
import type { MathJsInstance, MathNode } from 'mathjs';
import { loadMathjs } from '../core/mathjs-on-demand.js';
import { configError, formatPath, PricelabError, type Problem } from '../core/errors.js';

export const curveVariableNames: readonly string[] = ['day', 'dayOfYear', 'weekday', 'weekend', 'temperature'];
export const curveConstantNames: readonly string[] = ['pi', 'e'];
export const curveFunctionNames: readonly string[] = [
  'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sinh', 'cosh', 'tanh',
  'exp', 'expm1', 'log', 'log10', 'log2', 'log1p', 'sqrt', 'cbrt', 'pow', 'hypot',
  'abs', 'sign', 'min', 'max', 'floor', 'ceil', 'round', 'fix', 'mod',
];
/** mathjs operator functions allowed in OperatorNode and RelationalNode. */
const allowedOperators: ReadonlySet<string> = new Set([
  'add', 'subtract', 'multiply', 'divide', 'unaryMinus', 'unaryPlus', 'pow', 'mod',
  'smaller', 'larger', 'smallerEq', 'largerEq', 'equal', 'unequal', 'and', 'or', 'not',
]);
const allowedVariables: ReadonlySet<string> = new Set(curveVariableNames);
const allowedConstants: ReadonlySet<string> = new Set(curveConstantNames);
const allowedFunctions: ReadonlySet<string> = new Set(curveFunctionNames);

/**
 * The restricted mathjs instance, made on first use (core/mathjs-on-demand.ts: constant
 * curves never load mathjs); `create(all)` costs about 0.4 s more than loading it.
 */
let restrictedMath: { math: MathJsInstance; parse: MathJsInstance['parse'] } | undefined;
function mathjs(): { math: MathJsInstance; parse: MathJsInstance['parse'] } {
  if (restrictedMath !== undefined) return restrictedMath;
  const { all, create } = loadMathjs();
  if (all === undefined) throw new Error('expected mathjs to export its factory map `all`, found undefined');
  const math = create(all);
  const parse = math.parse; // kept before `parse` is disabled for expressions themselves
  const disabled = (name: string) => () => {
    throw new Error(`${name} is disabled in curve expressions`);
  };
  math.import(
    {
      import: disabled('import'),
      createUnit: disabled('createUnit'),
      evaluate: disabled('evaluate'),
      parse: disabled('parse'),
      simplify: disabled('simplify'),
      derivative: disabled('derivative'),
      resolve: disabled('resolve'),
      compile: disabled('compile'),
      reviver: disabled('reviver'),
    },
    { override: true },
  );
  restrictedMath = { math, parse };
  return restrictedMath;
}

export interface CurveScope {
  /** Days since the scenario's start. */
  readonly day: number;
  /** 1..366 */
  readonly dayOfYear: number;
  /** Monday = 0 .. Sunday = 6 */
  readonly weekday: number;
  /** 1 on Saturday and Sunday, else 0. */
  readonly weekend: number;
  /** Degrees C. */
  readonly temperature: number;
}

export interface CompiledCurve {
  readonly usesTemperature: boolean;
  /** The curve's value; throws a config PricelabError naming the path and the day if it is not a finite number. */
  evaluate(scope: CurveScope): number;
}

export interface CurveTable {
  readonly days: number;
  readonly usesTemperature: boolean;
  /** The tabulated value on `day` (0 <= day < days), interpolated linearly in temperature. */
  valueAt(day: number, temperature: number): number;
}

export interface TabulateOptions {
  /** Lowest degree of the temperature grid (default -30); colder temperatures read its value. */
  readonly minTemperature?: number | undefined;
  /** Highest degree of the temperature grid (default 50); warmer temperatures read its value. */
  readonly maxTemperature?: number | undefined;
}

type CurvePath = readonly (string | number)[];

/** The range a curve's values must lie in, with what it measures. */
export interface CurveRange {
  readonly min: number;
  readonly max: number;
  readonly meaning: string;
}

const arrivalMultiplier: CurveRange = { min: 0, max: 100, meaning: 'an arrival multiplier' };
/** The ranges of a scenario's curves, by name (scenarios/schema.ts, `curves`). */
export const curveRanges: Readonly<Record<string, CurveRange>> = {
  seasonality: arrivalMultiplier,
  dayOfWeek: arrivalMultiplier,
  demandMultiplier: arrivalMultiplier,
  temperature: { min: -90, max: 60, meaning: 'a temperature in degrees C' },
};

/** The range of the scenario curve a path names (['curves', name]); none for other paths. */
export function curveRangeFor(path: CurvePath): CurveRange | undefined {
  const name = path.length === 2 && path[0] === 'curves' ? path[1] : undefined;
  return typeof name === 'string' && Object.hasOwn(curveRanges, name) ? curveRanges[name] : undefined;
}

/** Longest expression accepted, in characters. */
export const maxCurveLength = 1000;
/** Deepest nesting of parentheses accepted. */
export const maxCurveNesting = 32;
/** Deepest syntax tree accepted (a chain of 200 sums or powers). */
export const maxCurveDepth = 200;

/**
 * Compiles a curve, or throws a config PricelabError listing every problem with `path`.
 * Values outside `range` (by default the range of the scenario curve `path` names; null:
 * none) are refused.
 */
export function compileCurve(source: number | string, path: CurvePath, range: CurveRange | null = curveRangeFor(path) ?? null): CompiledCurve {
  const { curve, problems } = analyseCurve(source, path, range);
  if (curve === undefined || problems.length > 0) throw configError(`invalid curve at ${formatPath(path)}`, problems);
  return curve;
}

/** The same checks as compileCurve, returning the problems (empty when the curve is valid). */
export function checkCurve(source: number | string, path: CurvePath, range: CurveRange | null = curveRangeFor(path) ?? null): Problem[] {
  return analyseCurve(source, path, range).problems;
}

/** The days a curve is tabulated over: env/calendar.ts's Calendar is one (scenarios/ does not import env/). */
export interface CurveCalendar {
  readonly days: number;
  /** 1..366 */
  readonly dayOfYear: ArrayLike<number>;
  /** Monday = 0 .. Sunday = 6 */
  readonly weekday: ArrayLike<number>;
}

/**
 * Evaluates the curve once per calendar day (and per integer degree when it uses
 * temperature). Throws a config PricelabError naming the day if a value is not finite.
 */
export function tabulateCurve(curve: CompiledCurve, calendar: CurveCalendar, options: TabulateOptions = {}): CurveTable {
  const days = calendar.days;
  const scope = { day: 0, dayOfYear: 1, weekday: 0, weekend: 0, temperature: 0 };
  const setDay = (day: number) => {
    const weekday = calendar.weekday[day] ?? 0;
    scope.day = day;
    scope.dayOfYear = calendar.dayOfYear[day] ?? 1;
    scope.weekday = weekday;
    scope.weekend = weekday >= 5 ? 1 : 0;
  };

  if (!curve.usesTemperature) {
    const values = new Float64Array(days);
    for (let day = 0; day < days; day++) {
      setDay(day);
      values[day] = curve.evaluate(scope);
    }
    return new DailyCurveTable(values);
  }

  const minTemperature = Math.floor(options.minTemperature ?? -30);
  const maxTemperature = Math.ceil(options.maxTemperature ?? 50);
  if (!(maxTemperature > minTemperature)) {
    throw new RangeError(`expected maxTemperature above minTemperature, found ${options.minTemperature} .. ${options.maxTemperature}`);
  }
  const degrees = maxTemperature - minTemperature + 1;
  const values = new Float64Array(days * degrees);
  for (let day = 0; day < days; day++) {
    setDay(day);
    for (let degree = 0; degree < degrees; degree++) {
      scope.temperature = minTemperature + degree;
      values[day * degrees + degree] = curve.evaluate(scope);
    }
  }
  return new TemperatureCurveTable(values, days, minTemperature, degrees);
}

class DailyCurveTable implements CurveTable {
  readonly usesTemperature = false;
  readonly days: number;
  readonly #values: Float64Array;

  constructor(values: Float64Array) {
    this.days = values.length;
    this.#values = values;
  }

  valueAt(day: number): number {
    const value = this.#values[day];
    if (value === undefined) throw new RangeError(`expected a day in 0..${this.days - 1}, found ${day}`);
    return value;
  }
}

class TemperatureCurveTable implements CurveTable {
  readonly usesTemperature = true;
  readonly days: number;
  readonly #values: Float64Array;
  readonly #minTemperature: number;
  readonly #degrees: number;

  constructor(values: Float64Array, days: number, minTemperature: number, degrees: number) {
    this.days = days;
    this.#values = values;
    this.#minTemperature = minTemperature;
    this.#degrees = degrees;
  }

  valueAt(day: number, temperature: number): number {
    if (!(day >= 0 && day < this.days) || !Number.isInteger(day)) {
      throw new RangeError(`expected a day in 0..${this.days - 1}, found ${day}`);
    }
    const values = this.#values;
    const rowStart = day * this.#degrees;
    const lastDegree = this.#degrees - 1;
    const position = temperature - this.#minTemperature;
    if (position <= 0) return values[rowStart] as number;
    if (position >= lastDegree) return values[rowStart + lastDegree] as number;
    const lower = Math.floor(position);
    const fraction = position - lower;
    const below = values[rowStart + lower] as number;
    const above = values[rowStart + lower + 1] as number;
    return below + fraction * (above - below);
  }
}

// --- compiling and checking -------------------------------------------------------------

interface Analysis {
  readonly curve?: CompiledCurve;
  readonly problems: Problem[];
}

function analyseCurve(source: number | string, path: CurvePath, range: CurveRange | null): Analysis {
  const problem = (message: string): Problem => ({ path: [...path], message });

  if (typeof source === 'number') {
    if (!Number.isFinite(source)) return { problems: [problem(`expected a finite number, found ${source}`)] };
    if (range && !(source >= range.min && source <= range.max)) return { problems: [problem(`expected ${range.meaning} in [${range.min}, ${range.max}], found ${source}`)] };
    const constant = source;
    return { curve: { usesTemperature: false, evaluate: () => constant }, problems: [] };
  }
  if (typeof source !== 'string') {
    return { problems: [problem(`expected a number or a math expression, found ${describeValue(source)}`)] };
  }
  if (source.length > maxCurveLength) {
    return { problems: [problem(`expected an expression of at most ${maxCurveLength} characters, found ${source.length}`)] };
  }
  const nesting = parenthesisNesting(source);
  if (nesting > maxCurveNesting) {
    return { problems: [problem(`expected parentheses nested at most ${maxCurveNesting} deep, found ${nesting}`)] };
  }

  let root: MathNode;
  try {
    root = mathjs().parse(source);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { problems: [problem(`expected a math expression, found a syntax error in "${source}": ${reason}`)] };
  }
  const depth = treeDepth(root);
  if (depth > maxCurveDepth) {
    return { problems: [problem(`expected an expression at most ${maxCurveDepth} operations deep, found ${depth} (split long sums with parentheses, or tabulate the curve)`)] };
  }

  const problems: Problem[] = [];
  const state = { usesTemperature: false };
  checkNode(root, (message) => problems.push(problem(message)), state);
  if (problems.length > 0) return { problems };

  const curve = new ExpressionCurve(source, root, state.usesTemperature, path, range);
  const probeProblem = probeOverAYear(curve);
  return probeProblem === undefined ? { curve, problems: [] } : { problems: [probeProblem] };
}

/** The deepest nesting of (), [] and {} in a source, scanned before parsing (the parser recurses per level). */
function parenthesisNesting(source: string): number {
  let depth = 0;
  let deepest = 0;
  for (const character of source) {
    if (character === '(' || character === '[' || character === '{') deepest = Math.max(deepest, ++depth);
    else if (character === ')' || character === ']' || character === '}') depth = Math.max(0, depth - 1);
  }
  return deepest;
}

/** The depth of a syntax tree, walked with an explicit stack (no recursion to overflow). */
function treeDepth(root: MathNode): number {
  let deepest = 0;
  const pending: { node: MathNode; depth: number }[] = [{ node: root, depth: 1 }];
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    deepest = Math.max(deepest, depth);
    node.forEach((child) => pending.push({ node: child, depth: depth + 1 }));
  }
  return deepest;
}

/** Walks the syntax tree, reporting every construct outside the whitelists. */
function checkNode(node: MathNode, report: (message: string) => void, state: { usesTemperature: boolean }): void {
  const found = () => `"${node.toString()}"`;
  const { math } = mathjs();
  if (math.isConstantNode(node)) {
    const value: unknown = node.value; // typed as a number, but the parser also makes strings and booleans
    if (typeof value !== 'number') report(`expected a number, found ${describeValue(value)}`);
  } else if (math.isSymbolNode(node)) {
    const name = node.name;
    if (name === 'temperature') state.usesTemperature = true;
    if (allowedVariables.has(name) || allowedConstants.has(name)) return;
    if (allowedFunctions.has(name)) {
      report(`expected a call like ${name}(x), found the function ${name} used as a value`);
    } else {
      report(`expected a variable (${curveVariableNames.join(', ')}) or a constant (${curveConstantNames.join(', ')}), found the unknown symbol "${name}"`);
    }
  } else if (math.isFunctionNode(node)) {
    const callee: unknown = node.fn; // a SymbolNode for sin(x), another node for (f)(x) or a.b(x)
    const name = math.isSymbolNode(callee) ? callee.name : undefined;
    if (name === undefined || !allowedFunctions.has(name)) {
      report(`expected a call to one of the functions ${curveFunctionNames.join(', ')}, found a call to ${name ?? found()}`);
    }
    for (const argument of node.args) checkNode(argument, report, state);
  } else if (math.isOperatorNode(node)) {
    if (!allowedOperators.has(node.fn)) report(`expected an arithmetic, comparison or logical operator, found the operator "${node.op}" in ${found()}`);
    for (const argument of node.args) checkNode(argument, report, state);
  } else if (math.isRelationalNode(node)) {
    for (const conditional of node.conditionals) {
      if (!allowedOperators.has(conditional)) report(`expected a comparison, found "${conditional}" in ${found()}`);
    }
    for (const parameter of node.params) checkNode(parameter, report, state);
  } else if (math.isParenthesisNode(node)) {
    checkNode(node.content, report, state);
  } else if (math.isConditionalNode(node)) {
    checkNode(node.condition, report, state);
    checkNode(node.trueExpr, report, state);
    checkNode(node.falseExpr, report, state);
  } else {
    report(`expected a single arithmetic expression, found ${forbiddenNodeNames[node.type] ?? `a ${node.type}`} ${found()}`);
  }
}

const forbiddenNodeNames: Readonly<Record<string, string>> = {
  AssignmentNode: 'an assignment',
  FunctionAssignmentNode: 'a function definition',
  ArrayNode: 'a matrix',
  ObjectNode: 'an object',
  AccessorNode: 'a property or index access',
  IndexNode: 'an index',
  RangeNode: 'a range',
  BlockNode: 'several statements',
};

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (typeof value === 'number') return String(value);
  if (value === null || value === undefined) return String(value);
  const type = mathjs().math.typeOf(value);
  return type === 'Complex' ? `the complex number ${String(value)}` : `a ${type} (${String(value)})`;
}

/** A checked expression, compiled by mathjs; evaluated at tabulation only, never on the hot path. */
class ExpressionCurve implements CompiledCurve {
  readonly usesTemperature: boolean;
  readonly #source: string;
  readonly #path: CurvePath;
  readonly #range: CurveRange | null;
  readonly #compiled: { evaluate(scope: Map<string, unknown>): unknown };
  /** One scope map reused for every evaluation (mathjs reads a Map without wrapping it). */
  readonly #scope = new Map<string, unknown>([
    ['pi', Math.PI],
    ['e', Math.E],
  ]);

  constructor(source: string, root: MathNode, usesTemperature: boolean, path: CurvePath, range: CurveRange | null) {
    this.#source = source;
    this.#path = path;
    this.#range = range;
    this.#compiled = root.compile();
    this.usesTemperature = usesTemperature;
  }

  evaluate(scope: CurveScope): number {
    const mathScope = this.#scope;
    mathScope.set('day', scope.day);
    mathScope.set('dayOfYear', scope.dayOfYear);
    mathScope.set('weekday', scope.weekday);
    mathScope.set('weekend', scope.weekend);
    mathScope.set('temperature', scope.temperature);
    let value: unknown;
    try {
      value = this.#compiled.evaluate(mathScope);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw this.#failure(scope, `expected a number, found an evaluation error (${reason})`);
    }
    if (!(typeof value === 'number' && Number.isFinite(value))) throw this.#failure(scope, `expected a finite number, found ${describeValue(value)}`);
    const range = this.#range;
    if (range && !(value >= range.min && value <= range.max)) throw this.#failure(scope, `expected ${range.meaning} in [${range.min}, ${range.max}], found ${value}`);
    return value;
  }

  #failure(scope: CurveScope, expectation: string): PricelabError {
    const temperature = this.usesTemperature ? `, temperature ${scope.temperature} C` : '';
    const where = `on day ${scope.day} (dayOfYear ${scope.dayOfYear}, weekday ${scope.weekday}${temperature})`;
    return configError(`invalid curve at ${formatPath(this.#path)}`, [
      { path: [...this.#path], message: `"${this.#source}" ${where}: ${expectation}` },
    ]);
  }
}

/** The synthetic year over which compileCurve and checkCurve probe an expression. */
const probeTemperature = 15;
const probeDays = 366;

function probeOverAYear(curve: ExpressionCurve): Problem | undefined {
  const scope = { day: 0, dayOfYear: 1, weekday: 0, weekend: 0, temperature: probeTemperature };
  for (let day = 0; day < probeDays; day++) {
    scope.day = day;
    scope.dayOfYear = day + 1;
    scope.weekday = day % 7;
    scope.weekend = scope.weekday >= 5 ? 1 : 0;
    try {
      curve.evaluate(scope);
    } catch (error) {
      const found = error instanceof PricelabError ? error.problems[0] : undefined;
      if (found !== undefined) {
        return {
          path: found.path,
          message: `${found.message} (probing a year: day 0..365, dayOfYear = day + 1, weekday = day mod 7, temperature ${probeTemperature} C; a curve must be a finite number in its range on every day)`,
        };
      }
      throw error;
    }
  }
  return undefined;
}
