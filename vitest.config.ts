import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    // Tests that log are suspicious: console output in a passing suite hides real warnings.
    onConsoleLog: () => false,
  },
});
