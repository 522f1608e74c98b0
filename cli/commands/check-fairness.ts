/**
 * `pricelab check-fairness`: the fairness gate's measurement from the command line. A coupon
 * policy spec (`none[@price]`, `coupon:<campaign>[@price]`), or a learned coupon policy (an
 * artifact folder or registry:name@version, playing greedily; the report is then about that
 * version, with the targeting it declares), plays a coupon scenario; the
 * effective price paid after coupons by segment and stage, its max/min ratio, the share of its
 * variance each sensitive attribute explains, and the features the policy targeted on are
 * printed with the gate's verdict under the bounds given. --for binds the report to a policy
 * version (its policy.json sha256; its declared targeting is the artifact's
 * training.targeting) and --out writes the evidence for `pricelab policy promote
 * --fairness-evidence`. Exit 0 within the bounds, 1 refused, 2 bad input
 * (docs/responsible-pricing.md).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readArtifact } from '../../agents/artifact.js';
import { PricelabError } from '../../core/errors.js';
import { checkFairnessOf, checkLearnedPolicyFairness, couponPolicySpecs, isCouponPolicySpec } from '../../experiments/fairness-check.js';
import { checkFairnessGate, fairnessBoundsSchema, targetingDeclarationOf, targetingDeclarationSchema } from '../../serving/fairness-gate.js';
import { registeredArtifactFor } from '../../serving/registered-artifact.js';
import { exitCodes, formatNumber, integer, positiveInteger, printJson, run, table, writeFileAtomically } from '../output.js';

interface CheckFairnessOptions {
  policy: string;
  for?: string;
  targeting?: string;
  seed: number;
  seeds: number;
  days?: number;
  minUnits?: number;
  maxRatio?: number;
  maxSensitiveShare?: number;
  out?: string;
  json?: boolean;
}

function share(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError(`expected a share from 0 to 1, found "${value}"`);
  return parsed;
}

function ratio(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 1) throw new InvalidArgumentError(`expected a ratio of at least 1, found "${value}"`);
  return parsed;
}

export function registerCheckFairness(program: Command): void {
  program
    .command('check-fairness')
    .description("the fairness gate's test: effective prices after coupons by segment and stage, their max/min ratio, sensitive attributes' share and targeted features; exit 1 when refused")
    .argument('<scenario>', 'a coupon scenario (built-in id such as targeted-coupon-v1, or a path)')
    .requiredOption('--policy <spec>', `the coupon policy played every day: ${couponPolicySpecs.join(', ')} (campaign by index from 0 or name; price one of the ladder's, default nearest the list price), or a learned coupon policy: an artifact folder or registry:name@version (checked against its recorded hash), playing greedily; its declared targeting and hash are the report's`)
    .option('--for <policy>', "the policy version the report is about (a folder or registry:name@version): recorded by its policy.json sha256, its declared targeting read from training.targeting")
    .option('--targeting <features>', 'declared targeting features, comma-separated (e.g. stage), when no --for is given (default: none)')
    .option('--seed <n>', 'first seed', integer, 1)
    .option('--seeds <n>', 'episodes, on seeds seed..seed+n-1, pooled', positiveInteger, 3)
    .option('--days <n>', "days per episode (default: the scenario's horizon)", positiveInteger)
    .option('--min-units <n>', 'groups with fewer units are left out of the dispersion', positiveInteger)
    .option('--max-ratio <x>', 'highest allowed max/min effective-price ratio across groups (default 1.25)', ratio)
    .option('--max-sensitive-share <x>', "highest allowed share of the effective price's variance a sensitive attribute explains (default 0.05)", share)
    .option('--out <file>', 'write the evidence JSON (pricelab policy promote --fairness-evidence)')
    .option('--json', 'print {"evidence": {...}, "declared": [...], "bounds": {...}, "gate": {"passed", "detail"}}')
    .action(
      run(async (scenario: string, options: CheckFairnessOptions) => {
        if (options.for !== undefined && options.targeting !== undefined) throw new PricelabError('config', '--targeting and --for both declare targeting', [{ path: ['targeting'], message: "expected one of them: --for reads the version's training.targeting" }]);
        const learned = !isCouponPolicySpec(options.policy);
        if (learned && (options.for !== undefined || options.targeting !== undefined)) {
          throw new PricelabError('config', `--${options.for !== undefined ? 'for' : 'targeting'} with a learned policy`, [
            { path: [options.for !== undefined ? 'for' : 'targeting'], message: `expected neither --for nor --targeting: ${options.policy} is the version measured, and its artifact declares its targeting` },
          ]);
        }
        let candidate: { name: string; policySha256: string } | undefined;
        let declared = targetingDeclarationSchema.parse({ features: options.targeting === undefined ? [] : options.targeting.split(',').map((feature) => feature.trim()).filter((feature) => feature !== '') });
        const version = learned ? options.policy : options.for;
        let artifact: ReturnType<typeof readArtifact> | undefined;
        if (version !== undefined) {
          const registered = await registeredArtifactFor(version);
          artifact = registered ? readArtifact(registered.folder, registered.expected) : readArtifact(version);
          const declaration = targetingDeclarationOf(artifact.manifest);
          if ('problems' in declaration) throw new PricelabError('config', `${version} declares its targeting badly`, declaration.problems.map((message) => ({ path: [learned ? 'policy' : 'for'], message })));
          declared = declaration.declaration;
          candidate = { name: artifact.manifest.name, policySha256: artifact.contentHash };
        }
        const measurement = {
          scenario,
          seeds: Array.from({ length: options.seeds }, (_, index) => options.seed + index),
          ...(options.days === undefined ? {} : { days: options.days }),
          ...(options.minUnits === undefined ? {} : { minUnits: options.minUnits }),
        };
        const evidence =
          learned && artifact
            ? await checkLearnedPolicyFairness({ ...measurement, label: options.policy, artifact })
            : checkFairnessOf({ ...measurement, policy: options.policy, ...(candidate ? { candidate } : {}) });
        const bounds = fairnessBoundsSchema.parse({ ...(options.maxRatio === undefined ? {} : { maxEffectivePriceRatio: options.maxRatio }), ...(options.maxSensitiveShare === undefined ? {} : { maxSensitiveShare: options.maxSensitiveShare }) });
        const gate = checkFairnessGate({ declaration: declared, evidence: { source: options.out ?? 'the measurement', report: evidence.report, targetedFeatures: evidence.targetedFeatures }, bounds });
        if (options.out) writeFileAtomically(options.out, `${JSON.stringify(evidence, null, 2)}\n`);
        if (options.json) printJson({ evidence, declared: declared.features, bounds, gate });
        else {
          const { report } = evidence;
          const rows = [['group', 'units', 'effective price'], ...report.byGroup.map((group) => [group.label, formatNumber(group.units, 0), formatNumber(group.effectivePrice)])];
          const lines = [
            `${learned ? `${candidate?.name ?? evidence.candidate.spec} (${options.policy}, ${candidate?.policySha256.slice(0, 12) ?? ''}…, greedy)` : `${evidence.candidate.spec}${candidate ? ` for ${candidate.name} (${candidate.policySha256.slice(0, 12)}…)` : ''}`} on ${evidence.scenario.id}: ${evidence.seeds.length} episode(s) of ${evidence.days} days; days per campaign ${Object.entries(evidence.campaignDays).map(([name, days]) => `${name}: ${days}`).join(', ')}`,
            table(rows),
            `max/min ratio ${report.dispersion.maxMinRatio.toFixed(3)} (${report.dispersion.highest ?? '-'} over ${report.dispersion.lowest ?? '-'}); coefficient of variation ${report.dispersion.coefficientOfVariation.toFixed(3)}`,
            ...report.sensitive.map((entry) => `${entry.attribute} explains ${(entry.etaSquared * 100).toFixed(1)}% of the effective price's variance (eta^2)`),
            `targets on ${evidence.targetedFeatures.length > 0 ? evidence.targetedFeatures.join(', ') : 'nothing'}; declared ${declared.features.length > 0 ? declared.features.join(', ') : 'nothing'}`,
            `${gate.passed ? 'PASS' : 'REFUSED'} fairness: ${gate.detail}`,
            ...(options.out ? [`wrote ${options.out}`] : []),
            'an aid, not legal advice',
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        return gate.passed ? exitCodes.ok : exitCodes.failed;
      }),
    );
}
