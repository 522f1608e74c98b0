/**
 * The live view: pick a scenario and one or two policies, start, pause, step, change the
 * speed; watch the charts, the KPI tiles (A and B side by side with B - A), who pays what
 * (fairness-panel.ts: effective price by group, its max/min ratio) and, for A vs
 * B, the running difference with its always-valid interval; click a day of a price chart
 * for "why this price?". On a coupon scenario each arm's coupon of the latest day is shown
 * (#coupons, `data-coupon="<arm>"`) and the KPI tiles add the coupon KPIs.
 *
 * The form and the charts: the charts always show the loaded run. While the form differs
 * from it (edited, or a Load that failed) the charts are dimmed and a note says what they
 * show; a successful Load clears the note and the error banner.
 *
 * Share link: the address holds the loaded settings (scenario, policies, seed, guardrails,
 * loop, speed) in its query string, kept up to date; opening such an address loads them.
 *
 * Frames are gathered as they arrive and drawn once per animation frame, so a fast
 * server never makes the page draw more often than the screen refreshes.
 */
import type { DayExplanation, DayPoint, Frame, Kpis, ProblemEvent, SessionState, Speed } from '../shared/events.js';
import { LiveCharts } from './charts.js';
import { connect, type Connection } from './connection.js';
import { byId, element, formatMoney, formatNumber, formatSigned } from './dom.js';
import { renderExplanation } from './why-panel.js';
import { renderFairness } from './fairness-panel.js';
import { headlineOf, summaryOf } from './ab-headline.js';

interface ScenarioEntry {
  id: string;
  description: string;
  horizon: number;
}

/** What the page exposes for tests and the benchmark (read-only use). */
export interface LiveViewProbe {
  readonly charts: LiveCharts;
  framesReceived: number;
  daysReceived: number;
  /** Time between consecutive animation frames, in ms (the page's frame time). */
  readonly frameTimes: number[];
}

/** What a Load sends (the configure command, every field given). */
interface Settings {
  scenario: string;
  policies: string[];
  seed: number;
  guardrails: SessionState['guardrails'];
  loop: boolean;
}

const speedsByText: Readonly<Record<string, Speed>> = { '1': 1, '4': 4, '16': 16, '64': 64, max: 'max' };

/** The share-link query string of some settings and a speed. */
export function settingsQuery(settings: Settings, speed: Speed): string {
  const query = new URLSearchParams({ scenario: settings.scenario, a: settings.policies[0] ?? '' });
  if (settings.policies[1] !== undefined) query.set('b', settings.policies[1]);
  query.set('seed', String(settings.seed));
  if (settings.guardrails !== 'policy') query.set('guardrails', settings.guardrails);
  if (settings.loop) query.set('loop', '1');
  query.set('speed', String(speed));
  return query.toString();
}

/** Settings and speed from a share link's query string (undefined without a scenario and policy A). */
export function settingsOfQuery(search: string): { settings: Settings; speed: Speed | undefined } | undefined {
  const query = new URLSearchParams(search);
  const scenario = query.get('scenario');
  const a = query.get('a');
  if (!scenario || !a) return undefined;
  const b = query.get('b');
  const seed = Number(query.get('seed') ?? '1');
  return {
    settings: { scenario, policies: b ? [a, b] : [a], seed: Number.isInteger(seed) && seed >= 0 ? seed : 1, guardrails: query.get('guardrails') === 'responsible' ? 'responsible' : 'policy', loop: query.get('loop') === '1' },
    speed: speedsByText[query.get('speed') ?? ''],
  };
}

/** The problem's headline (the message's first line: later lines repeat the problems) and its problems, each once. */
export function problemLines(problem: ProblemEvent): { headline: string; details: string[] } {
  const headline = problem.message.split('\n')[0]?.trim() ?? '';
  const details = [...new Set(problem.problems.map((item) => `${item.path.join('.') || '(root)'}: ${item.message}`))].filter((detail) => !headline.includes(detail));
  return { headline, details };
}

export class LiveView {
  private readonly connection: Connection;
  private readonly charts: LiveCharts;
  private state: SessionState | undefined;
  private chartsKey = '';
  private chartsReady: Promise<void> = Promise.resolve();
  private pendingFrames: Frame[] = [];
  private drawScheduled = false;
  /** Days of the current run drawn so far (the day counter counts from 1). */
  private daysDrawn = 0;
  private drawnRun = -1;
  /** A Load was sent and neither its session nor its problem has come back. */
  private awaitingConfigure = false;
  /** Settings from the address, loaded once the page is connected. */
  private addressSettings: ReturnType<typeof settingsOfQuery>;
  private problemTimer: number | undefined;
  readonly probe: LiveViewProbe;

  constructor() {
    this.charts = new LiveCharts(byId('charts'), (arm, day) => this.askWhy(arm, day));
    this.probe = { charts: this.charts, framesReceived: 0, daysReceived: 0, frameTimes: [] };
    this.addressSettings = settingsOfQuery(window.location.search);
    this.connection = connect({
      session: (state) => this.onSession(state),
      frame: (frame) => this.onFrame(frame),
      explanation: (explanation) => this.onExplanation(explanation),
      problem: (problem) => this.onProblem(problem),
      connected: (connected) => {
        byId('connection').textContent = connected ? 'connected' : 'disconnected';
      },
    });
    this.wireControls();
    this.measureFrames();
    void this.loadScenarios();
    if (this.addressSettings) {
      this.fillFormWith(this.addressSettings.settings);
      this.configure(this.addressSettings.settings);
      if (this.addressSettings.speed !== undefined) this.connection.send('speed', { speed: this.addressSettings.speed });
    }
  }

  private wireControls(): void {
    const scenario = byId<HTMLSelectElement>('scenario');
    scenario.addEventListener('change', () => void this.loadPolicies(scenario.value));
    const form = byId<HTMLFormElement>('configure');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.configure(this.formSettings());
    });
    form.addEventListener('input', () => this.showStale());
    form.addEventListener('change', () => this.showStale());
    byId('start').addEventListener('click', () => this.connection.send('start', {}));
    byId('pause').addEventListener('click', () => this.connection.send('pause', {}));
    byId('step').addEventListener('click', () => this.connection.send('step', { days: 1 }));
    const speed = byId<HTMLSelectElement>('speed');
    speed.addEventListener('change', () => {
      const value = speedsByText[speed.value];
      if (value !== undefined) this.connection.send('speed', { speed: value });
    });
    byId('share').addEventListener('click', () => {
      const link = byId<HTMLInputElement>('share-link');
      link.value = window.location.href;
      link.hidden = false;
      link.select();
      void navigator.clipboard?.writeText(link.value).catch(() => undefined);
    });
    byId('problems-close').addEventListener('click', () => this.hideProblems());
  }

  private configure(settings: Settings): void {
    this.awaitingConfigure = true;
    this.connection.send('configure', settings);
  }

  private formSettings(): Settings {
    const policies = [byId<HTMLInputElement>('policy-a').value.trim(), byId<HTMLInputElement>('policy-b').value.trim()].filter((policy) => policy.length > 0);
    return {
      scenario: byId<HTMLSelectElement>('scenario').value,
      policies,
      seed: Number(byId<HTMLInputElement>('seed').value),
      guardrails: byId<HTMLSelectElement>('guardrails').value === 'responsible' ? 'responsible' : 'policy',
      loop: byId<HTMLInputElement>('loop').checked,
    };
  }

  private async loadScenarios(): Promise<void> {
    const scenarios = (await (await fetch('/api/scenarios')).json()) as ScenarioEntry[];
    const select = byId<HTMLSelectElement>('scenario');
    const current = this.addressSettings?.settings.scenario ?? this.state?.scenario.id ?? select.value;
    select.replaceChildren(...scenarios.map((scenario) => element('option', { value: scenario.id, title: scenario.description }, `${scenario.id} (${scenario.horizon} days)`)));
    if (current) select.value = current;
    await this.loadPolicies(select.value);
    this.showStale();
  }

  private async loadPolicies(scenario: string): Promise<void> {
    const answer = (await (await fetch(`/api/policies?scenario=${encodeURIComponent(scenario)}`)).json()) as { rules: string[]; registered: { spec: string; label: string }[] };
    byId('policy-options').replaceChildren(
      ...answer.rules.map((rule) => element('option', { value: rule }, 'rule')),
      ...answer.registered.map((policy) => element('option', { value: policy.spec }, policy.label)),
    );
  }

  private onSession(state: SessionState): void {
    this.state = state;
    byId('status').textContent = state.status;
    byId('status').dataset['status'] = state.status;
    if (state.run !== this.drawnRun) {
      this.drawnRun = state.run;
      this.daysDrawn = 0;
      renderFairness(byId('fairness'), []);
    }
    this.showDay(state.episode);
    byId('scenario-description').textContent = state.scenario.description;
    byId<HTMLSelectElement>('speed').value = String(state.speed);
    const key = JSON.stringify([state.scenario.id, state.arms, state.seed, state.guardrails]);
    // The first session is the server's default: a page opened from a share link waits for its own.
    const answered = this.awaitingConfigure && (this.addressSettings === undefined || sameSettings(settingsOf(state), this.addressSettings.settings));
    const waitingForAddress = this.addressSettings !== undefined && !answered;
    if (answered) {
      this.awaitingConfigure = false;
      this.addressSettings = undefined;
      this.hideProblems();
    }
    if (key !== this.chartsKey) {
      this.chartsKey = key;
      if (!waitingForAddress) this.fillFormWith(settingsOf(state));
      byId('why').hidden = true;
      this.chartsReady = this.chartsReady.then(() => this.charts.reset(state));
      this.renderKpis(state.arms.map(() => undefined));
      byId('ab-summary').hidden = state.arms.length !== 2;
      byId('ab-summary').textContent = state.arms.length === 2 ? 'A vs B: waiting for the first days' : '';
    } else {
      void this.chartsReady.then(() => this.charts.clear(state.run));
    }
    if (!waitingForAddress) {
      window.history.replaceState(null, '', `?${settingsQuery(settingsOf(state), speedsByText[String(state.speed)] ?? 16)}`);
      // A share link on show follows the loaded settings, never an earlier Load's.
      const link = byId<HTMLInputElement>('share-link');
      if (!link.hidden) link.value = window.location.href;
    }
    this.showStale();
  }

  private fillFormWith(settings: Settings): void {
    const scenario = byId<HTMLSelectElement>('scenario');
    if (scenario.value !== settings.scenario) {
      scenario.value = settings.scenario;
      void this.loadPolicies(settings.scenario);
    }
    byId<HTMLInputElement>('policy-a').value = settings.policies[0] ?? '';
    byId<HTMLInputElement>('policy-b').value = settings.policies[1] ?? '';
    byId<HTMLInputElement>('seed').value = String(settings.seed);
    byId<HTMLSelectElement>('guardrails').value = settings.guardrails;
    byId<HTMLInputElement>('loop').checked = settings.loop;
  }

  /** Dims the charts, with a note, while the form differs from the loaded run. */
  private showStale(): void {
    const note = byId('stale-note');
    const state = this.state;
    const stale = state !== undefined && !this.awaitingConfigure && !sameSettings(this.formSettings(), settingsOf(state));
    note.hidden = !stale;
    note.textContent = stale && state ? `Not loaded: the charts show ${describe(settingsOf(state))}. Press Load to run what the form says.` : '';
    for (const id of ['charts', 'kpis', 'ab-summary']) byId(id).classList.toggle('stale', stale);
  }

  private onFrame(frame: Frame): void {
    this.probe.framesReceived += 1;
    this.probe.daysReceived += frame.daysSimulated;
    this.pendingFrames.push(frame);
    if (this.drawScheduled) return;
    this.drawScheduled = true;
    requestAnimationFrame(() => {
      this.drawScheduled = false;
      void this.chartsReady.then(() => this.draw());
    });
  }

  private draw(): void {
    const frames = this.pendingFrames;
    this.pendingFrames = [];
    if (frames.length === 0) return;
    this.charts.append(frames);
    const last = frames[frames.length - 1] as Frame;
    const lastDay = Math.max(...last.arms.map((arm) => arm.points[arm.points.length - 1]?.day ?? -1));
    if (last.run !== this.drawnRun) {
      this.drawnRun = last.run;
      this.daysDrawn = 0;
    }
    this.daysDrawn = Math.max(this.daysDrawn, lastDay + 1);
    this.showDay(last.episode);
    this.renderKpis(last.arms.map((arm) => arm.kpis));
    renderCoupons(byId('coupons'), last.arms.map((arm) => arm.points[arm.points.length - 1]));
    renderFairness(byId('fairness'), last.arms.map((arm) => arm.fairness));
    if (last.difference) {
      const summary = byId('ab-summary');
      summary.textContent = summaryOf(last.difference);
      summary.dataset['basis'] = headlineOf(last.difference).basis;
    }
  }

  /** "day 12 of 365": the days simulated so far, counted from 1. */
  private showDay(episode: number): void {
    if (!this.state) return;
    byId('day').textContent = `day ${this.daysDrawn} of ${this.state.scenario.horizon}, episode ${episode + 1} (seed ${this.state.seed + episode})`;
  }

  private renderKpis(kpis: readonly (Kpis | undefined)[]): void {
    const [a, b] = kpis;
    const couponMeasures: typeof measures = [
      { key: 'couponCost', label: 'coupon cost', format: formatMoney, difference: (value) => formatSigned(value) },
      { key: 'redemptionRate', label: 'redemption rate', format: (value) => `${formatNumber(value * 100, 1)}%`, difference: (value) => `${formatSigned(value * 100, 1)} pts` },
      { key: 'incrementalUnitsPerCoupon', label: 'incremental units per coupon', format: (value) => formatNumber(value, 3), difference: (value) => formatSigned(value, 3) },
    ];
    const measures: readonly { key: keyof Kpis & string; label: string; format: (value: number) => string; difference: (value: number) => string }[] = [
      { key: 'profit', label: 'profit', format: formatMoney, difference: (value) => formatSigned(value) },
      { key: 'revenue', label: 'revenue', format: formatMoney, difference: (value) => formatSigned(value) },
      { key: 'sold', label: 'units sold', format: formatMoney, difference: (value) => formatSigned(value) },
      { key: 'lostSales', label: 'lost sales', format: formatMoney, difference: (value) => formatSigned(value) },
      { key: 'fillRate', label: 'fill rate', format: (value) => `${formatNumber(value * 100, 1)}%`, difference: (value) => `${formatSigned(value * 100, 1)} pts` },
      { key: 'meanPrice', label: 'mean price', format: (value) => formatNumber(value), difference: (value) => formatSigned(value, 2) },
      { key: 'unitsReturned', label: 'returns', format: formatMoney, difference: (value) => formatSigned(value) },
      { key: 'refunds', label: 'refunds', format: formatMoney, difference: (value) => formatSigned(value) },
      { key: 'guardrailAdjustments', label: 'guardrail moves', format: (value) => String(value), difference: (value) => formatSigned(value) },
      ...(a?.couponCost === undefined ? [] : couponMeasures),
    ];
    const valueOf = (kpis: Kpis, key: keyof Kpis): number => kpis[key] ?? 0;
    // The exact value in the title (shown on hover; tests read it): the tile rounds.
    const cell = (arm: string, key: string, text: string, exact?: number) =>
      element('span', { class: `cell arm-${arm}`, 'data-kpi': `${arm}:${key}`, ...(exact === undefined ? {} : { title: String(exact) }) }, element('span', { class: 'arm' }, arm === 'diff' ? 'B − A' : arm), element('span', { class: 'value' }, text));
    let tiles: HTMLElement[];
    if (kpis.length < 2) {
      tiles = a ? measures.map((measure) => element('div', { class: 'tile' }, element('span', { class: 'label' }, measure.label), cell('A', measure.key, measure.format(valueOf(a, measure.key)), valueOf(a, measure.key)))) : [element('div', { class: 'tile' }, element('span', { class: 'label' }, 'profit'), cell('A', 'profit', '–'))];
    } else {
      const shown = a && b ? measures : measures.slice(0, 1);
      tiles = shown.map((measure) =>
        element(
          'div',
          { class: 'tile pair' },
          element('span', { class: 'label' }, measure.label),
          element(
            'span',
            { class: 'cells' },
            cell('A', measure.key, a ? measure.format(valueOf(a, measure.key)) : '–', a ? valueOf(a, measure.key) : undefined),
            cell('B', measure.key, b ? measure.format(valueOf(b, measure.key)) : '–', b ? valueOf(b, measure.key) : undefined),
            cell('diff', measure.key, a && b ? measure.difference(valueOf(b, measure.key) - valueOf(a, measure.key)) : '–', a && b ? valueOf(b, measure.key) - valueOf(a, measure.key) : undefined),
          ),
        ),
      );
    }
    byId('kpis').replaceChildren(...tiles);
  }

  private askWhy(arm: number, day: number): void {
    if (!this.state) return;
    this.connection.send('explain', { arm, episode: this.state.episode, day });
  }

  private onExplanation(explanation: DayExplanation): void {
    renderExplanation(byId('why'), explanation);
  }

  private onProblem(problem: ProblemEvent): void {
    const { headline, details } = problemLines(problem);
    byId('problems-text').replaceChildren(element('strong', {}, headline), ...details.map((detail) => element('div', {}, detail)));
    byId('problems').hidden = false;
    window.clearTimeout(this.problemTimer);
    this.problemTimer = undefined;
    if (problem.event === 'configure') {
      // A refused Load: the banner stays until a Load succeeds (or it is closed); the form keeps what was typed.
      this.awaitingConfigure = false;
      if (this.addressSettings) {
        this.fillFormWith(this.addressSettings.settings);
        this.addressSettings = undefined;
      }
      this.showStale();
    } else this.problemTimer = window.setTimeout(() => this.hideProblems(), 8000);
  }

  private hideProblems(): void {
    window.clearTimeout(this.problemTimer);
    this.problemTimer = undefined;
    byId('problems').hidden = true;
    byId('problems-text').replaceChildren();
  }

  private measureFrames(): void {
    let last = performance.now();
    const times = this.probe.frameTimes;
    const tick = (now: number) => {
      times.push(now - last);
      if (times.length > 2000) times.splice(0, times.length - 2000);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
}

/** Each arm's coupon on its latest day (coupon scenarios only: hidden when no point names one). */
function renderCoupons(container: HTMLElement, latest: readonly (DayPoint | undefined)[]): void {
  const shown = latest.flatMap((point, index) => (point?.coupon === undefined ? [] : [{ arm: index === 0 ? 'A' : 'B', point }]));
  container.hidden = shown.length === 0;
  container.replaceChildren(
    ...shown.flatMap(({ arm, point }, index) => [
      ...(index > 0 ? ['; '] : ['Coupon of the day: ']),
      element('span', { class: 'coupon-today' }, `${arm}, day ${point.day + 1}: `, element('strong', { 'data-coupon': arm, 'data-day': String(point.day), title: point.coupon ?? '' }, point.coupon ?? ''), ` at ${formatNumber(point.price)}`),
    ]),
  );
}

function settingsOf(state: SessionState): Settings {
  return { scenario: state.scenario.id, policies: state.arms.map((arm) => arm.policy), seed: state.seed, guardrails: state.guardrails, loop: state.loop };
}

function sameSettings(left: Settings, right: Settings): boolean {
  return left.scenario === right.scenario && left.policies.join('\n') === right.policies.join('\n') && left.seed === right.seed && left.guardrails === right.guardrails && left.loop === right.loop;
}

function describe(settings: Settings): string {
  const arms = settings.policies.map((policy, index) => `${index === 0 ? 'A' : 'B'} ${policy}`).join(', ');
  return `${settings.scenario}, ${arms}, seed ${settings.seed}`;
}

