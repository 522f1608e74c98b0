/**
 * The dashboard's read-only catalog answers a damaged results store as serving answers a
 * tampered artifact: 422 (integrity) naming the file, not 400 (the request was fine).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';

let home: string;
let server: DashboardServer;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pricelab-catalog-errors-'));
  writeFileSync(join(home, 'pricelab.db'), 'this is not an SQLite database, it is a damaged file\n'.repeat(200));
  server = await startDashboard({ port: 0, resultsHome: home });
});

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the catalog on a damaged store', () => {
  it('answers 422 naming the file', async () => {
    const response = await fetch(`${server.url}/api/experiments`);
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain('pricelab.db');
  });
});
