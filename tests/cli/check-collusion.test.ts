/**
 * `pricelab check-collusion` end to end: the Calvano learners' firm 0 is refused (exit 1,
 * the evidence written with --out, the gate's detail quoting it), a fixed Nash price passes
 * (exit 0), a policy artifact is measured through its observation with its content hash
 * recorded, and a bad candidate is refused as bad input (exit 2).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../agents/artifact.js';
import type { CollusionEvidence } from '../../experiments/collusion.js';
import { cli, ensureBuilt } from '../fixtures/cli.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

let folder = '';
beforeAll(() => {
  ensureBuilt();
  folder = mkdtempSync(join(tmpdir(), 'pricelab-check-collusion-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Output {
  evidence: CollusionEvidence;
  rival: { kind: string; converged: boolean };
  gate: { passed: boolean; detail: string };
}

describe('check-collusion', () => {
  it("refuses the Calvano learners' firm 0 and writes the evidence", async () => {
    const out = join(folder, 'calvano.json');
    const result = await cli('check-collusion', 'calvano', '--out', out, '--json');
    expect(result.code).toBe(1);
    const output = JSON.parse(result.stdout) as Output;
    expect(output.rival.converged).toBe(true);
    expect(output.evidence.signature).toBe(true);
    expect(output.gate.detail).toMatch(/reward-punishment collusion/);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(output.evidence);
  });

  it('passes a fixed price next to Nash (exit 0)', async () => {
    const result = await cli('check-collusion', 'fixed:1.466', '--json');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Output).gate.passed).toBe(true);
  });

  it('measures a policy artifact through its observation, with its content hash', async () => {
    const trained = await trainedPolicyArtifact(folder, { scenario: 'calvano-duopoly-v1', kind: 'fixed-price', config: { price: 1.466 }, steps: 5, name: 'steady' });
    const result = await cli('check-collusion', trained.folder, '--json');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as Output;
    expect(output.evidence.candidate.policySha256).toBe(readArtifact(trained.folder).contentHash);
    expect(output.evidence.cycle.every((prices) => Math.abs(prices[0]! - 1.466) < 0.001)).toBe(true);
  });

  it('refuses an unknown candidate (exit 2)', async () => {
    const result = await cli('check-collusion', 'cartel:2', '--json');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'config', problems: [{ path: ['policy'] }] } });
  });
});
