/**
 * Where a worker thread's module is: the compiled .js beside this file in dist/, or, when
 * pricelab runs from its TypeScript source (tests, tsx), the .ts file loaded through tsx.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The file a package's export resolves to under the "import" condition (createRequire resolves "require"). */
export function resolveImport(from: string, packageName: string, subpath: string): string {
  const manifestPath = createRequire(from).resolve(`${packageName}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports?: Record<string, string | { import?: string | { default?: string } }> };
  const entry = manifest.exports?.[subpath];
  const target = typeof entry === 'string' ? entry : typeof entry?.import === 'string' ? entry.import : entry?.import?.default;
  if (target === undefined) throw new Error(`${packageName} has no "${subpath}" export for import`);
  return join(dirname(manifestPath), target);
}
