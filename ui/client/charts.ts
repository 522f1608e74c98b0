/**
 * The live charts (vega-lite through vega-embed, SVG renderer). Each chart is embedded once
 * per session configuration with empty named datasets; frames then only insert rows
 * (`view.change(...)`), so vega re-renders just what changed. Time runs along x, fixed
 * to the episode (0 .. horizon - 1), so charts grow rather than rescale.
 *
 *   price-A, price-B  our price, each rival's, each segment's reference price; festival and
 *                     pre-sale days shaded, the weather as a strip along the time axis; a
 *                     click on a day asks "why this price?" for that arm and day
 *   units             units sold and lost sales per day, by segment
 *   inventory         stock on hand and units on order
 *   money             cumulative revenue and profit
 *   returns           units returned and refunds per day
 *   difference        A vs B: mean daily profit difference (B - A) and its always-valid interval
 *
 * With two arms, one price chart per arm; the other charts tell arms apart by dash.
 */
import embed, { vega } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import type { DayPoint, Frame, SessionState } from '../shared/events.js';

export type View = Awaited<ReturnType<typeof embed>>['view'];

interface SeriesRow {
  day: number;
  arm: string;
  series: string;
  value: number;
}

/** Price series are ours, a rival's or a segment's reference price: drawn solid and bold, solid, or dashed. */
interface PriceRow extends SeriesRow {
  kind: 'ours' | 'rival' | 'reference';
}

interface CalendarRow {
  from: number;
  to: number;
  kind: string;
}

interface WeatherRow {
  from: number;
  to: number;
  weather: string;
}

interface DifferenceRow {
  day: number;
  estimate: number;
  low: number;
  high: number;
}

type Rows = { table: object[]; calendar?: CalendarRow[]; weather?: WeatherRow[] };

const width = 440;
const height = 170;
const font = 'system-ui, sans-serif';
const config = { font, view: { stroke: '#ddd' }, axis: { labelFontSize: 10, titleFontSize: 11 }, legend: { labelFontSize: 10, titleFontSize: 11, orient: 'right' as const }, title: { fontSize: 13, anchor: 'start' as const } };

/** Axes and legends grow as data arrive: let vega lay the chart out again on every run. */
const autosize = { type: 'pad' as const, resize: true };

const armName = (index: number): string => (index === 0 ? 'A' : 'B');

function timeAxis(horizon: number) {
  return { field: 'day', type: 'quantitative' as const, title: 'day', scale: { domain: [0, Math.max(1, horizon - 1)], nice: false } };
}

function seriesSpec(title: string, yTitle: string, horizon: number, twoArms: boolean): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    autosize,
    title,
    width,
    height,
    data: { name: 'table' },
    mark: { type: 'line', interpolate: 'linear', strokeWidth: 1.5 },
    encoding: {
      x: timeAxis(horizon),
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      ...(twoArms ? { strokeDash: { field: 'arm', type: 'nominal', title: 'arm' } } : {}),
      detail: { field: 'arm' },
    },
  };
}

function priceSpec(arm: string, state: SessionState): TopLevelSpec {
  const horizon = state.scenario.horizon;
  const ladder = state.scenario.ladder;
  const low = Math.min(...ladder) * 0.9;
  const high = Math.max(...ladder) * 1.1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    autosize,
    title: `Prices, arm ${arm} (${state.arms[arm === 'A' ? 0 : 1]?.policy ?? ''}): click a day for "why this price?"`,
    width,
    height,
    layer: [
      {
        data: { name: 'calendar' },
        mark: { type: 'rect', opacity: 0.5 },
        encoding: {
          x: { ...timeAxis(horizon), field: 'from' },
          x2: { field: 'to' },
          color: { field: 'kind', type: 'nominal', title: 'calendar', scale: { domain: ['festival', 'pre-sale'], range: ['#f8c4cc', '#fde8a8'] } },
        },
      },
      {
        data: { name: 'weather' },
        mark: { type: 'rect', y: { expr: 'height - 6' }, y2: { expr: 'height' } },
        encoding: {
          x: { ...timeAxis(horizon), field: 'from' },
          x2: { field: 'to' },
          fill: { field: 'weather', type: 'nominal', title: 'weather', scale: { domain: ['sunny', 'cloudy', 'rain', 'storm'], range: ['#f6c445', '#b9c3cc', '#5b8fd1', '#3b3f6b'] } },
        },
      },
      {
        data: { name: 'table' },
        name: 'prices',
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: timeAxis(horizon),
          y: { field: 'value', type: 'quantitative', title: 'price', scale: { domain: [low, high], clamp: true } },
          stroke: { field: 'series', type: 'nominal', title: null, scale: { scheme: 'tableau10' } },
          strokeDash: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['ours', 'rival', 'reference'], range: [[1, 0], [1, 0], [4, 3]] }, legend: null },
          strokeWidth: { field: 'kind', type: 'nominal', scale: { domain: ['ours', 'rival', 'reference'], range: [2.6, 1.2, 1.2] }, legend: null },
        },
      },
      {
        data: { name: 'table' },
        transform: [{ filter: "datum.series === 'our price'" }],
        name: 'days',
        mark: { type: 'rule', strokeWidth: { expr: `max(3, width / ${Math.max(1, horizon)})` }, strokeOpacity: 0.001, cursor: 'pointer' },
        encoding: { x: timeAxis(horizon), tooltip: [{ field: 'day', title: 'day' }, { field: 'value', title: 'our price', format: '.2f' }] },
      },
    ],
    resolve: { scale: { color: 'independent', stroke: 'independent', fill: 'independent' } },
  } as TopLevelSpec;
}

function differenceSpec(horizon: number): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    autosize,
    title: 'A vs B: profit per day, B - A, always-valid 95% interval',
    width,
    height,
    data: { name: 'table' },
    layer: [
      { mark: { type: 'area', opacity: 0.25, color: '#4c78a8' }, encoding: { x: timeAxis(horizon), y: { field: 'low', type: 'quantitative', title: 'profit per day' }, y2: { field: 'high' } } },
      { mark: { type: 'line', color: '#4c78a8' }, encoding: { x: timeAxis(horizon), y: { field: 'estimate', type: 'quantitative' } } },
      { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { y: { field: 'zero', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

interface ChartPlan {
  name: string;
  spec: TopLevelSpec;
  /** The rows this chart takes from one arm's points. */
  rows(points: readonly DayPoint[], arm: string, state: SessionState): Rows;
}

function plans(state: SessionState): ChartPlan[] {
  const horizon = state.scenario.horizon;
  const twoArms = state.arms.length === 2;
  const rowsOf = (points: readonly DayPoint[], arm: string, measures: readonly [string, (point: DayPoint) => number][]): Rows => ({
    table: points.flatMap((point) => measures.map(([series, read]) => ({ day: point.day, arm, series, value: read(point) }) satisfies SeriesRow)),
  });
  const pricePlans: ChartPlan[] = state.arms.map((_, index) => {
    const arm = armName(index);
    return {
      name: `price-${arm}`,
      spec: priceSpec(arm, state),
      rows: (points, pointsArm) => {
        if (pointsArm !== arm) return { table: [] };
        const table: PriceRow[] = [];
        const calendar: CalendarRow[] = [];
        const weather: WeatherRow[] = [];
        for (const point of points) {
          const from = point.day - point.days + 0.5;
          const to = point.day + 0.5;
          table.push({ day: point.day, arm, series: 'our price', kind: 'ours', value: point.price });
          point.rivalPrices.forEach((price, rival) => table.push({ day: point.day, arm, series: `rival: ${state.scenario.rivals[rival] ?? rival}`, kind: 'rival', value: price }));
          point.referencePrices.forEach((price, segment) => {
            if (price > 0) table.push({ day: point.day, arm, series: `reference: ${state.scenario.segments[segment] ?? segment}`, kind: 'reference', value: price });
          });
          if (point.eventDay) calendar.push({ from, to, kind: 'festival' });
          else if (point.presaleDay) calendar.push({ from, to, kind: 'pre-sale' });
          if (point.weather !== null) weather.push({ from, to, weather: point.weather });
        }
        return { table, calendar, weather };
      },
    };
  });
  return [
    ...pricePlans,
    {
      name: 'units',
      spec: seriesSpec('Units sold and lost sales per day, by segment', 'units', horizon, twoArms),
      rows: (points, arm) =>
        rowsOf(points, arm, [
          ...state.scenario.segments.flatMap((segment, index): [string, (point: DayPoint) => number][] => [
            [`sold: ${segment}`, (point) => point.soldBySegment[index] ?? 0],
            [`lost: ${segment}`, (point) => point.lostBySegment[index] ?? 0],
          ]),
          ...(state.scenario.segments.length === 0 ? ([['sold', (point) => point.sold], ['lost sales', (point) => point.lostSales]] as [string, (point: DayPoint) => number][]) : []),
        ]),
    },
    { name: 'inventory', spec: seriesSpec('Inventory: stock on hand and units on order', 'units', horizon, twoArms), rows: (points, arm) => rowsOf(points, arm, [['stock on hand', (point) => point.stockOnHand], ['on order', (point) => point.stockOnOrder]]) },
    { name: 'money', spec: seriesSpec('Revenue and profit, cumulative', 'money', horizon, twoArms), rows: (points, arm) => rowsOf(points, arm, [['revenue', (point) => point.cumulativeRevenue], ['profit', (point) => point.cumulativeProfit]]) },
    { name: 'returns', spec: seriesSpec('Returns (units) and refunds (money) per day', 'per day', horizon, twoArms), rows: (points, arm) => rowsOf(points, arm, [['units returned', (point) => point.unitsReturned], ['refunds', (point) => point.refunds]]) },
  ];
}

export class LiveCharts {
  private views = new Map<string, View>();
  private chartPlans: ChartPlan[] = [];
  private state: SessionState | undefined;
  private run = -1;
  private generation = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly onDayClick: (arm: number, day: number) => void,
  ) {}

  /** The embedded views by chart name (tests read their rendered marks). */
  get byName(): ReadonlyMap<string, View> {
    return this.views;
  }

  /** Embeds every chart anew for a session's scenario and arms. */
  async reset(state: SessionState): Promise<void> {
    const generation = ++this.generation;
    for (const view of this.views.values()) view.finalize();
    this.views = new Map();
    this.container.replaceChildren();
    this.state = state;
    this.run = state.run;
    this.chartPlans = plans(state);
    const all: [string, TopLevelSpec][] = this.chartPlans.map((plan) => [plan.name, plan.spec]);
    if (state.arms.length === 2) all.push(['difference', differenceSpec(state.scenario.horizon)]);
    const views = new Map<string, View>();
    for (const [name, spec] of all) {
      const holder = document.createElement('div');
      holder.className = 'chart';
      holder.id = `chart-${name}`;
      this.container.append(holder);
      const result = await embed(holder, spec, { renderer: 'svg', actions: false, logLevel: vega.Error });
      if (generation !== this.generation) {
        result.finalize();
        return;
      }
      views.set(name, result.view);
      const arm = name === 'price-B' ? 1 : 0;
      if (name.startsWith('price-')) {
        result.view.addEventListener('click', (_event, item) => {
          const datum = (item as { datum?: { day?: unknown } } | null | undefined)?.datum;
          if (datum && typeof datum.day === 'number') this.onDayClick(arm, datum.day);
        });
      }
    }
    this.views = views;
  }

  /** Adds the frames' days to every chart (one vega run per chart). */
  append(frames: readonly Frame[]): void {
    const state = this.state;
    if (!state || this.views.size === 0) return;
    const latestRun = Math.max(...frames.map((frame) => frame.run));
    if (latestRun > this.run) this.clear(latestRun);
    const fresh = frames.filter((frame) => frame.run === this.run);
    if (fresh.length === 0) return;
    for (const plan of this.chartPlans) {
      const view = this.views.get(plan.name);
      if (!view) continue;
      const merged: Required<Rows> = { table: [], calendar: [], weather: [] };
      for (const frame of fresh) {
        frame.arms.forEach((arm, index) => {
          const rows = plan.rows(arm.points, armName(index), state);
          merged.table.push(...rows.table);
          merged.calendar.push(...(rows.calendar ?? []));
          merged.weather.push(...(rows.weather ?? []));
        });
      }
      view.change('table', vega.changeset().insert(merged.table));
      if (plan.name.startsWith('price-')) {
        view.change('calendar', vega.changeset().insert(merged.calendar));
        view.change('weather', vega.changeset().insert(merged.weather));
      }
      view.run();
    }
    const difference = this.views.get('difference');
    if (difference) {
      const rows: DifferenceRow[] = fresh.flatMap((frame) => (frame.difference ? [{ day: frame.difference.day, estimate: frame.difference.estimate, low: frame.difference.low, high: frame.difference.high }] : []));
      difference.change('table', vega.changeset().insert(rows)).run();
    }
  }

  /** Empties every chart for a new run (an episode started or restarted). */
  clear(run: number): void {
    if (run === this.run) return;
    this.run = run;
    for (const [name, view] of this.views) {
      view.change('table', vega.changeset().remove(() => true));
      if (name.startsWith('price-')) {
        view.change('calendar', vega.changeset().remove(() => true));
        view.change('weather', vega.changeset().remove(() => true));
      }
      view.run();
    }
  }
}
