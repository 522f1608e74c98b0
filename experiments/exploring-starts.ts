/**
 * Exploring starts (Sutton & Barto's Monte Carlo ES, for a finite horizon), as a training
 * callback: a share of episodes hands over to learning only on a late day, drawn uniformly
 * from the last `lastDays` days of the horizon. The days before (the lead-in) are priced by the
 * agent's greedy policy or one random ladder price and not observed, so they cost environment
 * steps but no budget. Gives the learner the end-of-horizon data (clearance before the salvage,
 * the last reorders) that full episodes hold in a sliver.
 *
 * Hooks: onTrainingStart validates the windows; onEpisodeStart draws the market's hand-over day,
 * lead-in price and first action from the callback's own stream; onStepStart marks markets in
 * their lead-in as not learning; onActions prices their lead-in (a greedy `actBatch`, explore
 * off, run only while some market has a greedy lead-in) and, with firstAction 'uniform', the
 * hand-over day. The loop counts late episodes apart from whole ones; the callback counts them
 * and the lead-in days.
 */
import type { Agent } from '../agents/agent.js';
import { configError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { EpisodeEnd, TrainingCallback, TrainingLoop } from './training-callback.js';

export interface ExploringStarts {
  /**
   * Late-start windows: with probability `share`, an episode hands over to learning on a day
   * drawn uniformly from the horizon's last `lastDays` days. Shares add up to at most 1; the
   * other episodes are learned from their first day. A window's own `leadIn` overrides the one below
   * for its episodes (e.g. random-price lead-ins for hand-overs over the whole year, to show every
   * price level, and greedy ones for the last days, to reach the end in the states the policy reaches).
   */
  windows: readonly { share: number; lastDays: number; leadIn?: 'greedy' | 'random-price' }[];
  /**
   * Who prices the lead-in days: 'greedy' (default), the agent's greedy policy; 'random-price', one
   * ladder price drawn uniformly per episode and held, so hand-overs happen in settled markets at
   * every price level (the steady states a learner stuck at one level never sees).
   */
  leadIn?: 'greedy' | 'random-price';
  /**
   * The hand-over day's action: 'policy' (default), the agent's own exploring choice; 'uniform', a
   * ladder price drawn uniformly (exploring starts in state and action, as Monte Carlo ES has
   * them), so every price is tried in the late states however greedy the agent has become.
   */
  firstAction?: 'policy' | 'uniform';
  /** Seed of the callback's own stream: which episodes start late, on which day, the lead-in price and the first action. */
  seed: number;
}

export class ExploringStartsCallback implements TrainingCallback {
  /** Episodes that handed over to learning after day 0. */
  lateStartEpisodes = 0;
  /** Environment steps of the lead-ins, not learned from. */
  leadInSteps = 0;
  private readonly starts: ExploringStarts;
  private readonly stream: RandomStream;
  private horizon = 0;
  private prices = 0;
  private firstLearningDay = new Int32Array(0);
  private greedyLeadIn = new Uint8Array(0);
  private leadInPrice = new Int32Array(0);
  private firstActionOf = new Int32Array(0);
  private greedyActions = new Int32Array(0);
  private greedyLeadIns = 0;
  private leadIns = 0;

  constructor(starts: ExploringStarts) {
    this.starts = starts;
    this.stream = new RandomStream(starts.seed, 'exploring-starts');
  }

  onTrainingStart(loop: TrainingLoop): void {
    const horizon = loop.markets.model.horizon;
    const problems = this.starts.windows.flatMap((window, index) => [
      ...(window.share >= 0 && window.share <= 1 ? [] : [{ path: ['exploringStarts', 'windows', index, 'share'], message: `expected a share from 0 to 1, found ${window.share}` }]),
      ...(Number.isInteger(window.lastDays) && window.lastDays >= 1 && window.lastDays <= horizon
        ? []
        : [{ path: ['exploringStarts', 'windows', index, 'lastDays'], message: `expected a whole number of days from 1 to the horizon (${horizon}), found ${window.lastDays}` }]),
    ]);
    const totalShare = this.starts.windows.reduce((total, window) => total + window.share, 0);
    if (totalShare > 1 + 1e-9) problems.push({ path: ['exploringStarts', 'windows'], message: `expected shares adding up to at most 1, found ${totalShare}` });
    if (!Number.isFinite(horizon)) problems.push({ path: ['exploringStarts'], message: 'expected markets with a finite horizon (hand-over days count back from it), found none' });
    if (problems.length > 0) throw configError('bad exploring starts', problems);
    const count = loop.markets.count;
    this.horizon = horizon;
    this.prices = loop.markets.actionSpace.n;
    this.firstLearningDay = new Int32Array(count);
    this.greedyLeadIn = new Uint8Array(count);
    this.leadInPrice = new Int32Array(count);
    this.firstActionOf = new Int32Array(count);
    this.greedyActions = new Int32Array(count);
  }

  /** Draws the market's hand-over day (0: learned from the start), its lead-in's pricing and price, and its first action. */
  onEpisodeStart(_loop: TrainingLoop, market: number): void {
    const stream = this.stream;
    this.firstLearningDay[market] = 0;
    this.greedyLeadIn[market] = 0;
    let pick = stream.next();
    const position = stream.next();
    for (const window of this.starts.windows) {
      if (pick < window.share) {
        this.firstLearningDay[market] = this.horizon - 1 - Math.floor(position * window.lastDays);
        this.greedyLeadIn[market] = (window.leadIn ?? this.starts.leadIn ?? 'greedy') === 'greedy' ? 1 : 0;
        break;
      }
      pick -= window.share;
    }
    this.leadInPrice[market] = Math.floor(stream.next() * this.prices);
    this.firstActionOf[market] = Math.floor(stream.next() * this.prices);
  }

  onStepStart(loop: TrainingLoop): void {
    let greedyLeadIns = 0;
    let leadIns = 0;
    for (let market = 0; market < loop.markets.count; market++) {
      const inLeadIn = (loop.day[market] ?? 0) < (this.firstLearningDay[market] ?? 0);
      loop.learning[market] = inLeadIn ? 0 : 1;
      if (inLeadIn) {
        leadIns++;
        greedyLeadIns += this.greedyLeadIn[market]!;
      }
    }
    this.greedyLeadIns = greedyLeadIns;
    this.leadIns = leadIns;
    this.leadInSteps += leadIns;
  }

  onActions(loop: TrainingLoop, actions: Int32Array): void {
    const count = loop.markets.count;
    if (this.greedyLeadIns > 0) greedyActionsOf(loop.agent, loop.observations, count, loop.markets.featureCount, this.greedyActions);
    if (this.leadIns > 0) {
      for (let market = 0; market < count; market++) {
        if (loop.learning[market] === 0) actions[market] = this.greedyLeadIn[market] === 1 ? (this.greedyActions[market] ?? 0) : (this.leadInPrice[market] ?? 0);
      }
    }
    if (this.starts.firstAction === 'uniform') {
      for (let market = 0; market < count; market++) {
        const handOver = this.firstLearningDay[market] ?? 0;
        if (handOver > 0 && loop.day[market] === handOver) actions[market] = this.firstActionOf[market] ?? 0;
      }
    }
  }

  onEpisodeEnd(_loop: TrainingLoop, _market: number, episode: EpisodeEnd): void {
    if (!episode.whole && !episode.cut) this.lateStartEpisodes++;
  }
}

/** The agent's greedy actions for every market: one batched call when it has one. */
function greedyActionsOf(agent: Agent, observations: Float32Array, count: number, features: number, out: Int32Array): void {
  if (agent.actBatch) agent.actBatch(observations, count, { explore: false }, out);
  else for (let market = 0; market < count; market++) out[market] = agent.act(observations.subarray(market * features, (market + 1) * features), { explore: false });
}
