/** The registry view, read-only: every policy's versions and aliases, and the audit log. Promotion stays in the CLI and the token-protected API. */
import { byId, element, table } from './dom.js';

interface RegistryAnswer {
  policies: { name: string; aliases: Record<string, number>; versions: { version: number; agentKind: string; contentHash: string; lineage: { scenario: { id: string } }; registeredAt: string; registeredBy: string }[] }[];
  audit: { at: string; actor: string; action: string; name: string; version: number | null; alias: string | null; reason: string }[];
}

export async function showRegistry(): Promise<void> {
  const answer = (await (await fetch('/api/registry')).json()) as RegistryAnswer;
  const versions = answer.policies.flatMap((policy) =>
    policy.versions.map((version) => {
      const aliases = Object.entries(policy.aliases)
        .filter(([, number]) => number === version.version)
        .map(([alias]) => alias);
      return [`${policy.name}@${version.version}`, version.agentKind, version.lineage.scenario.id, aliases.join(', '), version.contentHash.slice(0, 12), version.registeredAt.replace('T', ' ').slice(0, 19), version.registeredBy];
    }),
  );
  byId('registry-content').replaceChildren(
    element('p', { class: 'note' }, 'Read-only. Promote and roll back with `npx pricelab policy promote|rollback` or the serving API (behind a token).'),
    element('h3', {}, 'Versions'),
    versions.length === 0 ? element('p', {}, 'No registered policies yet: `npx pricelab policy register <folder> --name <name>`.') : table(['policy', 'agent', 'scenario', 'aliases', 'content hash', 'registered', 'by'], versions),
    element('h3', {}, 'Audit log'),
    answer.audit.length === 0
      ? element('p', {}, 'No changes recorded.')
      : table(
          ['when', 'who', 'action', 'policy', 'alias', 'reason'],
          answer.audit.map((entry) => [entry.at.replace('T', ' ').slice(0, 19), entry.actor, entry.action, `${entry.name}${entry.version === null ? '' : `@${entry.version}`}`, entry.alias ?? '', entry.reason]),
        ),
  );
}
