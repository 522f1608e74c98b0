/**
 * The live view on a coupon scenario (loaded from the dashboard's --scenarios folder), in
 * headless Chromium: arm A is a coupon rule (2.8 off at 10, every day), arm B a trained coupon
 * policy (`artifact:` under the runs folder, Q-learning on the same market). Stepped day by day,
 * the page shows each arm's coupon of the day, the coupon KPIs and the fairness panel exactly as
 * a coupon market stepped here by hand on the server's seed with the same actions gives them
 * (the rule's fixed action; the artifact restored and acting greedily on the same observations).
 * The stock, returns and refunds charts (flat in the coupon market) are left out; a coupon-cost
 * chart draws each arm's cumulative coupon cost, ending at the hand-played market's.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../agents/artifact.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import { CouponKpiAccumulator, type CouponKpis } from '../../env/coupons/coupon-kpis.js';
import type { CouponStepInfo } from '../../env/coupons/coupon-market.js';
import { prepareCouponTrainRun } from '../../experiments/coupon-train-run.js';
import { withoutRoundingNoise } from '../../experiments/compare/fairness.js';
import { cellsFromCouponSteps, fairnessReport, type FairnessReport } from '../../experiments/fairness.js';
import { restoredAgentFor } from '../../experiments/setup.js';
import { loadScenario } from '../../scenarios/load.js';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { couponChoiceScenario, writeCouponChoiceMarket } from '../agents/coupon-choice-market.js';
import { artifactsFolder, ensureClientBuilt, launchChromium, type Browser } from './browser.js';

const seed = 11;
const rule = 'coupon:1@10';
const attributes = { 'coupon-seekers': { incomeBand: 'low' }, regulars: { incomeBand: 'high' } };

let folder: string;
let policyFolder: string;
let server: DashboardServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  ensureClientBuilt();
  folder = mkdtempSync(join(tmpdir(), 'pricelab-coupon-dashboard-'));
  const scenarioFile = writeCouponChoiceMarket(folder);
  const prepared = await prepareCouponTrainRun(loadScenario(scenarioFile), { agent: 'q-learning', config: { gamma: 0 }, seed: 3, steps: 300, envs: 1, population: 1, exploringStarts: false, evalEpisodes: 1, keepBest: false } as unknown as Parameters<typeof prepareCouponTrainRun>[1]);
  policyFolder = (await prepared.run(join(folder, 'runs', 'q'))).policyFolder;
  server = await startDashboard({ port: 0, resultsHome: join(folder, 'home'), scenariosFolder: folder, runsFolder: join(folder, 'runs') });
  browser = await launchChromium();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

interface HandPlayed {
  readonly campaigns: string[];
  readonly kpis: CouponKpis;
  readonly fairness: FairnessReport;
}

/** A coupon market stepped by hand on the server's seed for `days` days, each day's action from `act`. */
function playByHand(days: number, act: (observation: Float32Array) => number): HandPlayed {
  const env = new CouponEnv(couponChoiceScenario());
  const kpis = new CouponKpiAccumulator(env.model.unitCost);
  let { observation } = env.reset({ seed });
  const steps: CouponStepInfo[] = [];
  for (let day = 0; day < days; day++) {
    const result = env.step(act(observation));
    kpis.record(env.market.state, 0);
    steps.push(result.info.coupon);
    observation = result.observation;
  }
  const fairness = withoutRoundingNoise(fairnessReport(cellsFromCouponSteps(steps, attributes), { sensitiveAttributes: ['incomeBand'], stages: true }));
  return { campaigns: steps.map((step) => step.campaignName), kpis: kpis.summary(), fairness };
}

async function handPlayed(days: number): Promise<[HandPlayed, HandPlayed]> {
  const ruleEnv = new CouponEnv(couponChoiceScenario());
  const ruleAction = ruleEnv.market.actionIndex({ priceIndex: 1, campaign: 1 });
  const artifact = readArtifact(policyFolder);
  const agent = await restoredAgentFor(ruleEnv, { kind: artifact.manifest.agentKind, config: artifact.manifest.agentConfig, files: artifact.files }, 0);
  try {
    return [playByHand(days, () => ruleAction), playByHand(days, (observation) => agent.act(observation, { explore: false }))];
  } finally {
    agent.dispose();
  }
}

const titleOf = (selector: string) => page.locator(selector).getAttribute('title');

async function stepTo(day: number): Promise<void> {
  await page.click('#step');
  await expect.poll(() => page.locator('#day').textContent()).toContain(`day ${day} of 20`);
}

/** The panel's figures for an arm against the hand-played market's report. */
async function expectPanel(arm: string, expected: FairnessReport): Promise<void> {
  for (const group of expected.byGroup) {
    expect(Number(await titleOf(`[data-fairness="${arm}:units:${group.label}"]`))).toBeCloseTo(group.units, 9);
    const price = await titleOf(`[data-fairness="${arm}:price:${group.label}"]`);
    if (group.effectivePrice === null) expect(price).toBeNull();
    else expect(Number(price)).toBeCloseTo(group.effectivePrice, 9);
  }
  expect(Number(await titleOf(`[data-fairness="${arm}:maxMinRatio"]`))).toBeCloseTo(expected.dispersion.maxMinRatio, 9);
  expect(Number(await titleOf(`[data-fairness="${arm}:coefficientOfVariation"]`))).toBeCloseTo(expected.dispersion.coefficientOfVariation, 9);
}

describe('the live view on a coupon scenario', () => {
  it('suggests the rules that play the coupon market: no coupon, each campaign, a fixed price', async () => {
    const response = await fetch(`${server.url}/api/policies?scenario=coupon-choice-known-answer-v1`);
    expect(((await response.json()) as { rules: string[] }).rules).toEqual(['none', 'coupon:0', 'coupon:1', 'coupon:2', 'fixed:10', 'list']);
  });

  it('shows the coupon each arm chose each day, the coupon KPIs and the fairness panel of a coupon market stepped on the same seed', async () => {
    const policyB = `artifact:${policyFolder}`;
    await page.goto(`${server.url}/?scenario=coupon-choice-known-answer-v1&a=${encodeURIComponent(rule)}&b=${encodeURIComponent(policyB)}&seed=${seed}&speed=1`);
    await expect.poll(() => page.locator('#status').textContent()).toBe('ready');
    const days = 6;
    const [ruleAt, learnedAt] = await handPlayed(days);
    for (let day = 1; day <= days; day++) {
      await stepTo(day);
      await expect.poll(() => page.locator('[data-coupon="A"]').getAttribute('data-day')).toBe(String(day - 1));
      expect(await page.locator('[data-coupon="A"]').textContent()).toBe(ruleAt.campaigns[day - 1]);
      await expect.poll(() => page.locator('[data-coupon="B"]').getAttribute('data-day')).toBe(String(day - 1));
      expect(await page.locator('[data-coupon="B"]').textContent()).toBe(learnedAt.campaigns[day - 1]);
    }
    expect(ruleAt.campaigns.every((campaign) => campaign === '2.8 off')).toBe(true);

    // KPIs after the last day: the hand-played market's.
    for (const [arm, played] of [['A', ruleAt], ['B', learnedAt]] as const) {
      expect(Number(await titleOf(`[data-kpi="${arm}:profit"]`))).toBeCloseTo(played.kpis.profit, 6);
      expect(Number(await titleOf(`[data-kpi="${arm}:couponCost"]`))).toBeCloseTo(played.kpis.couponCost, 6);
      expect(Number(await titleOf(`[data-kpi="${arm}:redemptionRate"]`))).toBeCloseTo(played.kpis.redemptionRate, 9);
      expect(Number(await titleOf(`[data-kpi="${arm}:incrementalUnitsPerCoupon"]`))).toBeCloseTo(played.kpis.incrementalUnitsPerCoupon, 9);
    }
    expect(ruleAt.kpis.couponCost).toBeGreaterThan(0);

    // The fairness panel: what the groups paid after the coupons chosen (2.8 off is claimed by the coupon seekers only, so they pay less).
    await expectPanel('A', ruleAt.fairness);
    await expectPanel('B', learnedAt.fairness);
    expect(ruleAt.fairness.dispersion.maxMinRatio).toBeGreaterThan(1);
    expect(await page.locator('#fairness .fairness-arm[data-arm="A"] .label').textContent()).toContain('after the coupons chosen');
    // The day-kernel charts drew the coupon days without a problem.
    expect(await page.locator('#problems').isHidden()).toBe(true);
    mkdirSync(artifactsFolder, { recursive: true });
    await page.screenshot({ path: join(artifactsFolder, 'coupon-dashboard.png'), fullPage: true });
  }, 120_000);

  it('hides the stock and returns charts (flat in the coupon market) and draws the cumulative coupon cost per arm', async () => {
    // The page of the test above, 6 days stepped.
    const days = 6;
    for (const flat of ['inventory', 'returns', 'refunds']) expect(await page.locator(`#chart-${flat}`).count(), flat).toBe(0);
    for (const shown of ['price-A', 'price-B', 'units', 'money', 'coupon-cost']) expect(await page.locator(`#chart-${shown}`).count(), shown).toBe(1);
    const [ruleAt, learnedAt] = await handPlayed(days);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#chart-coupon-cost .export-csv')]);
    const rows = readFileSync((await csv.path()) ?? '', 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
    const lastOf = (arm: string) => rows.filter((row) => row[1] === arm).sort((a, b) => Number(a[0]) - Number(b[0])).at(-1);
    // Arm A's coupon costs something every day: its line is drawn, ending at the hand-played coupon cost.
    expect(Number(lastOf('A')?.[0])).toBe(days - 1);
    expect(Number(lastOf('A')?.[3])).toBeCloseTo(ruleAt.kpis.couponCost, 6);
    // Arm B's line is drawn once it has a value other than 0 (charts.ts): then it ends at its own coupon cost.
    if (learnedAt.kpis.couponCost > 0) expect(Number(lastOf('B')?.[3])).toBeCloseTo(learnedAt.kpis.couponCost, 6);
    else expect(lastOf('B')).toBeUndefined();
    await page.screenshot({ path: join(artifactsFolder, 'coupon-dashboard-charts.png'), fullPage: true });
  }, 60_000);
});
