/**
 * The live view: pick a scenario and one or two policies, start, pause, step, change the
 * speed; watch the charts, the KPI tiles and, for A vs B, the running difference with its
 * always-valid interval; click a day of a price chart for "why this price?".
 *
 * Frames are gathered as they arrive and drawn once per animation frame, so a fast
 * server never makes the page draw more often than the screen refreshes.
 */
import type { DayExplanation, Frame, Kpis, ProblemEvent, SessionState } from '../shared/events.js';
import { LiveCharts } from './charts.js';
import { connect, type Connection } from './connection.js';
import { byId, element, formatMoney, formatNumber } from './dom.js';
import { renderExplanation } from './why-panel.js';

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

export class LiveView {
  private readonly connection: Connection;
  private readonly charts: LiveCharts;
  private state: SessionState | undefined;
  private chartsKey = '';
  private chartsReady: Promise<void> = Promise.resolve();
  private pendingFrames: Frame[] = [];
  private drawScheduled = false;
  readonly probe: LiveViewProbe;

  constructor() {
    this.charts = new LiveCharts(byId('charts'), (arm, day) => this.askWhy(arm, day));
    this.probe = { charts: this.charts, framesReceived: 0, daysReceived: 0, frameTimes: [] };
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
  }

  private wireControls(): void {
    const scenario = byId<HTMLSelectElement>('scenario');
    scenario.addEventListener('change', () => void this.loadPolicies(scenario.value));
    byId('configure').addEventListener('submit', (event) => {
      event.preventDefault();
      const policies = [byId<HTMLInputElement>('policy-a').value.trim(), byId<HTMLInputElement>('policy-b').value.trim()].filter((policy) => policy.length > 0);
      this.connection.send('configure', {
        scenario: scenario.value,
        policies,
        seed: Number(byId<HTMLInputElement>('seed').value),
        guardrails: byId<HTMLSelectElement>('guardrails').value === 'responsible' ? 'responsible' : 'policy',
        loop: byId<HTMLInputElement>('loop').checked,
      });
    });
    byId('start').addEventListener('click', () => this.connection.send('start', {}));
    byId('pause').addEventListener('click', () => this.connection.send('pause', {}));
    byId('step').addEventListener('click', () => this.connection.send('step', { days: 1 }));
    const speed = byId<HTMLSelectElement>('speed');
    speed.addEventListener('change', () => {
      const value = speed.value === 'max' ? 'max' : Number(speed.value);
      if (value === 'max' || value === 1 || value === 4 || value === 16 || value === 64) this.connection.send('speed', { speed: value });
    });
  }

  private async loadScenarios(): Promise<void> {
    const scenarios = (await (await fetch('/api/scenarios')).json()) as ScenarioEntry[];
    const select = byId<HTMLSelectElement>('scenario');
    const current = this.state?.scenario.id ?? select.value;
    select.replaceChildren(...scenarios.map((scenario) => element('option', { value: scenario.id, title: scenario.description }, `${scenario.id} (${scenario.horizon} days)`)));
    if (current) select.value = current;
    await this.loadPolicies(select.value);
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
    byId('day').textContent = `day ${state.day} of ${state.scenario.horizon}, episode ${state.episode} (seed ${state.seed + state.episode})`;
    byId('scenario-description').textContent = state.scenario.description;
    byId<HTMLSelectElement>('speed').value = String(state.speed);
    const key = JSON.stringify([state.scenario.id, state.arms, state.seed, state.guardrails]);
    if (key !== this.chartsKey) {
      this.chartsKey = key;
      this.fillForm(state);
      byId('why').hidden = true;
      this.chartsReady = this.chartsReady.then(() => this.charts.reset(state));
      this.renderKpis(state.arms.map(() => undefined));
      byId('ab-summary').hidden = state.arms.length !== 2;
      byId('ab-summary').textContent = state.arms.length === 2 ? 'A vs B: waiting for the first days' : '';
    } else {
      void this.chartsReady.then(() => this.charts.clear(state.run));
    }
  }

  private fillForm(state: SessionState): void {
    const scenario = byId<HTMLSelectElement>('scenario');
    if (scenario.value !== state.scenario.id) {
      scenario.value = state.scenario.id;
      void this.loadPolicies(state.scenario.id);
    }
    byId<HTMLInputElement>('policy-a').value = state.arms[0]?.policy ?? '';
    byId<HTMLInputElement>('policy-b').value = state.arms[1]?.policy ?? '';
    byId<HTMLInputElement>('seed').value = String(state.seed);
    byId<HTMLSelectElement>('guardrails').value = state.guardrails;
    byId<HTMLInputElement>('loop').checked = state.loop;
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
    const lastDay = Math.max(...last.arms.map((arm) => arm.points[arm.points.length - 1]?.day ?? 0));
    if (this.state) byId('day').textContent = `day ${lastDay} of ${this.state.scenario.horizon}, episode ${last.episode} (seed ${this.state.seed + last.episode})`;
    this.renderKpis(last.arms.map((arm) => arm.kpis));
    const difference = last.difference;
    if (difference) {
      const verdict = difference.low > 0 ? 'B earns more' : difference.high < 0 ? 'A earns more' : 'no difference shown yet';
      byId('ab-summary').textContent =
        `A vs B after ${difference.n} days: B - A = ${formatNumber(difference.estimate)} profit per day, ` +
        `${Math.round(difference.level * 100)}% always-valid interval [${formatNumber(difference.low)}, ${formatNumber(difference.high)}]; ` +
        `cumulative ${formatMoney(difference.cumulative)}. ${verdict}.`;
    }
  }

  private renderKpis(kpis: readonly (Kpis | undefined)[]): void {
    const tiles = kpis.flatMap((arm, index) => {
      const name = index === 0 ? 'A' : 'B';
      const tile = (label: string, value: string, key: string) =>
        element('div', { class: 'tile', 'data-kpi': `${name}:${key}` }, element('span', { class: 'label' }, `${kpis.length > 1 ? `${name} · ` : ''}${label}`), element('span', { class: 'value' }, value));
      if (!arm) return [tile('profit', '–', 'profit')];
      return [
        tile('profit', formatMoney(arm.profit), 'profit'),
        tile('revenue', formatMoney(arm.revenue), 'revenue'),
        tile('units sold', formatMoney(arm.sold), 'sold'),
        tile('lost sales', formatMoney(arm.lostSales), 'lostSales'),
        tile('fill rate', `${formatNumber(arm.fillRate * 100, 1)}%`, 'fillRate'),
        tile('mean price', formatNumber(arm.meanPrice), 'meanPrice'),
        tile('returns', formatMoney(arm.unitsReturned), 'unitsReturned'),
        tile('refunds', formatMoney(arm.refunds), 'refunds'),
        tile('guardrail moves', String(arm.guardrailAdjustments), 'guardrailAdjustments'),
      ];
    });
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
    const details = problem.problems.map((item) => `${item.path.join('.') || '(root)'}: ${item.message}`);
    const node = byId('problems');
    node.replaceChildren(element('strong', {}, problem.message), ...details.map((detail) => element('div', {}, detail)));
    node.hidden = false;
    window.setTimeout(() => {
      node.hidden = true;
    }, 8000);
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
