/**
 * The Calvano experiment's config (agents/calvano.ts) and its resolution against a scenario:
 * the schema with a description on every field (the paper's baseline as defaults), parsing
 * into a config error that lists every bad field, and the resolved config a session records,
 * with the grid settled and the n-firm stage game spelled out from the scenario's logit
 * demand, firms and ladder.
 */
import { z } from 'zod';
import { configError, type Problem } from '../core/errors.js';
import type { StageGameConfig } from '../env/stage-game.js';
import type { Scenario } from '../scenarios/schema.js';

/** Largest Q table accepted, in entries (firms x m^n states x m prices): 2^24 doubles = 128 MiB. */
const MAX_Q_ENTRIES = 2 ** 24;

const demandOverridesSchema = z
  .strictObject({
    quality: z.number().optional().describe("a_i of every firm, utility units (replaces the scenario's qualities)"),
    unitCost: z.number().nonnegative().optional().describe("c_i of every firm, currency per unit (replaces the scenario's costs)"),
    outsideUtility: z.number().optional().describe('a_0, the utility of buying nothing'),
    scale: z.number().positive().optional().describe('mu, the logit scale of every segment (horizontal differentiation)'),
    priceSensitivity: z.number().positive().optional().describe('b, utility lost per currency unit of price, every segment'),
  });

export const calvanoConfigSchema = z
  .strictObject({
    scenario: z
      .string()
      .min(1)
      .default('calvano-duopoly-v1')
      .describe('built-in scenario id or path whose logit demand, firms and price ladder define the game'),
    firms: z
      .number()
      .int()
      .min(2)
      .max(8)
      .default(2)
      .describe("number of firms n; beyond the scenario's firms, copies of its last firm are added (symmetric firms)"),
    alpha: z.number().gt(0).max(1).default(0.15).describe('learning rate alpha of the Q update (paper: 0.15)'),
    beta: z.number().nonnegative().default(4e-6).describe('exploration decay: period t explores with probability exp(-beta (t - 1)) (paper: 4e-6)'),
    delta: z.number().min(0).lt(1).default(0.95).describe('discount factor delta per period (paper: 0.95)'),
    gridSize: z
      .number()
      .int()
      .min(2)
      .max(127)
      .optional()
      .describe("prices on the grid, m (default: the scenario's equilibrium-grid count; paper: 15)"),
    extension: z
      .number()
      .nonnegative()
      .optional()
      .describe("the grid spans pN - extension (pM - pN) to pM + extension (pM - pN) (default: the scenario's; paper: 0.1)"),
    maxPeriods: z
      .number()
      .int()
      .min(1)
      .default(1e9)
      .describe('stop a session that has not converged after this many periods (paper: one billion)'),
    convergenceWindow: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe('converged when no greedy strategy changed for this many consecutive periods (paper: 100,000)'),
    demand: demandOverridesSchema.optional().describe("overrides of the scenario's demand parameters, applied to every firm and segment"),
  })
  .superRefine((config, context) => {
    const gridSize = config.gridSize ?? 15;
    const entries = config.firms * gridSize ** (config.firms + 1);
    if (entries > MAX_Q_ENTRIES) {
      const message = `expected firms x gridSize^(firms + 1) <= ${MAX_Q_ENTRIES} Q entries, found ${entries} (${config.firms} firms, ${gridSize} prices)`;
      context.addIssue({ code: 'custom', path: ['firms'], message });
    }
  });

export type CalvanoConfigInput = z.input<typeof calvanoConfigSchema>;
export type CalvanoConfig = z.output<typeof calvanoConfigSchema>;

/** The config with the grid resolved and the market spelled out: what a session records. */
export interface ResolvedCalvanoConfig {
  readonly scenario: string;
  readonly firms: number;
  readonly alpha: number;
  readonly beta: number;
  readonly delta: number;
  readonly gridSize: number;
  readonly extension: number;
  readonly maxPeriods: number;
  readonly convergenceWindow: number;
  /** The stage game every period: one entry per firm, segments, outside option. */
  readonly market: StageGameConfig;
}

/** Validates a config; throws a config PricelabError listing every bad field. */
export function parseCalvanoConfig(input: unknown): CalvanoConfig {
  const result = calvanoConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems: Problem[] = result.error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}: expected only the documented fields` : issue.message,
  }));
  throw configError(`invalid Calvano config (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
}

/**
 * Reads the game from a loaded scenario (experiments/reproduce-calvano.ts loads it by id):
 * its firms (the first n, then copies of the last: symmetric firms), segments and ladder,
 * with the config's demand overrides applied.
 */
export function resolveCalvanoConfig(config: CalvanoConfig, scenario: Scenario): ResolvedCalvanoConfig {
  if (scenario.demand.kind !== 'logit') {
    throw configError(`scenario ${scenario.id} cannot host the Calvano experiment`, [{ path: ['scenario'], message: `expected logit demand, found ${scenario.demand.kind}` }]);
  }
  const demand = scenario.demand;
  const overrides = config.demand ?? {};
  const scenarioFirms = [{ quality: demand.quality, unitCost: scenario.unitCost }, ...scenario.competitors.map((rival) => ({ quality: rival.quality, unitCost: rival.unitCost }))];
  const firms = Array.from({ length: config.firms }, (_, index) => {
    const source = scenarioFirms[Math.min(index, scenarioFirms.length - 1)] ?? { quality: demand.quality, unitCost: scenario.unitCost };
    return { quality: overrides.quality ?? source.quality, unitCost: overrides.unitCost ?? source.unitCost };
  });
  const segments = demand.segments.map((segment) => ({
    weight: segment.arrivalRate,
    priceSensitivity: overrides.priceSensitivity ?? segment.priceSensitivity,
    scale: overrides.scale ?? segment.scale,
  }));
  // The grid is rebuilt for the n-firm game, so that it spans that game's Nash and monopoly prices.
  const ladder = scenario.priceLadder.kind === 'equilibrium-grid' ? scenario.priceLadder : { count: 15, extension: 0.1 };
  const gridSize = config.gridSize ?? ladder.count;
  const entries = config.firms * gridSize ** (config.firms + 1);
  if (gridSize > 127 || entries > MAX_Q_ENTRIES) {
    throw configError(`scenario ${scenario.id}'s ladder is too large for the experiment`, [
      { path: ['gridSize'], message: `expected at most 127 prices and ${MAX_Q_ENTRIES} Q entries, found ${gridSize} prices (${entries} entries); set gridSize` },
    ]);
  }
  return {
    scenario: config.scenario,
    firms: config.firms,
    alpha: config.alpha,
    beta: config.beta,
    delta: config.delta,
    gridSize,
    extension: config.extension ?? ladder.extension,
    maxPeriods: config.maxPeriods,
    convergenceWindow: config.convergenceWindow,
    market: { firms, segments, outsideUtility: overrides.outsideUtility ?? demand.outsideUtility },
  };
}
