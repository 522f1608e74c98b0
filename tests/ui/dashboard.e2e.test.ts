/**
 * The dashboard end to end, in headless Chromium: load the page, start a simulation and see
 * the charts grow (counted in vega's scenegraph and in the rendered SVG paths), pause,
 * a policy typo (one banner, charts marked as not loaded, cleared by a good Load), switch
 * scenario, run A vs B against a registered trained policy (every day on the A-vs-B chart,
 * KPI pairs), export a chart, open a share link, open "why this price?", a training run's
 * curve and KPIs,
 * open a comparison's report charts, read the registry. Screenshots go to
 * test-artifacts/dashboard/ (gitignored).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { compare } from '../../experiments/compare.js';
import { ResultsStore, trainingExperiment } from '../../experiments/store.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { artifactsFolder, ensureClientBuilt, launchChromium, pathLength, renderedItems, type Browser } from './browser.js';

const trainRunId = 'train-markdown-gvr-v1-dqn-seed1-e2e';
const flatRunId = 'train-steady-state-v1-fixed-seed1-flat';
const trainCurve = [10_000, 20_000, 30_000, 40_000, 50_000].map((steps, index) => ({ steps, meanReward: [1.2, 2.9, 3.8, 4.68, 2.12][index] as number }));
let home: string;
let server: DashboardServer;
let browser: Browser;
let page: Page;

const screenshot = (name: string) => page.screenshot({ path: join(artifactsFolder, `${name}.png`), fullPage: true });
const dayRules = (chart: string) => renderedItems(page, chart, 'days_marks');
const status = () => page.locator('#status').textContent();
/** The text of a chart's legends (not its title or axes). */
const legendText = async (chart: string) => (await page.locator(`#chart-${chart} g.role-legend`).allTextContents()).join(' ');
/** Each chart's drawn width over its card's inner width. */
const chartFill = () => page.locator('#charts .chart').evaluateAll((cards) => cards.map((card) => (card.querySelector('svg')?.getBoundingClientRect().width ?? 0) / (card.clientWidth - 8)));

beforeAll(async () => {
  ensureClientBuilt();
  mkdirSync(artifactsFolder, { recursive: true });
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-e2e-'));
  // A comparison in the store, and a trained policy in the registry.
  const outcome = await compare({ scenario: 'steady-state-v1', arms: ['low=fixed:16.99', 'high=fixed:19.99'], seeds: 3, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
  const store = ResultsStore.open(home);
  store.recordComparison({ scenario: 'steady-state-v1', arms: ['low', 'high'], baseline: 'low', summary: outcome.summary });
  // A `pricelab train` run as the train command records it (experiment "train", eval/curve as JSON, evaluation episodes).
  store.registerRuns([{ id: trainRunId, experiment: trainingExperiment, scenario: { id: 'markdown-gvr-v1', contentHash: 'e2e' }, agent: { name: 'dqn', kind: 'dqn', config: {} }, seed: 1, manifest: { command: 'train' } }]);
  store.markRunning(trainRunId);
  store.finishRun(trainRunId, {
    manifest: { command: 'train' },
    metrics: { 'train/steps': 50_000, 'eval/meanReward': 4.68, 'eval/optimalValue': 5.1, 'eval/shareOfOptimum': 4.68 / 5.1, 'eval/bestSteps': 40_000, 'eval/bestMeanReward': 4.68, 'eval/curve': { json: trainCurve } },
    evaluations: [1, 2].map((episode) => ({ episode, seed: 1000 + episode, totalReward: 4.6 + episode / 20, kpis: { profit: 4.6 + episode / 20, revenue: 10 + episode } })),
  });
  // A run whose curve is flat (a fixed price learns nothing): its axis once read "80,154.818000".
  store.registerRuns([{ id: flatRunId, experiment: trainingExperiment, scenario: { id: 'steady-state-v1', contentHash: 'e2e' }, agent: { name: 'fixed', kind: 'fixed', config: {} }, seed: 1, manifest: { command: 'train' } }]);
  store.markRunning(flatRunId);
  store.finishRun(flatRunId, { manifest: { command: 'train' }, metrics: { 'train/steps': 3000, 'eval/meanReward': 80_154.818, 'eval/curve': { json: [1000, 2000, 3000].map((steps) => ({ steps, meanReward: 80_154.818 })) } }, evaluations: [] });
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
    // Every chart fills its card.
    for (const ratio of await chartFill()) expect(ratio).toBeGreaterThan(0.95);
    // Legends list only what is there: singles-day-v1 has festivals but no weather; lost-sales series only once a day lost some.
    const priceLegend = await legendText('price-A');
    expect(priceLegend).toContain('festival');
    expect(priceLegend).not.toContain('weather');
    expect(priceLegend).not.toContain('sunny');
    // Returns in units and refunds in money: separate charts, each with its own axis.
    expect(await legendText('returns')).toContain('units returned');
    expect(await legendText('returns')).not.toContain('refunds');
    expect(await page.locator('#chart-returns g.role-axis-title').allTextContents()).toEqual(['day', 'units']);
    expect(await legendText('refunds')).toContain('refunds');
    expect(await page.locator('#chart-refunds g.role-axis-title').allTextContents()).toEqual(['day', 'money']);
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
    // A lost-sales series is in the legend exactly when some day lost a unit (the tile's title holds the exact total).
    const lostSoFar = Number(await page.locator('[data-kpi="A:lostSales"]').getAttribute('title'));
    expect((await legendText('units')).includes('lost:')).toBe(lostSoFar > 0);
    await page.click('#step');
    await expect.poll(() => dayRules('price-A')).toBe(paused + 1);
    // The day counter counts days simulated, from 1.
    await expect.poll(() => page.locator('#day').textContent()).toContain(`day ${paused + 1} of 365`);
  });

  it('a policy typo: the banner says it once, the charts are marked as not loaded, and a good Load clears both', async () => {
    await page.click('#share'); // a share link on show: it must follow the next good Load
    expect(new URL(await page.locator('#share-link').inputValue()).searchParams.get('a')).toBe('festival:0.15');
    await page.fill('#policy-a', 'fixd:17.99');
    await page.click('#apply');
    const banner = page.locator('#problems');
    await banner.waitFor({ state: 'visible' });
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain('fixd:17.99');
    expect(text.split('expected one of').length - 1).toBe(1);
    expect(await page.locator('#stale-note').isVisible()).toBe(true);
    expect(await page.locator('#stale-note').textContent()).toContain('festival:0.15');
    expect(await page.locator('#charts').getAttribute('class')).toContain('stale');
    await screenshot('1b-policy-typo');
    // Still there a moment later: a refused Load is not forgotten.
    await page.waitForTimeout(300);
    expect(await banner.isVisible()).toBe(true);

    await page.fill('#policy-a', 'fixed:129.99');
    await page.click('#apply');
    await expect.poll(() => page.locator('#chart-price-A').textContent()).toContain('fixed:129.99');
    await expect.poll(() => banner.isVisible()).toBe(false);
    expect(await page.locator('#stale-note').isVisible()).toBe(false);
    expect(await page.locator('#charts').getAttribute('class') ?? '').not.toContain('stale');
    expect(await page.locator('#day').textContent()).toContain('day 0 of 365');
    await expect.poll(async () => new URL(await page.locator('#share-link').inputValue()).searchParams.get('a')).toBe('fixed:129.99');
    await page.click('#step');
    await expect.poll(() => page.locator('#day').textContent()).toContain('day 1 of 365');
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
    expect(await legendText('price-A')).toContain('weather');
    // weather-sensitive-v1 has no returns and no festivals: no legend lists a series of zeros or an absent calendar.
    expect(await legendText('returns')).not.toContain('units returned');
    expect(await legendText('refunds')).not.toContain('refunds');
    expect(await legendText('price-A')).not.toContain('festival');
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
    // Every day is a point of the A-vs-B line, not one point per frame.
    await expect.poll(() => renderedItems(page, 'difference', 'estimate_marks'), { timeout: 10_000 }).toBe(365);
    await expect.poll(() => page.locator('#ab-summary').textContent()).toMatch(/A vs B after 365 days: B - A = .* always-valid interval \[/);
    expect(await page.locator('#day').textContent()).toContain('day 365 of 365');
    // A and B side by side, with B - A.
    const kpi = async (key: string) => Number((await page.locator(`[data-kpi="${key}"] .value`).textContent())?.replace(/[,+]/g, ''));
    for (const key of ['profit', 'revenue', 'sold']) expect(Math.abs((await kpi(`diff:${key}`)) - ((await kpi(`B:${key}`)) - (await kpi(`A:${key}`))))).toBeLessThanOrEqual(1);
    const profitTile = await page.locator('[data-kpi="A:profit"]').boundingBox();
    const profitTileB = await page.locator('[data-kpi="B:profit"]').boundingBox();
    expect(Math.abs((profitTile?.y ?? 0) - (profitTileB?.y ?? 1))).toBeLessThan(2); // on one row
    for (const ratio of await chartFill()) expect(ratio).toBeGreaterThan(0.95);
    await screenshot('2-a-vs-b');
  });

  it('exports each chart as PNG and its data as CSV', async () => {
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#chart-difference .export-png')]);
    expect(png.suggestedFilename()).toBe('pricelab-difference.png');
    const image = readFileSync((await png.path()) ?? '');
    expect([...image.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#chart-difference .export-csv')]);
    expect(csv.suggestedFilename()).toBe('pricelab-difference.csv');
    const lines = readFileSync((await csv.path()) ?? '', 'utf8').trim().split('\n');
    expect(lines[0]).toBe('day,estimate,low,high,latestLow,latestHigh');
    expect(lines).toHaveLength(366);
    const [units] = await Promise.all([page.waitForEvent('download'), page.click('#chart-units .export-csv')]);
    const unitLines = readFileSync((await units.path()) ?? '', 'utf8').trim().split('\n');
    expect(unitLines[0]).toBe('day,arm,series,value');
    expect(unitLines.length).toBeGreaterThan(365);
  });

  it('keeps the settings in a share link, and opening it restores them', async () => {
    await page.click('#share');
    const link = await page.locator('#share-link').inputValue();
    const query = new URL(link).searchParams;
    expect(Object.fromEntries(query)).toMatchObject({ scenario: 'steady-state-v1', a: 'fixed:18.99', b: 'registry:everyday@1', speed: 'max' });
    const other = await browser.newPage();
    try {
      await other.goto(link);
      await other.locator('#chart-price-B svg').waitFor();
      await expect.poll(() => other.locator('#chart-price-B').textContent()).toContain('registry:everyday@1');
      expect(await other.locator('#scenario').inputValue()).toBe('steady-state-v1');
      expect(await other.locator('#policy-a').inputValue()).toBe('fixed:18.99');
      expect(await other.locator('#policy-b').inputValue()).toBe('registry:everyday@1');
      expect(await other.locator('#seed').inputValue()).toBe(query.get('seed'));
      await expect.poll(() => other.locator('#speed').inputValue()).toBe('max');
      expect(await other.locator('#stale-note').isVisible()).toBe(false);
      await other.screenshot({ path: join(artifactsFolder, '2b-share-link.png'), fullPage: true });
      // A link with a typo: the banner says so, the form keeps what the link said, the charts are marked as not loaded.
      await other.goto(`${server.url}/?scenario=steady-state-v1&a=fixd%3A17.99&seed=4`);
      await other.locator('#problems').waitFor({ state: 'visible' });
      expect(await other.locator('#problems').textContent()).toContain('fixd:17.99');
      expect(await other.locator('#policy-a').inputValue()).toBe('fixd:17.99');
      expect(await other.locator('#seed').inputValue()).toBe('4');
      await expect.poll(() => other.locator('#stale-note').isVisible()).toBe(true);
    } finally {
      await other.close();
    }
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
    expect(text).not.toMatch(/(^|[^\w.])-0(?![.,\d])/); // no negative zero
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

    // A training run: its steps, evaluation reward and share of the optimum in the runs table; its curve and KPIs on opening.
    const row = page.locator('tr', { has: page.locator(`button.open-run[data-run="${trainRunId}"]`) });
    expect(await row.textContent()).toContain('91.8%');
    await row.locator('button.open-run').click();
    await page.locator('#run-curve svg').waitFor();
    expect(await page.locator('#run-curve g.mark-symbol path').count()).toBeGreaterThanOrEqual(trainCurve.length);
    const kpis = (await page.locator('#run-kpis').textContent()) ?? '';
    expect(kpis).toContain('eval/meanReward');
    expect(kpis).toContain('evaluation mean: profit');
    await screenshot('4b-train-run');
    // A flat curve: axis labels with sensible significant digits, not "80,154.818000".
    await page.locator(`button.open-run[data-run="${flatRunId}"]`).click();
    await expect.poll(() => page.locator('#report h3').textContent()).toContain(flatRunId);
    await page.locator('#run-curve svg').waitFor();
    const yLabels = await page.locator('#run-curve g.role-axis', { has: page.locator('g.role-axis-title', { hasText: 'mean reward' }) }).locator('g.role-axis-label text').allTextContents();
    expect(yLabels.length).toBeGreaterThan(1);
    for (const label of yLabels) expect(label).toMatch(/^-?\d{1,3}(,\d{3})*(\.\d{1,2})?$/);
    await page.locator('#run-curve').screenshot({ path: join(artifactsFolder, '4c-flat-curve.png') });

    await page.click('#tab-registry');
    await expect.poll(() => page.locator('#registry-content').textContent()).toContain('everyday@1');
    expect(await page.locator('#registry-content').textContent()).toContain('e2e fixture');
    await screenshot('5-registry');
  });

  it('A vs B in a seasonal market: the headline is the interval for the days so far, with the day the verdict was reached', async () => {
    // singles-day-v1, A fixed:108.99, B festival:0.15, seed 1: B loses ~370 a day early, ~50 later; the
    // never-widening interval pins at about [-169.52, -169.45] while the mean is -89.31 (drifting).
    await page.click('#tab-live');
    await page.selectOption('#scenario', 'singles-day-v1');
    await page.fill('#policy-a', 'fixed:108.99');
    await page.fill('#policy-b', 'festival:0.15');
    await page.fill('#seed', '1');
    await page.click('#apply');
    await page.locator('#chart-difference svg').waitFor();
    await page.selectOption('#speed', 'max');
    await page.click('#start');
    await expect.poll(status, { timeout: 20_000 }).toBe('finished');
    const summary = page.locator('#ab-summary');
    await expect.poll(() => summary.textContent()).toContain('A vs B after 365 days');
    expect(await summary.getAttribute('data-basis')).toBe('days-so-far');
    const text = (await summary.textContent()) ?? '';
    const headline = /95% interval for the average daily difference so far \[(-?[\d,.]+), (-?[\d,.]+)\]/.exec(text);
    expect(headline).not.toBeNull();
    const [low, high] = [Number(headline?.[1]?.replace(/,/g, '')), Number(headline?.[2]?.replace(/,/g, ''))];
    expect(high - low).toBeGreaterThan(100); // not the 0.07-wide pinned interval
    expect(text).toMatch(/A earned more early on \(decided day \d+\); over the days so far the difference is not shown\./);
    expect(text).toContain('The daily difference changes over time');
    expect(text.indexOf('95% interval for the average daily difference so far')).toBeLessThan(text.indexOf('always-valid'));
    await summary.scrollIntoViewIfNeeded();
    await screenshot('6-a-vs-b-seasonal');
  });
});
