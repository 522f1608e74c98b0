/**
 * `pricelab check-collusion`: the collusion gate's measurement from the command line. A
 * candidate (a rule, the Calvano learners' firm 0, a policy folder or registry:name@version)
 * plays a rival that learns against it in a duopoly with Nash and monopoly benchmarks; the
 * profit-gain index, the candidate's price over its best reply, and the impulse response to
 * the rival's one-period cut are printed, and the gate's verdict. --out writes the evidence
 * for `pricelab policy promote --collusion-evidence`. Exit 0 passed, 1 refused, 2 bad input
 * (docs/responsible-pricing.md).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readArtifact } from '../../agents/artifact.js';
import { checkCollusionOf, collusionRivals, type CollusionRival } from '../../experiments/collusion-check.js';
import { checkCollusionGate, collusionGateSchema } from '../../serving/collusion-gate.js';
import { registeredArtifactFor } from '../../serving/registered-artifact.js';
import { exitCodes, integer, printJson, run, writeFileAtomically } from '../output.js';

interface CheckCollusionOptions {
  scenario: string;
  rival: CollusionRival;
  seed: number;
  beta?: number;
  minProfitGain?: number;
  out?: string;
  json?: boolean;
}

const ruleCandidates = /^(fixed:.*|best-response|calvano)$/;

function nonNegative(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError(`expected a number of at least 0, found "${value}"`);
  return parsed;
}

function rivalKind(value: string): CollusionRival {
  if (!(collusionRivals as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${collusionRivals.join(', ')}, found "${value}"`);
  return value as CollusionRival;
}

export function registerCheckCollusion(program: Command): void {
  program
    .command('check-collusion')
    .description("the collusion gate's test: profit-gain index and the impulse response to a rival's price cut, facing a rival that learns against the policy; exit 1 when refused")
    .argument('<policy>', 'fixed:<price>, best-response, calvano (the Calvano learners\' firm 0), a policy folder or registry:name@version')
    .option('--scenario <id>', 'a duopoly with Nash and monopoly benchmarks (built-in id or path)', 'calvano-duopoly-v1')
    .option('--rival <kind>', `learning: a Q-learner trained against the policy; calvano: the co-learner (policy calvano only)`, rivalKind, 'learning')
    .option('--seed <n>', 'seed of the learners', integer, 1)
    .option('--beta <x>', "the learners' exploration decay per period (default 2e-5; the paper's 4e-6)", nonNegative)
    .option('--min-profit-gain <x>', 'the gate refuses the signature from this profit-gain index on (default 0.1)', Number)
    .option('--out <file>', 'write the evidence JSON (pricelab policy promote --collusion-evidence)')
    .option('--json', 'print {"evidence": {...}, "rival": {...}, "gate": {"passed", "detail"}}')
    .action(
      run(async (policy: string, options: CheckCollusionOptions) => {
        let candidate: Parameters<typeof checkCollusionOf>[0]['candidate'] = policy;
        // A spec-like name (kind:value) that is no rule and no registry reference is refused as an unknown candidate.
        const specLike = /^[a-z-]+:/.test(policy) && !policy.startsWith('registry:');
        if (!ruleCandidates.test(policy) && !specLike) {
          const registered = await registeredArtifactFor(policy);
          candidate = registered ? readArtifact(registered.folder, registered.expected) : readArtifact(policy);
        }
        const checked = await checkCollusionOf({ scenario: options.scenario, candidate, rival: options.rival, seed: options.seed, ...(options.beta === undefined ? {} : { beta: options.beta }) });
        const settings = collusionGateSchema.parse(options.minProfitGain === undefined ? {} : { minProfitGain: options.minProfitGain });
        const source = options.out ?? 'the measurement';
        const gate = checkCollusionGate({ source, json: JSON.parse(JSON.stringify(checked.evidence)) as unknown }, settings, checked.evidence.candidate.policySha256);
        if (options.out) writeFileAtomically(options.out, `${JSON.stringify(checked.evidence, null, 2)}\n`);
        if (options.json) printJson({ evidence: checked.evidence, rival: checked.rival, gate });
        else {
          const { evidence } = checked;
          const signed = (value: number) => `${value >= -5e-4 ? '+' : '-'}${Math.abs(value).toFixed(3)}`;
          const lines = [
            `${evidence.candidate.name} facing ${evidence.rivals.join(', ')} on ${evidence.scenario.id} (rival ${checked.rival.converged ? 'converged' : 'not converged'} after ${checked.rival.periods} periods)`,
            `profit-gain index ${evidence.profitGain.mean.toFixed(3)} (0 Nash, 1 monopoly); candidate ${signed(evidence.excessOverBestReply)} over its best reply on the cycle`,
            `impulse response (period: candidate/rival): ${evidence.impulseResponse.prices.map((prices, period) => `${period}: ${prices.map((price) => price.toFixed(3)).join('/')}`).join(', ')}`,
            `${gate.passed ? 'PASS' : 'REFUSED'} collusion: ${gate.detail}`,
            ...(options.out ? [`wrote ${options.out}`] : []),
            'an aid, not legal advice',
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        return gate.passed ? exitCodes.ok : exitCodes.failed;
      }),
    );
}
