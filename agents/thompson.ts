/**
 * Thompson sampling with Gaussian rewards over the price ladder: a bandit whose arms are
 * the ladder's prices and whose reward for an arm is the step's reward (profit) at that
 * price. Each step it draws a plausible mean reward for every arm from that arm's posterior
 * and plays the arm with the highest draw. The market state is ignored.
 *
 * Model: rewards of arm i are Normal(mu_i, 1/tau_i) with mean AND precision unknown, so the
 * posterior is Normal-Gamma (conjugate; Murphy 2007), one per arm:
 *   prior  tau ~ Gamma(a0, rate b0),  mu | tau ~ Normal(m0, 1/(k0 tau))
 *   after n rewards with mean x and squared deviations S = sum (r - x)^2:
 *     kn = k0 + n,  mn = (k0 m0 + n x) / kn,  an = a0 + n/2,
 *     bn = b0 + S/2 + k0 n (x - m0)^2 / (2 kn).
 * A draw: tau ~ Gamma(an, rate bn) (Marsaglia & Tsang 2000), then mu ~ Normal(mn, 1/(kn tau))
 * (Box-Muller); if bn = 0 (identical rewards, no prior spread) the draw is mn. The marginal of
 * mu is Student-t with 2 an degrees of freedom: wide while an arm has few rewards.
 * Profits have no natural scale, so the default prior is the non-informative limit
 * (k0 = a0 = b0 = 0, any m0): the posterior is the data's, and each arm is first played
 * `minimumObservations` times (2: the variance needs two rewards). Set a proper prior
 * (k0, a0, b0 > 0) if you know the reward scale; the prior matters for Gaussian Thompson
 * sampling with unknown variance (Honda & Takemura 2014).
 *
 * Acting while training (explore: true): arms below minimumObservations plays (within the
 * window for sliding-window, else since the start) are played first, lowest index first;
 * then one posterior draw per arm, highest draw wins (ties: lowest index). Draws use the
 * 'exploration' stream of the context's seed (a variable number of uniforms per step).
 * Acting greedily (explore: false): the best mean reward in memory, no draw.
 *
 * Non-stationary markets (nonStationary): the posterior is computed from the windowed or
 * discounted statistics (n, x, S become effective values), as in sliding-window and
 * discounted Thompson sampling: an arm not played for a while regains posterior width.
 *
 * Parameters (defaults in brackets):
 *   prior.mean m0 [0], prior.count k0 [0], prior.shape a0 [0], prior.rate b0 [0]
 *   minimumObservations [2]   plays of each arm before sampling.
 *   nonStationary [none]      none, sliding-window {window} or discounted {gamma}.
 * Weights: bandit.json holds the arm statistics (JSON); a restored agent restarts its stream.
 *
 * Sources: W. R. Thompson, Biometrika 25 (1933) 285-294; D. Russo et al., A Tutorial on
 * Thompson Sampling, Foundations and Trends in ML 11 (2018); K. P. Murphy, Conjugate Bayesian
 * analysis of the Gaussian distribution (2007); J. Honda, A. Takemura, Optimality of Thompson
 * sampling for Gaussian bandits depends on priors, AISTATS 2014; G. Marsaglia, W. W. Tsang, A
 * simple method for generating gamma variables, ACM TOMS 26 (2000) 363-372; A. Garivier,
 * E. Moulines, ALT 2011 (sliding window and discounting).
 */
import { z } from 'zod';
import { RandomStream } from '../core/random.js';
import { normalFromUniforms } from '../env/sampling.js';
import type { AgentContext } from './agent.js';
import { ArmBandit, armBanditDefinition } from './arm-bandit.js';
import { type ArmStatistics, nonStationarySchema } from './bandit-statistics.js';

const kind = 'thompson';

const priorSchema = z
  .strictObject({
    mean: z.number().default(0).describe('m0: prior mean reward of every arm'),
    count: z.number().min(0).default(0).describe('k0: how many rewards the prior mean is worth (0: none)'),
    shape: z.number().min(0).default(0).describe('a0: Gamma shape of the precision prior (0: non-informative)'),
    rate: z.number().min(0).default(0).describe('b0: Gamma rate of the precision prior, in squared reward units (b0/a0 is a prior variance guess)'),
  })
  .default({ mean: 0, count: 0, shape: 0, rate: 0 })
  .describe('Normal-Gamma prior per arm; the default (all 0) is the non-informative limit');

export const thompsonConfigSchema = z
  .strictObject({
    prior: priorSchema,
    minimumObservations: z.number().int().min(0).max(1000).default(2).describe('plays of each arm (in the window, for sliding-window) before its posterior is sampled'),
    nonStationary: nonStationarySchema,
  })
  // Runs even when other fields are invalid (every problem listed at once), so it guards what it reads.
  .superRefine(
    (config, context) => {
      const { prior, minimumObservations } = config as { prior: { rate?: unknown } | undefined; minimumObservations: unknown };
      if (prior?.rate === 0 && typeof minimumObservations === 'number' && minimumObservations < 2) {
        context.addIssue({
          code: 'custom',
          path: ['minimumObservations'],
          message: `expected at least 2 when prior.rate is 0 (the reward variance needs two rewards), found ${minimumObservations}`,
        });
      }
    },
    { when: () => true },
  );

export type ThompsonConfig = z.output<typeof thompsonConfigSchema>;

/** Observe, explain, export and checkpoints (the arm statistics and the exploration stream): agents/arm-bandit.ts. */
export class ThompsonAgent extends ArmBandit<ThompsonConfig, RandomStream> {
  constructor(config: ThompsonConfig, context: AgentContext, statistics?: ArmStatistics) {
    super(kind, config, context, statistics, new RandomStream(context.seed, 'exploration'));
  }

  protected exploringArm(): number {
    const statistics = this.statistics;
    const { count: k0, shape: a0 } = this.config.prior;
    for (let arm = 0; arm < statistics.arms; arm++) {
      const count = statistics.count(arm);
      // Too few plays, or a posterior that is not proper yet (an arm whose discounted count underflowed).
      if (statistics.plays(arm) < this.config.minimumObservations || !(k0 + count > 0) || !(a0 + count / 2 > 0)) return arm;
    }
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let arm = 0; arm < statistics.arms; arm++) {
      const value = this.sampleMean(arm);
      if (value > bestValue) {
        best = arm;
        bestValue = value;
      }
    }
    return best;
  }

  /** The Normal-Gamma posterior of an arm's mean reward: kn, mn, an, bn. */
  posterior(arm: number): { count: number; mean: number; shape: number; rate: number } {
    const { mean: m0, count: k0, shape: a0, rate: b0 } = this.config.prior;
    const n = this.statistics.count(arm);
    const x = n > 0 ? this.statistics.mean(arm) : 0;
    const kn = k0 + n;
    return {
      count: kn,
      mean: kn > 0 ? (k0 * m0 + n * x) / kn : m0,
      shape: a0 + n / 2,
      rate: b0 + this.statistics.squaredDeviations(arm) / 2 + (kn > 0 ? (k0 * n * (x - m0) * (x - m0)) / (2 * kn) : 0),
    };
  }

  private sampleMean(arm: number): number {
    const posterior = this.posterior(arm);
    if (!(posterior.rate > 0)) return posterior.mean;
    const precision = gammaSample(posterior.shape, this.random) / posterior.rate;
    if (!(precision > 0)) return posterior.mean + (this.normal() >= 0 ? Number.MAX_VALUE : -Number.MAX_VALUE);
    return posterior.mean + this.normal() / Math.sqrt(posterior.count * precision);
  }

  private normal(): number {
    return normalFromUniforms(this.random.next(), this.random.next());
  }
}

/**
 * Gamma(shape, rate 1) by Marsaglia & Tsang (2000); shape < 1 by their boost
 * Gamma(shape) = Gamma(shape + 1) U^(1/shape).
 */
export function gammaSample(shape: number, random: RandomStream): number {
  if (shape < 1) {
    const boost = Math.pow(1 - random.next(), 1 / shape);
    return gammaSample(shape + 1, random) * boost;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normalFromUniforms(random.next(), random.next());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export const thompsonDefinition = armBanditDefinition({
  kind,
  description: 'Gaussian Thompson sampling over the price ladder (Normal-Gamma posterior per arm; optional sliding window or discounting)',
  configSchema: thompsonConfigSchema,
  create: (config, context, statistics) => new ThompsonAgent(config, context, statistics),
});
