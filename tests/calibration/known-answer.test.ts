/**
 * Known answers: logs simulated by the market (tests/calibration/simulated-log.ts) are
 * calibrated, and the 95% intervals must cover the true quality and price sensitivity in at
 * least 90% of the repetitions; the fitted expected-profit curve over the ladder must stay
 * within 5% of the true one. Each repetition is a year of daily sales under random ladder
 * prices, with its own seed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrateFile } from '../../calibration/calibrate.js';
import { logitShare } from '../../calibration/logit-poisson.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { buildMarketModel } from '../../env/model.js';
import { validateScenario } from '../../scenarios/load.js';
import { oneSegmentScenario, simulateSalesLog } from './simulated-log.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-calibration-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const repetitions = 200;
const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] }, 'map');

describe('calibration on simulated logs (known answers)', () => {
  const scenario = oneSegmentScenario();
  if (scenario.demand.kind !== 'logit') throw new Error('logit expected');
  const truth = { quality: scenario.demand.quality, sensitivity: scenario.demand.segments[0]!.priceSensitivity, rivals: scenario.competitors.map((rival) => rival.quality) };
  const ladder = Array.from(buildMarketModel(scenario).ladder);

  it(`covers the true quality and price sensitivity in >= 90% of ${repetitions} repetitions, and fits the profit curve within 5%`, async () => {
    let coversQuality = 0;
    let coversSensitivity = 0;
    let coversRivals = 0;
    let rivalsUnidentified = 0;
    // The weekday profile read from traffic, against the scenario's own (normalised to mean 1).
    const profile = scenario.curves.dayOfWeek;
    if (!Array.isArray(profile)) throw new Error('steady-state-v1 has a weekday profile');
    const profileMean = profile.reduce((total, value) => total + value, 0) / 7;
    let weekdayChecks = 0;
    let predictiveCoverage = 0;
    let weekdaysCovered = 0;
    const worstProfitErrors: number[] = [];
    const regrets: number[] = [];
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const log = simulateSalesLog(scenario, 1000 + repetition);
      const path = join(folder, `sales-${repetition}.csv`);
      writeFileSync(path, log.csv);
      const result = await calibrateFile(path, { map, periodLength: 'day', holdout: 0 });
      const [quality, sensitivity, ...rivals] = result.fit.parameters;
      if (quality!.lower <= truth.quality && truth.quality <= quality!.upper) coversQuality++;
      if (sensitivity!.lower <= truth.sensitivity && truth.sensitivity <= sensitivity!.upper) coversSensitivity++;
      // A rival seldom chosen can have its quality's MLE at minus infinity in a sample (no
      // information left: the interval is NaN and the scenario leaves it out); coverage of the
      // rivals is counted over the repetitions where both are identified.
      if (rivals.some((rival) => !Number.isFinite(rival.standardError))) rivalsUnidentified++;
      else if (rivals.every((rival, index) => rival.lower <= (truth.rivals[index] ?? 0) && (truth.rivals[index] ?? 0) <= rival.upper)) coversRivals++;
      predictiveCoverage += result.predictiveCoverage90 / repetitions;
      for (const [index, truthValue] of profile.entries()) {
        const weekday = result.record.estimates.find((estimate) => estimate.scenarioPath === `curves.dayOfWeek[${index}]`);
        weekdayChecks++;
        if (weekday && weekday.lower <= truthValue / profileMean && truthValue / profileMean <= weekday.upper) weekdaysCovered++;
      }
      // Expected profit per day at each ladder price, rivals at their mean logged prices.
      const trueTheta = [truth.quality, truth.sensitivity, ...truth.rivals];
      const profit = (theta: ArrayLike<number>, price: number) => log.meanTraffic * logitShare(theta, price, [], log.meanRivalPrices) * (price - scenario.unitCost);
      // The curves' largest gap, relative to the true curve's peak (the sup norm: a relative
      // error at each price would judge the far tail, where profit is nearly zero).
      const trueCurve = ladder.map((price) => profit(trueTheta, price));
      const fittedCurve = ladder.map((price) => profit(result.fit.theta, price));
      const peak = Math.max(...trueCurve);
      worstProfitErrors.push(Math.max(...trueCurve.map((value, index) => Math.abs((fittedCurve[index] ?? 0) - value))) / peak);
      // The price the fitted curve recommends earns nearly the true optimum.
      const chosen = fittedCurve.indexOf(Math.max(...fittedCurve));
      regrets.push(1 - (trueCurve[chosen] ?? 0) / peak);
      if (repetition === 0) {
        // The scenario written is loadable, and carries the fit and its source.
        const loaded = validateScenario(result.scenario, 'calibrated');
        expect(loaded.calibration?.source.rows).toBe(365);
        expect(loaded.calibration?.source.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(loaded.calibration?.fit.intervalMethod).toContain('Poisson');
      }
    }
    // PRICELAB_REPORT_FIGURES=<file> keeps the figures (coverage counts, regret) for docs/calibration.md.
    const figuresFile = process.env.PRICELAB_REPORT_FIGURES;
    const within = worstProfitErrors.filter((error) => error <= 0.05).length;
    const summary = { coversQuality, coversSensitivity, coversRivals, rivalsUnidentified, weekdaysCovered, weekdayChecks, predictiveCoverage, profitWithin5Percent: within, largestRegret: Math.max(...regrets), repetitions };
    if (figuresFile) writeFileSync(figuresFile, `${JSON.stringify({ ...summary, largestProfitGap: Math.max(...worstProfitErrors) })}\n`);
    expect(summary.coversQuality / repetitions, JSON.stringify(summary)).toBeGreaterThanOrEqual(0.9);
    expect(summary.coversSensitivity / repetitions, JSON.stringify(summary)).toBeGreaterThanOrEqual(0.9);
    expect(summary.coversRivals / (repetitions - rivalsUnidentified), JSON.stringify(summary)).toBeGreaterThanOrEqual(0.85);
    expect(summary.profitWithin5Percent / repetitions, JSON.stringify(summary)).toBeGreaterThanOrEqual(0.9);
    expect(summary.largestRegret, JSON.stringify(summary)).toBeLessThanOrEqual(0.01);
    expect(summary.weekdaysCovered / summary.weekdayChecks, JSON.stringify(summary)).toBeGreaterThanOrEqual(0.9);
    // Units inside their 90% Poisson band: at least 0.9 (integer quantiles), not far above.
    expect(summary.predictiveCoverage, JSON.stringify(summary)).toBeGreaterThanOrEqual(0.88);
    expect(summary.predictiveCoverage, JSON.stringify(summary)).toBeLessThanOrEqual(0.97);
  }, 60_000);
});

describe('calibration without a traffic column (known answers)', () => {
  const scenario = oneSegmentScenario();
  const noTraffic = parseColumnMap({ date: 'date', units: 'units', price: 'price', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] }, 'map');
  const repetitions = 60;

  it(`fits weekday arrival effects whose intervals cover the scenario's own weekday ratios in >= 80% of ${repetitions} x 6 checks`, async () => {
    const profile = scenario.curves.dayOfWeek;
    if (!Array.isArray(profile)) throw new Error('steady-state-v1 has a weekday profile');
    let checks = 0;
    let covered = 0;
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const path = join(folder, `no-traffic-${repetition}.csv`);
      writeFileSync(path, simulateSalesLog(scenario, 5000 + repetition).csv);
      const result = await calibrateFile(path, { map: noTraffic, periodLength: 'day', holdout: 0 });
      const effects = result.fit.parameters.filter((parameter) => parameter.name.startsWith('arrival:'));
      expect(effects.map((effect) => effect.name)).toEqual(['Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].map((day) => `arrival:${day}`));
      effects.forEach((effect, index) => {
        const truth = Math.log((profile[index + 1] ?? 1) / (profile[0] ?? 1));
        checks++;
        if (effect.lower <= truth && truth <= effect.upper) covered++;
      });
      const written = result.scenario.curves?.dayOfWeek;
      expect(Array.isArray(written) && written.length === 7).toBe(true);
      if (Array.isArray(written)) expect(written.reduce((total, value) => total + value, 0) / 7).toBeCloseTo(1, 4);
    }
    // Measured: 87.5% over 40 years (91.7% with --likelihood negative-binomial). Below 95%
    // because the season and the weather, unmodelled without traffic, add multiplicative
    // noise that a quasi-Poisson scaling only approximates.
    expect(covered / checks, `${covered}/${checks}`).toBeGreaterThanOrEqual(0.8);
  }, 60_000);
});
