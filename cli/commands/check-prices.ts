/**
 * `pricelab check-prices`: honest reference prices. Simulates a rule policy on a scenario
 * (or reads a price path file with --prices) and, for every promotion shown on a festival
 * pre-sale or event day, prints the reference ("was") price the market's rule allows beside
 * the one a shop would claim, and flags raise-then-discount. Exit 0: compliant; 1: an
 * overstated claim or a flag; 2: bad input (docs/responsible-pricing.md).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { policySpecs } from '../../agents/policy-spec.js';
import { configError } from '../../core/errors.js';
import { readJsonFile } from '../../core/json-file.js';
import { referencePriceRuleNames, type ReferencePriceReport, type ReferencePriceRuleName } from '../../env/reference-price-record.js';
import { checkPolicyReferencePrices, checkPricePath } from '../../experiments/reference-price-check.js';
import { loadScenario } from '../../scenarios/load.js';
import { exitCodes, formatNumber, integer, positiveInteger, printJson, run, table } from '../output.js';

interface CheckPricesOptions {
  policy?: string;
  prices?: string;
  rule?: ReferencePriceRuleName;
  raiseWindow?: number;
  seed: number;
  json?: boolean;
}

function ruleName(value: string): ReferencePriceRuleName {
  if (!(referencePriceRuleNames as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${referencePriceRuleNames.join(', ')}, found "${value}"`);
  return value as ReferencePriceRuleName;
}

export function registerCheckPrices(program: Command): void {
  program
    .command('check-prices')
    .description('reference ("was") prices of every promotion under the EU 30-day or China 7-day rule, and raise-then-discount flags; exit 1 on a finding')
    .argument('[scenario]', 'built-in scenario id or path to a scenario file, simulated under --policy')
    .option('--policy <rule>', `rule policy to simulate: ${policySpecs.join(', ')}`, 'festival:0.15')
    .option('--prices <file>', 'check a price path instead: JSON {"prices": [...], "units"?: [...], "promotions": [{"name", "start", "end"}], "rule"?}')
    .option('--rule <rule>', `${referencePriceRuleNames.join(' or ')} (default: the scenario's or the file's referencePriceRule, else eu-30-day)`, ruleName)
    .option('--raise-window <days>', 'days before a promotion in which a price raise is looked for', positiveInteger)
    .option('--seed <n>', 'seed of the simulated episode', integer, 1)
    .option('--json', 'print {"source", "report": {"rule", "promotions": [...], "flags": [...], "compliant"}}')
    .action(
      run(async (scenario: string | undefined, options: CheckPricesOptions) => {
        if ((scenario === undefined) === (options.prices === undefined)) {
          throw configError('check-prices needs one source', [{ path: ['scenario'], message: `expected a scenario or --prices <file>, found ${scenario === undefined ? 'neither' : 'both'}` }]);
        }
        let source: Record<string, unknown>;
        let report: ReferencePriceReport;
        if (options.prices !== undefined) {
          report = checkPricePath(readJsonFile(options.prices, 'price path'), { rule: options.rule, raiseWindowDays: options.raiseWindow });
          source = { prices: options.prices };
        } else {
          const checked = await checkPolicyReferencePrices(loadScenario(scenario ?? '').scenario, { policy: options.policy ?? 'festival:0.15', seed: options.seed, rule: options.rule, raiseWindowDays: options.raiseWindow });
          report = checked.report;
          source = { scenario: checked.scenario, policy: checked.policy, seed: checked.seed };
        }
        if (options.json) printJson({ source, report });
        else process.stdout.write(describeReport(report));
        return report.compliant ? exitCodes.ok : exitCodes.failed;
      }),
    );
}

function describeReport(report: ReferencePriceReport): string {
  const lines = [`rule ${report.rule.name}: ${report.rule.description}`, `(${report.rule.source})`, ''];
  if (report.promotions.length === 0) lines.push(`no promotion shown in ${report.days} days`);
  else {
    const percent = (value: number | null) => (value === null ? '-' : `${formatNumber(value * 100, 1)}%`);
    const rows = [['promotion', 'days', 'claimed was', 'compliant was', 'basis', 'claimed off', 'compliant off', '']];
    for (const promotion of report.promotions) {
      const deepest = promotion.days.reduce((best, day) => (day.claimedDiscount > best.claimedDiscount ? day : best));
      rows.push([
        promotion.name,
        `${promotion.start}-${promotion.end - 1}`,
        formatNumber(promotion.claimedReference),
        formatNumber(promotion.compliantReference.price),
        promotion.compliantReference.basis,
        percent(deepest.claimedDiscount),
        percent(deepest.compliantDiscount),
        promotion.overstated ? 'OVERSTATED' : 'ok',
      ]);
    }
    lines.push(table(rows));
  }
  for (const flag of report.flags) lines.push(`FLAG ${flag.kind}: ${flag.detail}`);
  lines.push('', report.compliant ? 'compliant' : `${report.overstatedPromotions} overstated promotion(s), ${report.flags.length} flag(s)`, 'an aid, not legal advice');
  return `${lines.join('\n')}\n`;
}
