/**
 * The layering of pricelab, checked by dependency-cruiser in `npm run lint` (so `npm test`
 * fails on a wrong-way import). A folder imports itself and the folders below it, never one
 * above. Type-only imports count too: a type is a dependency.
 *
 *   core <- scenarios <- env <- agents <- experiments <- calibration, serving <- ui <- cli
 *
 * calibration sits beside serving: it reads env and scenarios, replays prices through an
 * agent (agents/historical.ts) and renders its report with experiments/report; only ui and
 * cli import it. serving and calibration never import each other.
 * Outside the layers: tests/, bench/, scripts/ and the package root index.ts may import any.
 * tests/core/layers.test.ts plants a file in every layer importing every other layer and
 * checks that exactly the wrong-way imports are reported.
 */
const layers = {
  core: [],
  scenarios: ['core'],
  env: ['core', 'scenarios'],
  agents: ['core', 'scenarios', 'env'],
  experiments: ['core', 'scenarios', 'env', 'agents'],
  calibration: ['core', 'scenarios', 'env', 'agents', 'experiments'],
  serving: ['core', 'scenarios', 'env', 'agents', 'experiments'],
  ui: ['core', 'scenarios', 'env', 'agents', 'experiments', 'calibration', 'serving'],
  cli: ['core', 'scenarios', 'env', 'agents', 'experiments', 'calibration', 'serving', 'ui'],
};

/**
 * Known exceptions, each a single file: `npm start` (ui/server/main.ts) is a process entry
 * point like cli/main.ts and reports errors with the CLI's exit codes (cli/output.ts).
 */
const exceptions = { ui: ['^ui/server/main\\.ts$'] };

const folders = Object.keys(layers);

module.exports = {
  forbidden: folders.map((folder) => {
    const above = folders.filter((other) => other !== folder && !layers[folder].includes(other));
    return {
      name: `${folder}-imports-only-below`,
      comment: `${folder}/ may import ${layers[folder].length === 0 ? 'no other folder of ours' : layers[folder].join(', ')} (see .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: `^${folder}/`, ...(exceptions[folder] ? { pathNot: exceptions[folder] } : {}) },
      to: { path: `^(${above.join('|')})/` },
    };
  }),
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
