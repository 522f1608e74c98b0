/**
 * The dashboard end to end, in headless Chromium: load the page, start a simulation and see
 * the charts grow (counted in vega's scenegraph and in the rendered SVG paths), pause,
 * switch scenario, run A vs B against a registered trained policy, open "why this price?",
 * open a comparison's report charts, read the registry. Screenshots go to
 * test-artifacts/dashboard/ (gitignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { compare } from '../../experiments/compare.js';
import { ResultsStore } from '../../experiments/store.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { artifactsFolder, ensureClientBuilt, launchChromium, pathLength, renderedItems, type Browser } from './browser.js';

let home: string;
let server: DashboardServer;
let browser: Browser;
let page: Page;

const screenshot = (name: string) => page.screenshot({ path: join(artifactsFolder, `${name}.png`), fullPage: true });
const dayRules = (chart: string) => renderedItems(page, chart, 'days_marks');
const status = () => page.locator('#status').textContent();

beforeAll(async () => {
  ensureClientBuilt();
  mkdirSync(artifactsFolder, { recursive: true });
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-e2e-'));
  // A comparison in the store, and a trained policy in the registry.
  const outcome = await compare({ scenario: 'steady-state-v1', arms: ['low=fixed:16.99', 'high=fixed:19.99'], seeds: 3, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
  const store = ResultsStore.open(home);
  store.recordComparison({ scenario: 'steady-state-v1', arms: ['low', 'high'], baseline: 'low', summary: outcome.summary });
  store.close();
  const trained = await trainedPolicyArtifact(home, { name: 'everyday', steps: 3000 });
  trained.agent.dispose();
  const registry = PolicyRegistry.open(home);
  registry.register(trained.folder, { name: 'everyday', reason: 'e2e fixture', actor: 'suite' });
  registry.close();
  server = await startDashboard({ port: 0, resultsHome: home });
  browser = await launchChromium();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('the dashboard in a browser', () => {
  it('loads with the default scenario and draws days as the simulation runs; pause stops them', async () => {
    await page.goto(server.url);
    await page.locator('#chart-price-A svg').waitFor();
    expect(await page.locator('#scenario').inputValue()).toBe('singles-day-v1');
    expect(await dayRules('price-A')).toBe(0);

    await page.selectOption('#speed', '64');
    await page.click('#start');
    await expect.poll(() => dayRules('price-A'), { timeout: 10_000 }).toBeGreaterThan(20);
    const firstPoints = await renderedItems(page, 'price-A', 'prices_marks');
    const firstPath = await pathLength(page, 'units', 'mark-line');
    await expect.poll(() => dayRules('price-A'), { timeout: 10_000 }).toBeGreaterThan(60);
    expect(await renderedItems(page, 'price-A', 'prices_marks')).toBeGreaterThan(firstPoints);
    expect(await pathLength(page, 'units', 'mark-line')).toBeGreaterThan(firstPath);
    // Units by segment: a sold and a lost series per segment of singles-day-v1, in the legend.
    const unitsLegend = await page.locator('#chart-units svg').textContent();
    for (const segment of ['brand-loyal', 'deal-seekers', 'mainstream']) expect(unitsLegend).toContain(`sold: ${segment}`);
    expect(Number((await page.locator('[data-kpi="A:profit"] .value').textContent())?.replace(/,/g, ''))).toBeGreaterThan(0);
    await screenshot('1-running');

    await page.click('#pause');
    await expect.poll(status).toBe('paused');
    // The last frame before the pause is drawn on the next animation frame, after the status
    // has changed: wait until the drawing settles (at 64 days a second it never would).
    const settled = async () => {
      const before = await dayRules('price-A');
      await page.waitForTimeout(300);
      return (await dayRules('price-A')) === before;
    };
    await expect.poll(settled, { timeout: 5_000 }).toBe(true);
    const paused = await dayRules('price-A');
    await page.waitForTimeout(600);
    expect(await dayRules('price-A')).toBe(paused);
    await page.click('#step');
    await expect.poll(() => dayRules('price-A')).toBe(paused + 1);
  });

  it('switches scenario: the charts start again, with the weather on the time axis', async () => {
    await page.selectOption('#scenario', 'weather-sensitive-v1');
    await page.fill('#policy-a', 'fixed:7.99');
    await page.fill('#policy-b', '');
    await page.click('#apply');
    await expect.poll(() => page.locator('#day').textContent()).toContain('of 365');
    await expect.poll(() => page.locator('#chart-price-A').textContent()).toContain('fixed:7.99');
    expect(await dayRules('price-A')).toBe(0);
    await page.fill('#seed', '2');
    for (let day = 0; day < 5; day++) await page.click('#step');
    await expect.poll(() => dayRules('price-A')).toBe(5);
    expect(await renderedItems(page, 'price-A', 'weather_marks')).toBe(5); // one weather mark per day
  });

  it('runs A vs B against a registered trained policy at full speed, with the always-valid interval', async () => {
    await page.selectOption('#scenario', 'steady-state-v1');
    await expect.poll(() => page.locator('#policy-options option').evaluateAll((options) => options.map((option) => option.getAttribute('value')))).toContain('registry:everyday@1');
    await page.fill('#policy-a', 'fixed:18.99');
    await page.fill('#policy-b', 'registry:everyday@1');
    await page.click('#apply');
    await page.locator('#chart-price-B svg').waitFor();
    await page.locator('#chart-difference svg').waitFor();
    await page.selectOption('#speed', 'max');
    await page.click('#start');
    await expect.poll(status, { timeout: 15_000 }).toBe('finished');
    await expect.poll(() => dayRules('price-B')).toBeGreaterThan(100);
    expect(await renderedItems(page, 'difference', 'interval_marks')).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#ab-summary').textContent()).toMatch(/A vs B after 365 days: B - A = .* always-valid interval \[/);
    await screenshot('2-a-vs-b');
  });

  it('answers "why this price?" for a clicked day: features, action values, guardrails', async () => {
    await page.locator('#chart-price-B g.days_marks line').nth(120).click({ force: true });
    const why = page.locator('#why');
    await why.waitFor({ state: 'visible' });
    await expect.poll(() => why.textContent()).toContain('arm B (registry:everyday@1)');
    const text = (await why.textContent()) ?? '';
    expect(text).toContain('lastPrice');
    expect(text).toContain('action value');
    expect(text).toContain('(chosen)');
    for (const rule of ['min-max', 'max-change', 'competitor-index', 'margin-floor', 'ladder']) expect(text).toContain(rule);
    await screenshot('3-why-this-price');
  });

  it('opens a comparison report from the store, and the read-only registry', async () => {
    await page.click('#tab-experiments');
    await page.locator('button.open-report').first().click();
    await page.locator('#report-forest svg').waitFor();
    const reportMarks = await page.locator('#report-forest g.role-mark > *').count();
    expect(reportMarks).toBeGreaterThan(0);
    expect(await page.locator('#report-kpi-bars svg').count()).toBe(1);
    await screenshot('4-report');

    await page.click('#tab-registry');
    await expect.poll(() => page.locator('#registry-content').textContent()).toContain('everyday@1');
    expect(await page.locator('#registry-content').textContent()).toContain('e2e fixture');
    await screenshot('5-registry');
  });
});
