/**
 * Where registered artifacts live in the pricelab home (policies/<name>/<version>/), and
 * the clean-up of `.partial-<pid>-*` staging copies left by registrations that were killed
 * mid-copy.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Removes `.partial-<pid>-*` copies left by registrations whose process is gone (killed mid-copy). */
export function removeAbandonedCopies(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = /^\.partial-(\d+)-/.exec(entry)?.[1];
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where a version's artifact lives, relative to the home. */
export const versionPath = (name: string, version: number): string => join('policies', name, String(version));

