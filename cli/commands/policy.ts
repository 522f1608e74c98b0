/**
 * `pricelab policy register|list|show|promote|rollback|audit|alias remove|retire` and
 * `pricelab token create`:
 * the registry from a terminal or a deployment pipeline. Every subcommand has --json;
 * exit codes: 0 done, 1 a promotion gate refused, 2 bad input, 3 not found, 4 integrity.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { PricelabError } from '../../core/errors.js';
import { resultsHome } from '../../experiments/store.js';
import { readJsonFile } from '../../core/json-file.js';
import { createToken, defaultTokenFile } from '../../serving/auth.js';
import { gatesFor, parsePromotionPolicy, promote, readEvidenceFiles } from '../../serving/promotion.js';
import { loadServingConfig } from '../../serving/serving-config.js';
import { aliasNames, parsePolicyReference, usingPolicyRegistry, type AliasName, type PolicyRegistryBackend } from '../../serving/registry.js';
import { storeLocation } from '../../core/store-url.js';
import { exitCodes, printJson, run, table } from '../output.js';

/** How each gate's status is printed (SKIPPED: an earlier gate it reads from failed). */
const gateLabels = { passed: 'pass   ', failed: 'FAIL   ', skipped: 'SKIPPED' } as const;

/** The registry PRICELAB_STORE names (PostgreSQL), else the SQLite file of PRICELAB_HOME. */
const withRegistry = <T>(action: (registry: PolicyRegistryBackend) => T | Promise<T>, options: { verify?: boolean } = {}): Promise<T> => usingPolicyRegistry(storeLocation(), action, options);


export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('the policy registry: versions, aliases (candidate, staging, production), promotion gates, audit log (PRICELAB_HOME)');

  policy
    .command('register <folder>')
    .description('verify a policy artifact and store it as the next version of its name')
    .option('--name <name>', 'policy name (default: the name in policy.json)')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--actor <who>', 'who registers (default: the OS user)')
    .option('--training-run <id>', 'lineage: the training run it came from')
    .option('--comparison <id>', 'lineage: the comparison that supports it')
    .option('--json', 'print the version as JSON')
    .action(
      run((folder: string, options: { name?: string; reason: string; actor?: string; trainingRun?: string; comparison?: string; json?: boolean }) =>
        withRegistry(async (registry) => {
          const { version, created } = await registry.register(folder, { name: options.name, reason: options.reason, actor: options.actor, lineage: { trainingRun: options.trainingRun, comparison: options.comparison } });
          if (options.json) printJson({ created, version });
          else process.stdout.write(`${created ? 'registered' : 'already registered as'} ${version.name}@${version.version} (sha256 ${version.contentHash.slice(0, 12)}…, ${version.agentKind}, trained on ${version.lineage.scenario.id})\n`);
        }),
      ),
    );

  policy
    .command('list')
    .description('registered policies with their version counts and aliases')
    .option('--json', 'print JSON')
    .action(
      run((options: { json?: boolean }) =>
        withRegistry(async (registry) => {
          const policies = await registry.list();
          if (options.json) printJson({ policies });
          else if (policies.length === 0) process.stdout.write('no policies registered (pricelab policy register <folder>)\n');
          else process.stdout.write(`${table([['policy', 'versions', ...aliasNames], ...policies.map((entry) => [entry.retired ? `${entry.name} (retired)` : entry.name, String(entry.versions), ...aliasNames.map((alias) => (entry.aliases[alias] === undefined ? '-' : `v${entry.aliases[alias]}`))])])}\n`);
        }),
      ),
    );

  policy
    .command('show <policy>')
    .description('a policy (name, name@version or name@alias): its versions, aliases and lineage')
    .option('--json', 'print JSON')
    .action(
      run((reference: string, options: { json?: boolean }) =>
        withRegistry(async (registry) => {
          const parsed = parsePolicyReference(reference);
          const versions = parsed.version !== undefined || parsed.alias !== undefined ? [await registry.resolve(reference)] : await registry.versions(parsed.name);
          if (versions.length === 0) throw new PricelabError('not-found', `no policy named "${parsed.name}" is registered`);
          const aliases = await registry.aliases(parsed.name);
          const retired = (await registry.retirement(parsed.name)) ?? null;
          if (options.json) printJson({ name: parsed.name, aliases, retired, versions });
          else {
            if (retired) process.stdout.write(`${parsed.name} is retired (${retired.at} by ${retired.actor}: ${retired.reason})\n`);
            const aliasOf = (version: number) => Object.entries(aliases).filter(([, target]) => target === version).map(([alias]) => alias).join(', ');
            process.stdout.write(`${table([['version', 'kind', 'sha256', 'scenario', 'registered', 'by', 'aliases'], ...versions.map((version) => [`v${version.version}`, version.agentKind, version.contentHash.slice(0, 12), version.lineage.scenario.id, version.registeredAt, version.registeredBy, aliasOf(version.version) || '-'])])}\n`);
          }
        }),
      ),
    );

  policy
    .command('promote <policy>')
    .description('move an alias to name@version; to production only through the promotion gates (exit 1 names the gate that refused); a move to the version the alias already points at is a no-op (exit 0, not audited)')
    .addOption(new Option('--to <alias>', 'the alias to move').choices([...aliasNames]).makeOptionMandatory())
    .option('--evidence <file...>', 'comparison summaries (pricelab compare --json, recorded in the results store) supporting a production promotion')
    .option('--gates <file>', 'promotion gates JSON (primaryKpi, alpha, scenarios, baseline, guardrailMargins, collusion, fairness; docs/serving.md); default: the gates stored for the name (policy gates set), else scenarios/gates/default.json')
    .option('--serving-config <file>', 'the serving configuration (pricelab serve --config): the evidence must have been evaluated under its guardrails for this policy (default: the artifact\'s own min/max, as serving applies them)')
    .option('--collusion-evidence <file>', 'the policy measured facing a learning rival (pricelab check-collusion --out), for gates that set "collusion"')
    .option('--fairness-evidence <file>', 'the policy\'s fairness report (pricelab check-fairness --for <this version> --out), for gates that set "fairness"; its declared targeting is read from policy.json training.targeting')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--actor <who>', 'who promotes (default: the OS user)')
    .option('--json', 'print the outcome with every gate as JSON')
    .action(
      run((reference: string, options: { to: AliasName; evidence?: string[]; gates?: string; servingConfig?: string; collusionEvidence?: string; fairnessEvidence?: string; reason: string; actor?: string; json?: boolean }) =>
        withRegistry(async (registry) => {
          const parsed = parsePolicyReference(reference);
          const version = parsed.version ?? (parsed.alias ? (await registry.version(parsed.name, parsed.alias)).version : undefined);
          if (version === undefined) throw new PricelabError('config', `which version of "${parsed.name}" to promote?`, [{ path: ['policy'], message: `expected name@version or name@alias, found "${reference}" (no version)` }]);
          const outcome = await promote(registry, {
            name: parsed.name,
            version,
            to: options.to,
            reason: options.reason,
            actor: options.actor,
            evidence: readEvidenceFiles(options.evidence ?? []),
            policy: options.gates ? readJsonFile(options.gates, 'promotion policy') : undefined,
            policySource: options.gates,
            servingConfig: options.servingConfig ? loadServingConfig(options.servingConfig) : undefined,
            collusionEvidence: options.collusionEvidence ? { source: options.collusionEvidence, json: readJsonFile(options.collusionEvidence, 'collusion evidence') } : undefined,
            fairnessEvidence: options.fairnessEvidence ? { source: options.fairnessEvidence, json: readJsonFile(options.fairnessEvidence, 'fairness evidence') } : undefined,
          });
          if (options.json) printJson(outcome);
          else {
            if (outcome.gatesSource !== null) process.stdout.write(`gates from ${outcome.gatesSource}\n`);
            for (const gate of outcome.decision?.gates ?? []) process.stdout.write(`${gateLabels[gate.status]}  ${gate.gate}: ${gate.detail}\n`);
            if (outcome.noop) process.stdout.write(`${parsed.name}@${options.to} is already v${version}: nothing to do (no change, no audit entry)\n`);
            else if (outcome.promoted) process.stdout.write(`${parsed.name}@${options.to}: ${outcome.from === null ? 'none' : `v${outcome.from}`} -> v${outcome.to}\n`);
          }
          if (!outcome.promoted && !outcome.noop) {
            const failed = outcome.decision?.gates.find((gate) => gate.status === 'failed');
            process.stderr.write(`error: promotion refused by the ${failed?.gate} gate: ${failed?.detail}\n`);
            return exitCodes.failed;
          }
          return exitCodes.ok;
        }),
      ),
    );

  const gates = policy.command('gates').description('the promotion gates stored for a policy name, used by promotions to production that give no --gates');
  gates
    .command('set <name> <file>')
    .description('validate a promotion gates file and store it for the name (audited)')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--actor <who>', 'who sets them (default: the OS user)')
    .option('--json', 'print the stored gates as JSON')
    .action(
      run((name: string, file: string, options: { reason: string; actor?: string; json?: boolean }) =>
        withRegistry(async (registry) => {
          const json = readJsonFile(file, 'promotion policy');
          const validated = parsePromotionPolicy(json, file);
          await registry.setGates(name, json, { reason: options.reason, actor: options.actor });
          if (options.json) printJson({ name, gates: json, effective: validated });
          else process.stdout.write(`stored the promotion gates of ${name} from ${file}: ${JSON.stringify(validated)}\n`);
        }),
      ),
    );
  gates
    .command('show <name>')
    .description('the promotion gates a production promotion of the name uses when no --gates is given, and where they come from')
    .option('--json', 'print JSON')
    .action(
      run((name: string, options: { json?: boolean }) =>
        withRegistry(async (registry) => {
          const policyName = parsePolicyReference(name).name;
          // A name the registry has never heard of is a typo more often than a plan: say so (exit 3).
          if ((await registry.versions(policyName)).length === 0 && (await registry.gates(policyName)) === undefined) {
            throw new PricelabError('not-found', `no policy named "${policyName}" is registered and no gates are stored for it`, [{ path: ['name'], message: `expected a registered policy name or one given gates (policy gates set), found "${policyName}"; registered: ${(await registry.list()).map((entry) => entry.name).join(', ') || 'none'}` }]);
          }
          const { policy: effective, source } = await gatesFor(registry, policyName);
          if (options.json) printJson({ name, source, gates: effective });
          else process.stdout.write(`${name}: gates from ${source}\n${JSON.stringify(effective, null, 2)}\n`);
        }),
      ),
    );

  policy
    .command('rollback <name>')
    .description('move an alias back to the version it pointed at before its last move')
    .addOption(new Option('--alias <alias>', 'the alias to roll back').choices([...aliasNames]).default('production'))
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--actor <who>', 'who rolls back (default: the OS user)')
    .option('--json', 'print JSON')
    .action(
      run((name: string, options: { alias: AliasName; reason: string; actor?: string; json?: boolean }) =>
        withRegistry(async (registry) => {
          const moved = await registry.rollback(name, options.alias, { reason: options.reason, actor: options.actor });
          if (options.json) printJson({ name, alias: options.alias, ...moved });
          else process.stdout.write(`${name}@${options.alias}: v${moved.from} -> v${moved.to}\n`);
        }),
      ),
    );

  policy
    .command('audit [name]')
    .description('the append-only audit log: who changed what, when and why (a hash chain; --verify checks it)')
    .option('--verify', 'check the hash chain and that versions, aliases, retirements and gates match the log (exit 4 naming the first broken entry)')
    .option('--json', 'print JSON')
    .action(
      run((name: string | undefined, options: { verify?: boolean; json?: boolean }) =>
        withRegistry(
          async (registry) => {
            if (options.verify) {
              const verification = await registry.verifyAudit();
              if (!verification.ok) {
                const where = verification.firstBroken === null ? 'the registry does not match its audit log' : `the hash chain is broken at entry #${verification.firstBroken}`;
                throw new PricelabError('integrity', `audit log check failed: ${where} (${verification.problems.length} problem${verification.problems.length === 1 ? '' : 's'})`, verification.problems);
              }
              if (options.json) {
                printJson(verification);
                return;
              }
              // Then the log itself, as without --verify: who moved what, when and why.
              process.stdout.write(`audit log verified: ${verification.entries} entries, hash chain intact, versions, aliases, retirements and gates match the log\n\n`);
            }
            const entries = await registry.auditLog(name);
            if (options.json) printJson({ entries });
            else process.stdout.write(`${table([['#', 'at', 'actor', 'action', 'policy', 'alias', 'reason'], ...entries.map((entry) => [String(entry.id), entry.at, entry.actor, entry.action, `${entry.name}${entry.version === null ? '' : `@${entry.version}`}`, entry.alias ?? '-', entry.reason])])}\n`);
          },
          { verify: !options.verify },
        ),
      ),
    );

  policy
    .command('alias')
    .description('aliases beyond promotion: remove one')
    .command('remove <name> <alias>')
    .description('remove an alias from a policy (audited); the version it pointed at stays registered')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--actor <who>', 'who removes it (default: the OS user)')
    .option('--json', 'print JSON')
    .action(
      run((name: string, alias: string, options: { reason: string; actor?: string; json?: boolean }) =>
        withRegistry(async (registry) => {
          if (!(aliasNames as readonly string[]).includes(alias)) throw new PricelabError('config', `unknown alias "${alias}"`, [{ path: ['alias'], message: `expected one of ${aliasNames.join(', ')}, found "${alias}"` }]);
          const { removed } = await registry.removeAlias(name, alias as AliasName, { reason: options.reason, actor: options.actor });
          if (options.json) printJson({ name, alias, removed });
          else process.stdout.write(`${name}@${alias} removed (it pointed at v${removed})\n`);
        }),
      ),
    );

  policy
    .command('retire <name>')
    .description('retire a policy for good (audited): every alias removed; it can no longer be promoted, registered or served; its versions stay for the audit')
    .requiredOption('--reason <text>', 'why (kept in the audit log)')
    .option('--actor <who>', 'who retires it (default: the OS user)')
    .option('--json', 'print JSON')
    .action(
      run((name: string, options: { reason: string; actor?: string; json?: boolean }) =>
        withRegistry(async (registry) => {
          const { removedAliases } = await registry.retire(name, { reason: options.reason, actor: options.actor });
          if (options.json) printJson({ name, retired: true, removedAliases });
          else process.stdout.write(`${name} retired; aliases removed: ${Object.keys(removedAliases).length === 0 ? 'none' : Object.entries(removedAliases).map(([alias, version]) => `${alias} (v${version})`).join(', ')}\n`);
        }),
      ),
    );

  program
    .command('token')
    .description('bearer tokens for the endpoint\'s mutating routes (only their sha256 is stored)')
    .command('create <name>')
    .description('create a token, store its hash in the token file, print the token once')
    .option('--file <path>', 'token file (default: PRICELAB_HOME/tokens)')
    .action(
      run((name: string, options: { file?: string }) => {
        const file = options.file ?? defaultTokenFile(resultsHome());
        const token = createToken(file, name);
        process.stdout.write(`${token}\n`);
        process.stderr.write(`stored the sha256 of token "${name}" in ${file}; the token itself is shown only now\n`);
      }),
    );
}
