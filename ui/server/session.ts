/**
 * A simulation session: what one browser tab watches. One scenario, one or two policies
 * (arms) on the same seed, a status (ready, running, paused, finished), a speed in days per
 * second, and a timer that advances the market.
 *
 * Paced speeds (1, 4, 16, 64 days per second) tick at most every 50 ms and send each tick's
 * days as one frame. At full speed ('max') every tick simulates for a time budget (10 ms)
 * and yields to I/O (setImmediate); simulated days are batched and sent at most every
 * `frameIntervalMs`, down-sampled to `maxPointsPerFrame` points per arm (the A-vs-B
 * difference is not: it is a few numbers a day, and its interval depends on every day). Frames are
 * acknowledged by the client, and while `maxFramesInFlight` frames are unacknowledged the
 * session does not simulate further: a slow page slows the simulation instead of
 * drowning in frames.
 *
 * A vs B: the running difference is B's daily profit minus A's (an arm that has ended
 * earns 0), with its always-valid interval (experiments/statistics/sequential.ts, a
 * confidence sequence updated once a day and reported as a running intersection), so a
 * product manager may peek at every frame without inflating errors; every day's interval
 * is sent, so the chart draws each day.
 *
 * Commands are handled one at a time, in arrival order (configure loads policies
 * asynchronously), each on its own turn of the event loop (setImmediate before it), so one
 * tab's commands never hold up another's. At most `maxQueuedCommands` wait per session: more
 * are refused with one `problem` event until the queue has room again. A `step` simulates
 * at most `maxStepDays` days (and never past the episode's end) in slices of
 * `tickBudgetMs`, yielding between slices, and its frames obey the same flow control as the
 * streamed ones: while `maxFramesInFlight` frames are unacknowledged it waits (a frame not
 * acknowledged within `frameAcknowledgementTimeoutMs` counts as delivered). Before each
 * command the session also waits until its client's connection has taken what was sent
 * (`SessionOutput.writable`), so a client that stops reading stops its own session and
 * nobody else's. Failures become `problem` events; the session stays usable.
 *
 * On a coupon scenario (a `coupons` block) each arm is a coupon arm (coupon-arm.ts): its policy
 * (a coupon rule, a price rule, or a trained coupon policy: coupon-policy-source.ts) chooses a
 * price and a coupon each day in the coupon market; the guardrails bound the price part of each
 * action (agents/coupon-guardrails.ts), the coupon stands as chosen.
 */
import { buildMarketModel } from '../../env/model.js';
import type { Guardrails } from '../../agents/guardrails.js';
import { ConfidenceSequence, type AlwaysValidInterval } from '../../experiments/statistics/sequential.js';
import type { ClientEventPayload, DayExplanation, DayPoint, Difference, Frame, ProblemEvent, SessionState, Speed } from '../shared/events.js';
import type { configureSchema } from '../shared/events.js';
import { Arm } from './arm.js';
import { CouponArm } from './coupon-arm.js';
import { couponRuleDashboardPolicy, couponServedDashboardPolicy } from './coupon-policy-source.js';
import { downsample } from './downsample.js';
import type { Scenario } from '../../scenarios/schema.js';
import type { ServedPolicy } from '../../serving/served-policy.js';
import { isServedSpec, loadServedPolicy, ruleDashboardPolicy, servedDashboardPolicy } from './policy-source.js';
import { problemOf } from './problems.js';
import { loadSessionScenario, type DashboardFolders } from './sources.js';
import type { z } from 'zod';

export interface SessionOutput {
  session(state: SessionState): void;
  /** Sends a frame; `delivered` is called when the client acknowledges it. */
  frame(frame: Frame, delivered: () => void): void;
  explanation(explanation: DayExplanation): void;
  problem(problem: ProblemEvent): void;
  /** Resolves when the client's connection can take more (its send buffer is small again). */
  writable?(): Promise<void>;
}

export interface SessionTuning {
  frameIntervalMs: number;
  maxPointsPerFrame: number;
  maxFramesInFlight: number;
  tickBudgetMs: number;
  /** A frame not acknowledged within this time counts as delivered (app.ts's socket timeout). */
  frameAcknowledgementTimeoutMs: number;
  /** Commands waiting or running per session; more are refused with a problem event. */
  maxQueuedCommands: number;
  /** The most days one `step` simulates (it also stops at the episode's end). */
  maxStepDays: number;
}

export const defaultTuning: SessionTuning = { frameIntervalMs: 50, maxPointsPerFrame: 250, maxFramesInFlight: 2, tickBudgetMs: 10, frameAcknowledgementTimeoutMs: 10_000, maxQueuedCommands: 32, maxStepDays: 1000 };

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export const defaultConfiguration: z.output<typeof configureSchema> = { scenario: 'singles-day-v1', policies: ['festival:0.15'], seed: 1, guardrails: 'policy', loop: false };

const minimumTickMs = 50;

type Configuration = z.output<typeof configureSchema>;

export class SimulationSession {
  private arms: (Arm | CouponArm)[] = [];
  private configuration: Configuration = defaultConfiguration;
  private status: SessionState['status'] = 'ready';
  private speed: Speed = 16;
  private episode = 0;
  private run = 0;
  private day = 0;
  private pending: DayPoint[][] = [];
  private sequence = new ConfidenceSequence();
  private pendingDifferences: Difference[] = [];
  private latestDifference: Difference | null = null;
  private cumulativeDifference = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private lastTickAt = 0;
  private dayCredit = 0;
  private lastFrameAt = 0;
  private framesInFlight = 0;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private refusedSinceRoom = false;
  private frameRoomWaiters: (() => void)[] = [];
  private closed = false;
  private description = '';

  constructor(
    private readonly output: SessionOutput,
    private readonly resultsHome: string,
    private readonly tuning: SessionTuning = defaultTuning,
    /** What the page may load besides built-in scenarios and registered policies (sources.ts). */
    private readonly folders: DashboardFolders = {},
  ) {}

  /**
   * Runs a command after the ones before it, on a later turn of the event loop; a failure
   * becomes a problem event. When `maxQueuedCommands` are already waiting the command is
   * refused (one problem event until there is room again) and false is returned.
   */
  command(event: string, action: () => void | Promise<void>): boolean {
    if (this.queued >= this.tuning.maxQueuedCommands) {
      if (!this.refusedSinceRoom) {
        this.refusedSinceRoom = true;
        const message = `expected at most ${this.tuning.maxQueuedCommands} commands waiting, found more: "${event}" and the commands after it are refused until the session catches up`;
        this.output.problem({ event, message: 'too many commands waiting', problems: [{ path: ['event'], message }] });
      }
      return false;
    }
    this.queued++;
    this.queue = this.queue.then(async () => {
      try {
        await nextTurn();
        if (this.output.writable && !this.closed) await this.output.writable();
        if (this.closed) return;
        await action();
      } catch (error) {
        if (!this.closed) this.output.problem(problemOf(event, error));
      } finally {
        this.queued--;
        if (this.queued < this.tuning.maxQueuedCommands) this.refusedSinceRoom = false;
      }
    });
    return true;
  }

  /** Commands waiting or running. */
  get queuedCommands(): number {
    return this.queued;
  }

  async configure(configuration: Configuration): Promise<void> {
    this.stopTimer();
    // Trained policies first: each carries the scenario it was trained on, which is the
    // session's scenario when the page names one that is neither built in nor in the folder.
    const served = new Map<number, ServedPolicy>();
    const arms: (Arm | CouponArm)[] = [];
    let loaded: { scenario: Scenario; contentHash: string };
    try {
      for (const [index, spec] of configuration.policies.entries()) {
        if (isServedSpec(spec)) served.set(index, await loadServedPolicy(spec, this.resultsHome, this.folders));
      }
      loaded = loadSessionScenario(configuration.scenario, this.folders, () => [...served.values()].map((policy) => policy.trainedOn));
      const model = buildMarketModel(loaded.scenario);
      for (const [index, spec] of configuration.policies.entries()) {
        if (model.scenario.coupons !== undefined) {
          const arm = new CouponArm(model);
          arms.push(arm);
          const trained = served.get(index);
          const policy = trained ? couponServedDashboardPolicy(spec, trained, { id: model.scenario.id, contentHash: loaded.contentHash }) : await couponRuleDashboardPolicy(spec, arm.env, configuration.seed);
          arm.usePolicy(policy, guardrailsOf(configuration.guardrails, policy.guardrails, model.unitCost));
          served.delete(index);
          continue;
        }
        const arm = new Arm(model);
        arms.push(arm);
        const trained = served.get(index);
        const policy = trained ? servedDashboardPolicy(spec, trained, { id: model.scenario.id, contentHash: loaded.contentHash }) : await ruleDashboardPolicy(spec, arm.env, configuration.seed, this.folders);
        served.delete(index);
        arm.usePolicy(policy, guardrailsOf(configuration.guardrails, policy.guardrails, model.unitCost));
      }
    } catch (error) {
      for (const policy of served.values()) policy.dispose();
      for (const arm of arms) arm.dispose();
      throw error;
    }
    for (const arm of this.arms) arm.dispose();
    this.arms = arms;
    this.configuration = configuration;
    this.description = loaded.scenario.description;
    this.status = 'ready';
    this.startEpisode(0);
  }

  start(): void {
    this.requireArms();
    if (this.status === 'finished') this.startEpisode(0);
    this.status = 'running';
    this.lastTickAt = performance.now();
    this.dayCredit = 0;
    this.emitState();
    this.schedule();
  }

  pause(): void {
    this.stopTimer();
    if (this.status === 'running') this.status = 'paused';
    this.flush(true);
    this.emitState();
  }

  /** Simulates up to `days` days (at most maxStepDays, not past the episode's end) in slices, with flow-controlled frames. */
  async step(payload: ClientEventPayload<'step'>): Promise<void> {
    this.requireArms();
    this.stopTimer();
    if (this.status === 'finished') this.startEpisode(0);
    this.status = 'paused';
    const days = Math.min(payload.days ?? 1, this.tuning.maxStepDays);
    const run = this.run;
    const stepStarted = performance.now();
    let simulated = 0;
    const stepping = () => simulated < days && !this.finished && !this.closed && this.run === run;
    while (stepping()) {
      const started = performance.now();
      do {
        this.advanceDay();
        simulated++;
      } while (stepping() && performance.now() - started < this.tuning.tickBudgetMs);
      if (!stepping()) break;
      // A long step shows its progress; a short one (under frameIntervalMs) sends one frame.
      const now = performance.now();
      if (now - stepStarted >= this.tuning.frameIntervalMs && now - this.lastFrameAt >= this.tuning.frameIntervalMs) {
        await this.roomForFrame();
        this.flush(false);
      }
      await nextTurn();
    }
    await this.roomForFrame();
    if (this.closed) return;
    this.flush(false);
    this.emitState();
  }

  setSpeed(speed: Speed): void {
    this.speed = speed;
    this.lastTickAt = performance.now();
    this.dayCredit = 0;
    if (this.status === 'running') this.schedule();
    this.emitState();
  }

  explain(payload: ClientEventPayload<'explain'>): void {
    const arm = this.arms[payload.arm];
    const problem = (message: string, path: string) => this.output.problem({ event: 'explain', message, problems: [{ path: [path], message }] });
    if (!arm) return problem(`expected an arm below ${this.arms.length}, found ${payload.arm}`, 'arm');
    if (payload.episode !== this.episode) return problem(`expected the current episode (${this.episode}), found ${payload.episode}: only its days are kept`, 'episode');
    const explained = arm.explain(payload.day);
    if (!explained) return problem(`expected a simulated day of episode ${this.episode}, found day ${payload.day}`, 'day');
    this.output.explanation({ ...explained, arm: payload.arm, episode: this.episode });
  }

  get finished(): boolean {
    return this.status === 'finished';
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
    this.wakeFrameRoomWaiters();
    for (const arm of this.arms) arm.dispose();
    this.arms = [];
  }

  get state(): SessionState {
    const model = this.arms[0]?.model;
    return {
      scenario: {
        id: model?.scenario.id ?? this.configuration.scenario,
        description: this.description,
        horizon: model?.horizon ?? 0,
        ladder: model ? Array.from(model.ladder) : [],
        unitCost: model?.unitCost ?? 0,
        rivals: model ? model.rivals.map((rival) => rival.name) : [],
        segments: model ? model.segments.map((segment) => segment.name) : [],
        weather: model?.weather ? [...model.weather.stateNames] : [],
        calendar: model ? calendarKinds(model.festivals.eventDay, model.festivals.presaleDay) : [],
        ...(this.arms[0] instanceof CouponArm ? { coupons: [...this.arms[0].env.model.campaignNames] } : {}),
      },
      arms: this.arms.map((arm, index) => ({ name: armName(index), policy: arm.policySpec, agentKind: arm.agentKind, guardrails: { ...arm.guardrails } })),
      seed: this.configuration.seed,
      episode: this.episode,
      run: this.run,
      day: this.day,
      status: this.status,
      speed: this.speed,
      loop: this.configuration.loop,
      guardrails: this.configuration.guardrails,
    };
  }

  private startEpisode(episode: number): void {
    this.episode = episode;
    this.run += 1;
    this.day = 0;
    this.pending = this.arms.map(() => []);
    this.sequence = new ConfidenceSequence();
    this.pendingDifferences = [];
    this.latestDifference = null;
    this.cumulativeDifference = 0;
    for (const arm of this.arms) arm.reset(this.configuration.seed + episode);
    this.emitState();
  }

  private advanceDay(): void {
    const profits = this.arms.map((arm, index) => {
      if (arm.ended) return 0;
      const point = arm.step();
      this.pending[index]?.push(point);
      this.day = Math.max(this.day, point.day);
      return point.profit;
    });
    if (profits.length === 2) {
      const difference = (profits[1] ?? 0) - (profits[0] ?? 0);
      this.cumulativeDifference += difference;
      this.latestDifference = differenceOf(this.day, this.sequence.push(difference), this.cumulativeDifference);
      this.pendingDifferences.push(this.latestDifference);
    }
    if (this.arms.every((arm) => arm.ended)) {
      this.flush(true);
      if (this.configuration.loop && this.status === 'running') this.startEpisode(this.episode + 1);
      else {
        this.status = 'finished';
        this.stopTimer();
        this.emitState();
      }
    }
  }

  private schedule(): void {
    this.stopTimer();
    if (this.status !== 'running' || this.closed) return;
    if (this.speed === 'max') this.timer = setImmediate(() => this.tick());
    else this.timer = setTimeout(() => this.tick(), Math.max(minimumTickMs, 1000 / this.speed));
  }

  private tick(): void {
    this.timer = undefined;
    if (this.status !== 'running') return;
    try {
      if (this.speed === 'max') this.tickAtFullSpeed();
      else this.tickPaced(this.speed);
    } catch (error) {
      this.status = 'paused';
      this.output.problem(problemOf('session', error));
      this.emitState();
      return;
    }
    this.schedule();
  }

  private tickPaced(speed: number): void {
    const now = performance.now();
    this.dayCredit += ((now - this.lastTickAt) / 1000) * speed;
    this.lastTickAt = now;
    while (this.dayCredit >= 1 && this.status === 'running') {
      this.dayCredit -= 1;
      this.advanceDay();
    }
    this.flush(false);
  }

  private tickAtFullSpeed(): void {
    if (this.framesInFlight >= this.tuning.maxFramesInFlight) return; // the client is behind: wait for its acknowledgement
    const started = performance.now();
    const episode = this.episode;
    while (this.status === 'running' && this.episode === episode && performance.now() - started < this.tuning.tickBudgetMs) {
      for (let batch = 0; batch < 16 && this.status === 'running' && this.episode === episode; batch++) this.advanceDay();
    }
    if (performance.now() - this.lastFrameAt >= this.tuning.frameIntervalMs) this.flush(false);
  }

  /** Sends the pending days as a frame (down-sampled); `force` sends even when the client is behind. */
  private flush(force: boolean): void {
    const first = this.pending[0];
    if (!first || first.length === 0) return;
    if (!force && this.framesInFlight >= this.tuning.maxFramesInFlight) return;
    const daysSimulated = first.length;
    const frame: Frame = {
      episode: this.episode,
      run: this.run,
      arms: this.arms.map((arm, index) => ({ points: downsample(this.pending[index] ?? [], this.tuning.maxPointsPerFrame), kpis: arm.currentKpis, fairness: arm.currentFairness })),
      difference: this.latestDifference,
      differences: this.pendingDifferences,
      daysSimulated,
    };
    this.pending = this.arms.map(() => []);
    this.pendingDifferences = [];
    this.framesInFlight++;
    this.lastFrameAt = performance.now();
    this.output.frame(frame, () => {
      this.framesInFlight = Math.max(0, this.framesInFlight - 1);
      this.wakeFrameRoomWaiters();
      if (this.status === 'running' && this.speed === 'max' && this.timer === undefined) this.schedule();
    });
  }

  /** Resolves when fewer than maxFramesInFlight frames are unacknowledged (or the session is closed). */
  private async roomForFrame(): Promise<void> {
    while (this.framesInFlight >= this.tuning.maxFramesInFlight && !this.closed) {
      await new Promise<void>((resolve) => this.frameRoomWaiters.push(resolve));
    }
  }

  private wakeFrameRoomWaiters(): void {
    const waiters = this.frameRoomWaiters;
    this.frameRoomWaiters = [];
    for (const wake of waiters) wake();
  }

  private emitState(): void {
    this.output.session(this.state);
  }

  private stopTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private requireArms(): void {
    if (this.arms.length === 0) throw new Error('no simulation is configured: send "configure" first');
  }
}

export const armName = (index: number): string => (index === 0 ? 'A' : 'B');

/** Which kinds of festive days an episode has (for the charts' calendar legend). */
function calendarKinds(eventDay: Uint8Array, presaleDay: Uint8Array): ('festival' | 'pre-sale')[] {
  return [...(eventDay.includes(1) ? (['festival'] as const) : []), ...(presaleDay.includes(1) ? (['pre-sale'] as const) : [])];
}

/** A day's difference for the page; an unbounded side (burn-in, no variation yet) is null. */
function differenceOf(day: number, interval: AlwaysValidInterval, cumulative: number): Difference {
  const bounded = (value: number) => (Number.isFinite(value) ? value : null);
  return {
    day,
    estimate: interval.estimate,
    low: bounded(interval.low),
    high: bounded(interval.high),
    latestLow: bounded(interval.latest.low),
    latestHigh: bounded(interval.latest.high),
    drifting: interval.drifting,
    decidedDay: interval.decidedAt,
    n: interval.n,
    level: interval.level,
    cumulative,
  };
}

/** The guardrails of a preset: the policy's own, or those plus responsible-pricing limits. */
export function guardrailsOf(preset: Configuration['guardrails'], own: Guardrails, unitCost: number): Guardrails {
  if (preset === 'policy') return { ...own };
  return { ...own, maxChange: 0.1, marginFloor: unitCost > 0 ? 0.1 : 0, competitorIndex: { low: 0.8, high: 1.2 } };
}
