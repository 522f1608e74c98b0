/**
 * The live view's fairness panel (issue 18, "A fairness guard"), in headless Chromium: for a
 * seeded A-vs-B run stepped day by day, the panel shows each arm's effective price paid by
 * segment, its max/min ratio with the groups that set it, and its coefficient of variation,
 * exactly as the server computes them (the same arm replayed here for the same days, through
 * ui/server/arm.ts), and it follows the run: after more days, the new figures.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMarketModel } from '../../env/model.js';
import { loadScenario } from '../../scenarios/load.js';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { Arm } from '../../ui/server/arm.js';
import { ruleDashboardPolicy } from '../../ui/server/policy-source.js';
import { guardrailsOf } from '../../ui/server/session.js';
import type { FairnessFigures } from '../../ui/shared/events.js';
import { artifactsFolder, ensureClientBuilt, launchChromium, type Browser } from './browser.js';

const scenario = 'steady-state-v1';
const policies = ['markdown', 'fixed:17.99'] as const;
const seed = 7;

let home: string;
let server: DashboardServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  ensureClientBuilt();
  home = mkdtempSync(join(tmpdir(), 'pricelab-fairness-panel-'));
  server = await startDashboard({ port: 0, resultsHome: home });
  browser = await launchChromium();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Each arm's figures after `days` days of the seeded run, computed by the server's own arm code. */
async function serverFigures(days: number): Promise<FairnessFigures[]> {
  const model = buildMarketModel(loadScenario(scenario).scenario);
  const figures: FairnessFigures[] = [];
  for (const spec of policies) {
    const arm = new Arm(model);
    const policy = await ruleDashboardPolicy(spec, arm.env, seed);
    arm.usePolicy(policy, guardrailsOf('policy', policy.guardrails, model.unitCost));
    arm.reset(seed);
    for (let day = 0; day < days; day++) arm.step();
    figures.push(arm.currentFairness);
    arm.dispose();
  }
  return figures;
}

/** Every figure the panel shows, by its data-fairness key, as the exact value in its title. */
async function panelFigures(): Promise<Record<string, string>> {
  const entries = await page.locator('#fairness [data-fairness]').evaluateAll((nodes) => nodes.map((node) => [node.getAttribute('data-fairness') ?? '', node.getAttribute('title') ?? ''] as const));
  return Object.fromEntries(entries);
}

/** What the panel must show for an arm's server figures. */
function expectedFigures(arm: string, figures: FairnessFigures): Record<string, string> {
  return {
    ...Object.fromEntries(figures.byGroup.flatMap((group) => [[`${arm}:units:${group.label}`, String(group.units)], [`${arm}:price:${group.label}`, String(group.effectivePrice)]])),
    [`${arm}:maxMinRatio`]: String(figures.maxMinRatio),
    [`${arm}:coefficientOfVariation`]: String(figures.coefficientOfVariation),
    ...(figures.highest === null ? {} : { [`${arm}:highest`]: figures.highest, [`${arm}:lowest`]: figures.lowest ?? '' }),
  };
}

async function stepDays(days: number, target: number): Promise<void> {
  for (let day = 0; day < days; day++) await page.click('#step');
  await expect.poll(() => page.locator('#day').textContent()).toContain(`day ${target} of 365`);
}

describe('the fairness panel of the live view', () => {
  it("shows each arm's effective price by segment, ratio and spread as the server computes them, and follows the run", async () => {
    await page.goto(`${server.url}/?scenario=${scenario}&a=${policies[0]}&b=${policies[1]}&seed=${seed}&speed=1`);
    await expect.poll(() => page.locator('#status').textContent()).toBe('ready');
    expect(await page.locator('#fairness').isHidden()).toBe(true);

    await stepDays(10, 10);
    const [markdownAt10, fixedAt10] = await serverFigures(10);
    await expect.poll(panelFigures).toEqual({ ...expectedFigures('A', markdownAt10!), ...expectedFigures('B', fixedAt10!) });
    // The panel is about something: the markdown's segments paid different prices, the fixed price's did not.
    expect(markdownAt10!.maxMinRatio).toBeGreaterThan(1);
    expect(markdownAt10!.byGroup.map((group) => group.label)).toEqual(['bargain-hunters', 'quality-seekers', 'loyal-regulars']);
    expect(await page.locator('[data-fairness="A:maxMinRatio"]').textContent()).toBe(markdownAt10!.maxMinRatio.toLocaleString('en-US', { maximumFractionDigits: 3 }));
    expect(fixedAt10!.maxMinRatio).toBe(1);
    expect(await page.locator('#fairness .fairness-arm[data-arm="B"]').textContent()).toContain('every group paid the same');

    await stepDays(10, 20);
    const [markdownAt20, fixedAt20] = await serverFigures(20);
    expect(markdownAt20!.maxMinRatio).not.toBe(markdownAt10!.maxMinRatio);
    await expect.poll(panelFigures).toEqual({ ...expectedFigures('A', markdownAt20!), ...expectedFigures('B', fixedAt20!) });
    mkdirSync(artifactsFolder, { recursive: true });
    await page.locator('#fairness').screenshot({ path: join(artifactsFolder, 'fairness-panel.png') });
  }, 60_000);
});
