/**
 * Policy names, aliases and references (`name`, `name@version`, `name@alias`) as the
 * registry, the CLI and the serving config spell them, and who a change is recorded as.
 */
import { userInfo } from 'node:os';
import { PricelabError } from '../core/errors.js';

export const aliasNames = ['candidate', 'staging', 'production'] as const;
export type AliasName = (typeof aliasNames)[number];

/** A policy name: lowercase letters, digits, '.', '_' or '-', at most 64. */
export const namePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const defaultActor = (): string => {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
};

/** `name@version` or `name@alias` or `name` (production). */
export function parsePolicyReference(reference: string): { name: string; version?: number; alias?: AliasName } {
  const [name = '', selector] = reference.split('@', 2);
  if (!namePattern.test(name)) throw new PricelabError('config', `bad policy reference "${reference}"`, [{ path: ['policy'], message: `expected name[@version|@alias] with a name of lowercase letters, digits, '.', '_' or '-', found "${reference}"` }]);
  if (selector === undefined) return { name };
  if (/^\d+$/.test(selector)) return { name, version: Number(selector) };
  if ((aliasNames as readonly string[]).includes(selector)) return { name, alias: selector as AliasName };
  throw new PricelabError('config', `bad policy reference "${reference}"`, [{ path: ['policy'], message: `expected a version number or one of ${aliasNames.join(', ')} after '@', found "${selector}"` }]);
}

