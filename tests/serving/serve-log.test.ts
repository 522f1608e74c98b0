/**
 * The serve log reads once, cleanly: a policy that cannot be served says so once (it read
 * "cannot be served (not served)"), and a load failure's integrity problems are listed on
 * one line (they were joined as ";   - ").
 */
import { describe, expect, it } from 'vitest';
import { servingLine } from '../../cli/commands/serve.js';
import { PricelabError } from '../../core/errors.js';
import { describeError } from '../../serving/pricing-service.js';

const url = 'http://127.0.0.1:8080';

describe('the serve start-up line', () => {
  it('says "cannot be served" once, and what serves instead only when something does', () => {
    expect(servingLine({ name: 'everyday', state: 'failed', production: 1, serving: null, errors: [] }, url)).toBe(`  everyday@1: cannot be served (GET ${url}/readyz says why)`);
    expect(servingLine({ name: 'everyday', state: 'stale', production: 2, serving: 1, errors: [] }, url)).toBe(`  everyday@2: cannot be served; everyday@1 serves instead (GET ${url}/readyz says why)`);
    expect(servingLine({ name: 'everyday', state: 'serving', production: 2, serving: 2, errors: [] }, url)).toBe(`  everyday@2: POST ${url}/v1/policies/everyday/price`);
  });
});

describe('a load failure in the log and /readyz', () => {
  it('lists integrity problems on one line, each naming its field', () => {
    const error = new PricelabError('integrity', 'policy.json does not match what the registry recorded', [
      { path: ['files', 'weights.json', 'sha256'], message: 'expected 1a2b, found 3c4d' },
      { path: ['files', 'weights.json', 'bytes'], message: 'expected 120, found 121' },
    ]);
    expect(describeError(error)).toEqual({ kind: 'integrity', message: 'policy.json does not match what the registry recorded (files.weights.json.sha256: expected 1a2b, found 3c4d; files.weights.json.bytes: expected 120, found 121)' });
  });

  it('says how many more problems there are past three, and leaves a message without problems as it is', () => {
    const problems = Array.from({ length: 5 }, (_, index) => ({ path: ['features', index], message: 'expected a number' }));
    const { message } = describeError(new PricelabError('integrity', 'bad policy:', problems));
    expect(message).toMatch(/^bad policy \(features\[0\]: expected a number; features\[1\]: .*; features\[2\]: expected a number; 2 more\)$/);
    expect(describeError(new PricelabError('not-found', 'no version 3 of "everyday"'))).toEqual({ kind: 'not-found', message: 'no version 3 of "everyday"' });
  });
});
