import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    // dist/ and the dashboard's client built once when stale, before any file runs (not in a hook's timeout).
    globalSetup: ['tests/fixtures/global-setup.ts'],
    // Two test files at a time at least. Vitest's default is one fewer than the cores: one file
    // at a time on CI's two cores, where a good share of the suite waits on child processes (the
    // CLI tests spawn dist/cli/main.js), servers and the browser, leaving a core idle. Each file
    // still runs in a process of its own (forks, isolated): TensorFlow.js's backend is process-wide.
    pool: 'forks',
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Tests that log are suspicious: console output in a passing suite hides real warnings.
    onConsoleLog: () => false,
  },
});
