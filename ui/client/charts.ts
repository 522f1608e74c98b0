/**
 * The live charts (vega-lite through vega-embed, SVG renderer). Each chart is embedded once
 * per session configuration with empty named datasets; frames then only insert rows
 * (`view.change(...)`), so vega re-renders just what changed. Time runs along x, fixed
 * to the episode (0 .. horizon - 1), so charts grow rather than rescale; every chart is as
 * wide as its card (width "container").
 *
 *   price-A, price-B  our price, each rival's, each segment's reference price; festival and
 *                     pre-sale days shaded, the weather as a strip along the time axis (only
 *                     on scenarios that have them); a click on a day asks "why this price?"
 *   units             units sold and lost sales per day, by segment
 *   inventory         stock on hand and units on order
 *   money             cumulative revenue and profit
 *   returns           units returned per day (units)
 *   refunds           refunds per day (money), its own chart: units and money never share an axis
 *   coupon-cost       on a coupon scenario, in place of inventory, returns and refunds (the coupon
 *                     market holds no stock and takes no returns: they would be flat): what the
 *                     coupons took off orders so far, cumulative, per arm (the coupon of each day
 *                     is the "Coupon of the day" line above the charts)
 *   difference        A vs B: mean daily profit difference (B - A), its always-valid
 *                     interval (never widens) and the latest interval for the days so far
 *                     (may widen; the honest one when the days are not alike), one point
 *                     per simulated day
 *
 * A line series enters a chart (and its legend) once it has a value other than zero: a
 * scenario without stock-outs lists no lost-sales series. Its earlier zero days are drawn
 * then, so the line is whole. With two arms, one price chart per arm; the other charts tell
 * arms apart by dash. Each chart has PNG and CSV buttons (the image as drawn; the chart's
 * rows as CSV).
 */
import embed, { vega } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import type { DayPoint, Frame, SessionState } from '../shared/events.js';
import { element } from './dom.js';

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
  low: number | null;
  high: number | null;
  latestLow: number | null;
  latestHigh: number | null;
}

type Rows = { table: object[]; calendar?: CalendarRow[]; weather?: WeatherRow[] };

const height = 170;
const font = 'system-ui, sans-serif';
const config = { font, view: { stroke: '#ddd' }, axis: { labelFontSize: 10, titleFontSize: 11 }, legend: { labelFontSize: 10, titleFontSize: 11, orient: 'right' as const }, title: { fontSize: 13, anchor: 'start' as const } };

/** As wide as the card; axes and legends grow as data arrive, so vega lays the chart out again on every run. */
const autosize = { type: 'fit-x' as const, contains: 'padding' as const, resize: true };

const weatherColours: Readonly<Record<string, string>> = { sunny: '#f6c445', cloudy: '#b9c3cc', rain: '#5b8fd1', storm: '#3b3f6b' };
const spareColours = ['#9c755f', '#76b7b2', '#b07aa1', '#ff9da7'];
const calendarColours: Readonly<Record<string, string>> = { festival: '#f8c4cc', 'pre-sale': '#fde8a8' };

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
    width: 'container',
    height,
    data: { name: 'table' },
    mark: { type: 'line', interpolate: 'linear', strokeWidth: 1.5 },
    encoding: {
      x: timeAxis(horizon),
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      ...(twoArms ? { strokeDash: { field: 'arm', type: 'nominal', title: 'arm', scale: { domain: ['A', 'B'] } } } : {}),
      detail: { field: 'arm' },
    },
  };
}

function priceSpec(arm: string, state: SessionState): TopLevelSpec {
  const horizon = state.scenario.horizon;
  const ladder = state.scenario.ladder;
  const low = Math.min(...ladder) * 0.9;
  const high = Math.max(...ladder) * 1.1;
  const calendar = state.scenario.calendar;
  const weather = state.scenario.weather;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    autosize,
    title: `Prices, arm ${arm} (${state.arms[arm === 'A' ? 0 : 1]?.policy ?? ''}): click a day for "why this price?"`,
    width: 'container',
    height,
    layer: [
      ...(calendar.length === 0
        ? []
        : [
            {
              data: { name: 'calendar' },
              name: 'calendar',
              mark: { type: 'rect', opacity: 0.5 },
              encoding: {
                x: { ...timeAxis(horizon), field: 'from' },
                x2: { field: 'to' },
                color: { field: 'kind', type: 'nominal', title: 'calendar', scale: { domain: [...calendar], range: calendar.map((kind) => calendarColours[kind] ?? '#ddd') } },
              },
            },
          ]),
      ...(weather.length === 0
        ? []
        : [
            {
              data: { name: 'weather' },
              name: 'weather',
              mark: { type: 'rect', y: { expr: 'height - 6' }, y2: { expr: 'height' } },
              encoding: {
                x: { ...timeAxis(horizon), field: 'from' },
                x2: { field: 'to' },
                fill: { field: 'weather', type: 'nominal', title: 'weather', scale: { domain: [...weather], range: weather.map((state, index) => weatherColours[state] ?? spareColours[index % spareColours.length] ?? '#999') } },
              },
            },
          ]),
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
    autosize,
    title: 'A vs B: profit per day, B - A, and its 95% intervals',
    width: 'container',
    height,
    data: { name: 'table' },
    layer: [
      {
        name: 'latest',
        mark: { type: 'area', opacity: 0.18 },
        encoding: { x: timeAxis(horizon), y: { field: 'latestLow', type: 'quantitative', title: 'profit per day', axis: { format: ',~r' } }, y2: { field: 'latestHigh' }, color: { datum: 'the days so far (may widen)', type: 'nominal' } },
      },
      { name: 'interval', mark: { type: 'area', opacity: 0.35 }, encoding: { x: timeAxis(horizon), y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color: { datum: 'always-valid (never widens)', type: 'nominal' } } },
      { name: 'estimate', mark: { type: 'line', color: '#1d2330', strokeWidth: 1.5 }, encoding: { x: timeAxis(horizon), y: { field: 'estimate', type: 'quantitative' } } },
      { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { y: { field: 'zero', type: 'quantitative' } } },
    ],
    resolve: { scale: { color: 'shared' } },
    config: { ...config, range: { category: ['#f2a541', '#4c78a8'] } },
  } as TopLevelSpec;
}

interface ChartPlan {
  name: string;
  spec: TopLevelSpec;
  /** The rows this chart takes from one arm's points. */
  rows(points: readonly DayPoint[], arm: string, state: SessionState): Rows;
  /** Line series wait until they have a value other than zero (see the card). */
  gated: boolean;
}

type Measure = readonly [string, (point: DayPoint) => number];

function plans(state: SessionState): ChartPlan[] {
  const horizon = state.scenario.horizon;
  const twoArms = state.arms.length === 2;
  const rowsOf = (points: readonly DayPoint[], arm: string, measures: readonly Measure[]): Rows => ({
    table: points.flatMap((point) => measures.map(([series, read]) => ({ day: point.day, arm, series, value: read(point) }) satisfies SeriesRow)),
  });
  const series = (name: string, title: string, yTitle: string, measures: readonly Measure[]): ChartPlan => ({ name, spec: seriesSpec(title, yTitle, horizon, twoArms), rows: (points, arm) => rowsOf(points, arm, measures), gated: true });
  const pricePlans: ChartPlan[] = state.arms.map((_, index) => {
    const arm = armName(index);
    return {
      name: `price-${arm}`,
      spec: priceSpec(arm, state),
      gated: false,
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
  const segments = state.scenario.segments;
  const money = series('money', 'Revenue and profit, cumulative', 'money', [['revenue', (point) => point.cumulativeRevenue], ['profit', (point) => point.cumulativeProfit]]);
  const units = series('units', 'Units sold and lost sales per day, by segment', 'units', [
    ...segments.flatMap((segment, index): Measure[] => [
      [`sold: ${segment}`, (point) => point.soldBySegment[index] ?? 0],
      [`lost: ${segment}`, (point) => point.lostBySegment[index] ?? 0],
    ]),
    ...(segments.length === 0 ? ([['sold', (point) => point.sold], ['lost sales', (point) => point.lostSales]] satisfies Measure[]) : []),
  ]);
  if (state.scenario.coupons !== undefined) {
    return [...pricePlans, units, money, series('coupon-cost', 'Coupons: what they took off orders, cumulative', 'money', [['cumulative coupon cost', (point) => point.cumulativeCouponCost ?? 0]])];
  }
  return [
    ...pricePlans,
    units,
    series('inventory', 'Inventory: stock on hand and units on order', 'units', [['stock on hand', (point) => point.stockOnHand], ['on order', (point) => point.stockOnOrder]]),
    money,
    series('returns', 'Returns: units returned per day', 'units', [['units returned', (point) => point.unitsReturned]]),
    series('refunds', 'Refunds: money paid back per day', 'money', [['refunds', (point) => point.refunds]]),
  ];
}

/** Rows of line series that have shown only zeros so far, held back until the series has a value. */
class SeriesGate {
  private readonly present = new Set<string>();
  private readonly waiting = new Map<string, SeriesRow[]>();

  /** The rows to draw now: those of present series, and a newly present series' held rows. */
  admit(rows: readonly SeriesRow[]): SeriesRow[] {
    const admitted: SeriesRow[] = [];
    for (const row of rows) {
      if (this.present.has(row.series)) {
        admitted.push(row);
        continue;
      }
      const held = this.waiting.get(row.series) ?? [];
      held.push(row);
      if (row.value !== 0) {
        this.present.add(row.series);
        this.waiting.delete(row.series);
        admitted.push(...held);
      } else this.waiting.set(row.series, held);
    }
    return admitted;
  }
}

/** Rows as CSV (RFC 4180 quoting), columns in the first row's order. */
export function toCsv(rows: readonly Readonly<Record<string, unknown>>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns.join(','), ...rows.map((row) => columns.map((column) => cell(row[column])).join(','))].join('\n') + '\n';
}

function download(fileName: string, url: string): void {
  const link = element('a', { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
}

export class LiveCharts {
  private views = new Map<string, View>();
  private gates = new Map<string, SeriesGate>();
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
    this.gates = new Map(this.chartPlans.filter((plan) => plan.gated).map((plan) => [plan.name, new SeriesGate()]));
    const all: [string, TopLevelSpec][] = this.chartPlans.map((plan) => [plan.name, plan.spec]);
    if (state.arms.length === 2) all.push(['difference', differenceSpec(state.scenario.horizon)]);
    const views = new Map<string, View>();
    for (const [name, spec] of all) {
      const holder = element('div', { class: 'chart', id: `chart-${name}` });
      const plot = element('div', { class: 'plot' });
      const png = element('button', { type: 'button', class: 'export-png', title: `Save the ${name} chart as a PNG image` }, 'PNG');
      const csv = element('button', { type: 'button', class: 'export-csv', title: `Save the ${name} chart's data as CSV` }, 'CSV');
      holder.append(element('div', { class: 'chart-tools' }, png, csv), plot);
      this.container.append(holder);
      const result = await embed(plot, spec, { renderer: 'svg', actions: false, logLevel: vega.Error });
      if (generation !== this.generation) {
        result.finalize();
        return;
      }
      const view = result.view;
      views.set(name, view);
      png.addEventListener('click', () => void view.toImageURL('png', 2).then((url) => download(`pricelab-${name}.png`, url)));
      csv.addEventListener('click', () => {
        const url = URL.createObjectURL(new Blob([toCsv(view.data('table') as Record<string, unknown>[])], { type: 'text/csv' }));
        download(`pricelab-${name}.csv`, url);
        window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      });
      const arm = name === 'price-B' ? 1 : 0;
      if (name.startsWith('price-')) {
        view.addEventListener('click', (_event, item) => {
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
      const gate = this.gates.get(plan.name);
      view.change('table', vega.changeset().insert(gate ? gate.admit(merged.table as SeriesRow[]) : merged.table));
      if (state.scenario.calendar.length > 0 && plan.name.startsWith('price-')) view.change('calendar', vega.changeset().insert(merged.calendar));
      if (state.scenario.weather.length > 0 && plan.name.startsWith('price-')) view.change('weather', vega.changeset().insert(merged.weather));
      view.run();
    }
    const difference = this.views.get('difference');
    if (difference) {
      const rows: DifferenceRow[] = fresh.flatMap((frame) => frame.differences.map((day) => ({ day: day.day, estimate: day.estimate, low: day.low, high: day.high, latestLow: day.latestLow, latestHigh: day.latestHigh })));
      difference.change('table', vega.changeset().insert(rows)).run();
    }
  }

  /** Empties every chart for a new run (an episode started or restarted). */
  clear(run: number): void {
    if (run === this.run) return;
    this.run = run;
    this.gates = new Map(this.chartPlans.filter((plan) => plan.gated).map((plan) => [plan.name, new SeriesGate()]));
    const state = this.state;
    for (const [name, view] of this.views) {
      view.change('table', vega.changeset().remove(() => true));
      if (state && name.startsWith('price-')) {
        if (state.scenario.calendar.length > 0) view.change('calendar', vega.changeset().remove(() => true));
        if (state.scenario.weather.length > 0) view.change('weather', vega.changeset().remove(() => true));
      }
      view.run();
    }
  }
}
