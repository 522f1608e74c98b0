/**
 * The layering is enforced: `npm run lint` runs dependency-cruiser with
 * .dependency-cruiser.cjs, and these tests plant, in a scratch tree, one file in every layer
 * importing every other layer, then check that the tool reports exactly the wrong-way imports.
 * The expected order is written here independently of the config:
 *
 *   core <- scenarios <- env <- agents <- experiments <- calibration, serving <- ui <- cli
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const config = join(root, '.dependency-cruiser.cjs');

/** A layer may import the layers of a lower rank only; equal ranks (calibration, serving) are siblings. */
const rank: Readonly<Record<string, number>> = { core: 0, scenarios: 1, env: 2, agents: 3, experiments: 4, calibration: 5, serving: 5, ui: 6, cli: 7 };
const layers = Object.keys(rank);

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

let folder = '';
let violations: readonly Violation[] = [];

function write(path: string, text: string): void {
  mkdirSync(dirname(join(folder, path)), { recursive: true });
  writeFileSync(join(folder, path), text);
}

function cruise(): Promise<readonly Violation[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [depcruise, '--config', config, '--output-type', 'json', ...layers], { cwd: folder, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      // A run with violations exits non-zero and still prints the result.
      try {
        resolve((JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations);
      } catch {
        reject(error ?? new Error(`depcruise printed no result: ${stderr}`));
      }
    });
  });
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'pricelab-layers-'));
  write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', verbatimModuleSyntax: true } }));
  for (const layer of layers) {
    write(`${layer}/marker.ts`, 'export const marker = 1;\n');
    for (const other of layers) {
      if (other !== layer) write(`${layer}/uses-${other}.ts`, `import { marker } from '../${other}/marker.js';\nexport const used = marker;\n`);
    }
  }
  // A type-only import is a dependency too.
  write('env/types-only.ts', "import type { Shape } from '../agents/shape.js';\nexport type Used = Shape;\n");
  write('agents/shape.ts', 'export interface Shape { readonly size: number }\n');
  // The one exception: `npm start` is an entry point like the CLI and shares its error report.
  write('ui/server/main.ts', "import { marker } from '../../cli/marker.js';\nexport const used = marker;\n");
  violations = await cruise();
}, 60_000);

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('layering (dependency-cruiser, .dependency-cruiser.cjs)', () => {
  it('reports every import of a layer at or above the importer, and no other', () => {
    const reported = violations.map((violation) => `${violation.from} -> ${violation.to}`).sort();
    const expected = layers
      .flatMap((layer) => layers.filter((other) => other !== layer && rank[other]! >= rank[layer]!).map((other) => `${layer}/uses-${other}.ts -> ${other}/marker.ts`))
      .concat('env/types-only.ts -> agents/shape.ts')
      .sort();
    expect(reported).toEqual(expected);
  });

  it('names the rule of the importing layer', () => {
    const planted = violations.find((violation) => violation.from === 'env/uses-agents.ts');
    expect(planted?.rule.name).toBe('env-imports-only-below');
    expect(violations.find((violation) => violation.from === 'serving/uses-calibration.ts')?.rule.name).toBe('serving-imports-only-below');
  });

  it('lets ui/server/main.ts (npm start) import cli/, and no other ui file', () => {
    expect(violations.some((violation) => violation.from === 'ui/server/main.ts')).toBe(false);
    expect(violations.some((violation) => violation.from === 'ui/uses-cli.ts' && violation.to === 'cli/marker.ts')).toBe(true);
  });
});
