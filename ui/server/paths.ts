/** Where the built browser code lives: dist/ui/client under the package root, found from this file whether it runs from source (ui/server) or compiled (dist/ui/server). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    if (existsSync(join(folder, 'package.json')) && existsSync(join(folder, 'scenarios'))) return folder;
    folder = dirname(folder);
  }
  return process.cwd();
}

export const clientBuildFolder = (): string => join(packageRoot(), 'dist', 'ui', 'client');
