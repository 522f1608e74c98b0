/**
 * The day's floor: what a hand-tight kernel of steady-state-v1's day costs in V8, beside the
 * real vector env and the numpy peer, measured in one run (docs/performance.md, "The
 * floor"). Not pricelab's simulator: a measurement of how fast the same work could go.
 *
 * It runs the day as structure-of-arrays loops over N markets, one function per stage,
 * with steady-state-v1's shape fixed in constants (3 segments, 2 rivals, 2 return groups,
 * a 14-price ladder): logit demand with reference effects, Poisson demand per group,
 * sales capped by stock, loyalty churn and reference prices, binomial returns with lag
 * rings, (s, S) orders, an undercutting and a random-walk rival, a weather path at reset,
 * a 24-feature observation. It keeps less bookkeeping than pricelab's day (no outcome
 * record, a few KPIs, no festivals or textbook branches), so it is a floor on the cost and
 * a ceiling on the speed. Its samplers are pricelab's own (dist/env/sampling.js,
 * dist/env/fast-exp.js, dist/core/random.js).
 *
 * Usage (after `npm run build`): node bench/kernel-floor.mjs [seconds=3]  -> JSON
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { fastExp } = await import(join(root, 'dist/env/fast-exp.js'));
const { poissonFromUniform, binomialFromUniform } = await import(join(root, 'dist/env/sampling.js'));
const { RandomStream, derivedUniform, uniformToKey } = await import(join(root, 'dist/core/random.js'));
const { VectorEnv } = await import(join(root, 'dist/env/vector-env.js'));
const { buildMarketModel } = await import(join(root, 'dist/env/model.js'));
const { loadScenario } = await import(join(root, 'dist/scenarios/load.js'));
const seconds = Number(process.argv[2] ?? 3);

function floorKernel(N) {
  const H = 365, S = 3, F = 3, G = 2, L = 14, RING = 64, PIPE = 8, FEAT = 24;
  const ladder = Float64Array.from({ length: L }, (_, i) => 12 + i - 0.01);
  const rates = [45, 20, 12];
  const sens = [0.45, 0.2, 0.15];
  const hasRef = [1, 0, 1], gain = [0.2, 0, 0.3], loss = [0.5, 0, 0.8], memory = [0.8, 0, 0.9];
  const groupOf = Int32Array.from([0, 1, 1]);
  const rivalQuality = [0, 7.5, 8.5];
  const quality = 8, cost = 9;
  const hasLoyalty = Int32Array.from([0,0,1]);
  let Sv = Number(process.env.S ?? 3), Fv = Number(process.env.F ?? 3), Gv = Number(process.env.G ?? 2);
  // tables
  const rateTable = new Float64Array(H * 8 * S); // [day][weatherIndex][segment]
  for (let d = 0; d < H; d++) for (let w = 0; w < 8; w++) for (let s = 0; s < S; s++) rateTable[(d * 8 + w) * S + s] = rates[s] * (1 + 0.02 * (w % 4));
  const ourWeight = new Float64Array(S * L);
  for (let s = 0; s < S; s++) for (let i = 0; i < L; i++) ourWeight[s * L + i] = Math.exp(quality - sens[s] * ladder[i] - 8.5);
  const outsideW = Float64Array.from({ length: S }, () => Math.exp(-8.5));
  const retP = new Float64Array(2 * L * G), retLog = new Float64Array(2 * L * G);
  for (let k = 0; k < 2 * L * G; k++) { retP[k] = 0.05 + 0.001 * (k % 7); retLog[k] = Math.log1p(-retP[k]); }
  const lagCum = Float64Array.from({ length: 28 }, (_, k) => 1 - Math.exp(-(k + 1) / 8));
  lagCum[27] = 1;
  // state
  const day = new Int32Array(N);
  const stock = new Float64Array(N).fill(800), onOrder = new Float64Array(N), pipeline = new Float64Array(N * PIPE);
  const retDue = new Float64Array(N * RING), refDue = new Float64Array(N * RING), restockDue = new Float64Array(N * RING);
  const pending = new Float64Array(N);
  const refPrice = new Float64Array(N * S).fill(18.99), active = new Float64Array(N * S).fill(1);
  const changeHist = new Uint8Array(N * 8), changes = new Int32Array(N);
  const lastPrice = new Float64Array(N).fill(18.99), price = new Float64Array(N);
  const prices = new Float64Array(N * F), lastPrices = new Float64Array(N * F), regular = new Float64Array(N * F);
  const rivalWPrice = new Float64Array(N * S * F).fill(NaN), rivalW = new Float64Array(N * S * F);
  const weather = new Int8Array(N * (H + 1)), temps = new Float64Array(N * (H + 1));
  const groupMean = new Float64Array(N * G), groupDemand = new Float64Array(N * G), groupSold = new Float64Array(N * G);
  const demand = new Float64Array(N), sold = new Float64Array(N), reward = new Float64Array(N), firmDemand = new Float64Array(N * F);
  const kpi = new Float64Array(N * 12);
  const obs = new Float32Array(N * FEAT);
  // four streams per market (customers, returns, weather, competitors), as pricelab's
  const streams = Array.from({ length: N * 4 }, (_, j) => new RandomStream(j, ['customers', 'returns', 'weather', 'competitors'][j % 4]));
  function seed(m, e) { for (let k = 0; k < 4; k++) streams[m * 4 + k].reseed(`${m}:${e}`, String(k)); }
  function next(j) { return streams[j].next(); }
  const fexp = fastExp;
  function resetMarket(m, e) {
    seed(m, e); day[m] = 0; stock[m] = 800; onOrder[m] = 0; pending[m] = 0;
    for (let k = 0; k < PIPE; k++) pipeline[m * PIPE + k] = 0;
    for (let k = 0; k < RING; k++) { retDue[m * RING + k] = 0; refDue[m * RING + k] = 0; restockDue[m * RING + k] = 0; }
    for (let s = 0; s < S; s++) { refPrice[m * S + s] = 18.99; active[m * S + s] = 1; }
    regular[m * F + 1] = 18.99; regular[m * F + 2] = 23.99; prices[m * F + 1] = 18.99; prices[m * F + 2] = 23.99;
    // weather path: Markov chain + temperature noise (one uniform-quantile, cheap)
    let w = 1;
    for (let d = 0; d <= H; d++) { const u = next(m * 4 + 2); w = u < 0.6 ? w : (w + 1 + ((u * 10) | 0) % 3) & 3; weather[m * (H + 1) + d] = w; const z = next(m * 4 + 2) - 0.5; next(m * 4 + 2); temps[m * (H + 1) + d] = 15 + 8 * z; }
    for (let k = 0; k < 12; k++) kpi[m * 12 + k] = 0;
  }
  for (let m = 0; m < N; m++) resetMarket(m, 0);
  function stage_post(actions) {
    for (let m = 0; m < N; m++) { const p = ladder[actions[m]]; price[m] = p; prices[m * F] = p; }
  }
  function stage_demand(actions) {
    for (let m = 0; m < N; m++) {
      const d = day[m], a = actions[m], p = price[m];
      const wi = weather[m * (H + 1) + d] * 2 + ((d % 7) >= 5 ? 1 : 0);
      const tf = 1 + 0.001 * temps[m * (H + 1) + d];
      const rbase = (d * 8 + wi) * S;
      for (let f = 1; f < Fv; f++) firmDemand[m * Fv + f] = 0;
      for (let s = 0; s < Sv; s++) {
        const rate = rateTable[rbase + s] * tf * active[m * S + s];
        let w0 = ourWeight[s * L + a];
        if (hasRef[s] === 1) { const r = refPrice[m * S + s]; const eff = p < r ? gain[s] * (r - p) : -loss[s] * (p - r); if (eff !== 0) w0 *= fexp(eff); }
        let den = outsideW[s] + w0;
        const slot = (m * S + s) * F;
        for (let f = 1; f < Fv; f++) {
          const rp = prices[m * Fv + f];
          if (rivalWPrice[slot + f] !== rp) { rivalWPrice[slot + f] = rp; rivalW[slot + f] = fexp(rivalQuality[f] - sens[s] * rp - 8.5); }
          den += rivalW[slot + f];
        }
        const sr = rate / den;
        for (let f = 1; f < Fv; f++) firmDemand[m * Fv + f] += sr * rivalW[slot + f];
        groupMean[m * G + groupOf[s]] += sr * w0;
      }
      let total = 0;
      for (let g = 0; g < Gv; g++) { const u = next(m * 4); const k = poissonFromUniform(groupMean[m * G + g], u); groupMean[m * G + g] = 0; groupDemand[m * G + g] = k; total += k; }
      demand[m] = total;
    }
  }
  function stage_sell(_actions) {
    for (let m = 0; m < N; m++) {
      const dmd = demand[m], sd = Math.min(dmd, stock[m]); stock[m] -= sd; sold[m] = sd;
      const share = dmd > 0 ? sd / dmd : 0;
      for (let g = 0; g < Gv; g++) groupSold[m * G + g] = share >= 1 ? groupDemand[m * G + g] : Math.floor(groupDemand[m * G + g] * share);
    }
  }
  function stage_loyalty(_actions) {
    for (let m = 0; m < N; m++) {
      const d = day[m], p = price[m], changed = d > 0 && Math.abs(p - lastPrice[m]) > 1e-9 ? 1 : 0;
      changeHist[m * 8 + (d & 7)] = changed; changes[m] += changed - (d >= 7 ? changeHist[m * 8 + ((d - 7) & 7)] : 0);
      for (let s = 0; s < Sv; s++) {
        const r = refPrice[m * S + s];
        if (hasLoyalty[s] === 1) { const a = active[m * S + s]; const prem = p / r - 1; let churn = 0.05 * Math.max(0, prem - 0.1) * a; if (changes[m] > 3) churn += 0.01 * a; churn = Math.min(churn, a); const rec = churn === 0 && prem <= 0.1 ? 0.02 * (1 - a) : 0; active[m * S + s] = a - churn + rec; kpi[m * 12 + 5] += churn * 2000; }
        if (hasRef[s] === 1) refPrice[m * S + s] = memory[s] * r + (1 - memory[s]) * p;
      }
    }
  }
  function stage_returns(actions) {
    for (let m = 0; m < N; m++) {
      const d = day[m], a = actions[m], p = price[m];
      let returned = 0, key = 0;
      for (let g = 0; g < Gv; g++) {
        const u = next(m * 4 + 1); const units = groupSold[m * G + g]; if (!(units > 0)) continue;
        const c = binomialFromUniform(units, retP[a * G + g], u, retLog[a * G + g]);
        if (c > 0 && returned === 0) key = uniformToKey(u);
        returned += c;
      }
      for (let k = 0; k < returned; k++) {
        const uu = derivedUniform(key, k); let li = 0; while (li < 27 && uu >= lagCum[li]) li++;
        const slot = m * RING + ((d + 3 + li) & 63); retDue[slot] += 1; refDue[slot] += p;
        if (uu < 0.7) restockDue[m * RING + ((d + 3 + li + 2) & 63)] += 1;
      }
      pending[m] += returned;
      const slot = m * RING + (d & 63);
      const back = retDue[slot]; const refunds = refDue[slot]; const restock = restockDue[slot];
      retDue[slot] = 0; refDue[slot] = 0; restockDue[slot] = 0; pending[m] -= back;
      stock[m] += restock;
      // inventory
      const ps = m * PIPE + (d & 7); const arriving = pipeline[ps]; pipeline[ps] = 0; stock[m] += arriving; onOrder[m] -= arriving;
      if (d % 7 === 0) { const pos = stock[m] + onOrder[m]; if (pos <= 300) { const q = 900 - pos; pipeline[m * PIPE + ((d + 5) & 7)] += q; onOrder[m] += q; } }
      const profit = p * sold[m] - refunds - cost * sold[m] + cost * restock - 0.02 * stock[m] - 1.5 * back - 0.5 * (demand[m] - sold[m]);
      reward[m] = profit;
      const kb = m * 12; kpi[kb] += profit; kpi[kb + 1] += p * sold[m]; kpi[kb + 2] += sold[m]; kpi[kb + 3] += demand[m] - sold[m]; kpi[kb + 4] += back; kpi[kb + 6] += refunds; kpi[kb + 7] += p;
    }
  }
  function stage_rivals(_actions) {
    for (let m = 0; m < N; m++) {
      const d = day[m] + 1;
      for (let f = 0; f < F; f++) lastPrices[m * F + f] = prices[m * F + f];
      lastPrice[m] = price[m];
      if (d % 2 === 0) { const low = Math.min(lastPrices[m * F], lastPrices[m * F + 2]); regular[m * F + 1] = Math.min(40, Math.max(0.01, Math.max(low - 0.5, 9.35))); }
      const u = next(m * 4 + 3);
      if (d % 3 === 0) { const pr = regular[m * F + 2] + (2 * u - 1) * 0.5; regular[m * F + 2] = Math.min(26, Math.max(20, pr)); }
      prices[m * F + 1] = Math.max(0.01, regular[m * F + 1]); prices[m * F + 2] = Math.max(0.01, regular[m * F + 2]);
      day[m] = d;
    }
  }
  function stage_observation(_actions) {
    for (let m = 0; m < N; m++) {
      const d = day[m];
      if (d >= H) { resetMarket(m, d); }
      const o = m * FEAT, dd = day[m];
      obs[o] = lastPrice[m] / 25; obs[o + 1] = (refPrice[m * S] + refPrice[m * S + 2]) / 50; obs[o + 2] = prices[m * F + 1] / 25; obs[o + 3] = prices[m * F + 2] / 25;
      obs[o + 4] = stock[m] / 800; obs[o + 5] = onOrder[m] / 800; obs[o + 6] = (stock[m] + onOrder[m] - 300) / 800; obs[o + 7] = sold[m] / 30; obs[o + 8] = pending[m] / 30;
      obs[o + 9] = (H - dd) / H; obs[o + 10] = Math.min(7, H - dd) / 7;
      for (let k = 0; k < 4; k++) obs[o + 11 + k] = ((dd * 3 + k) % 5) / 5;
      const w = weather[m * (H + 1) + dd], wt = weather[m * (H + 1) + dd + 1];
      for (let k = 0; k < 4; k++) { obs[o + 15 + k] = w === k ? 1 : 0; obs[o + 19 + k] = wt === k ? 1 : 0; }
      obs[o + 23] = temps[m * (H + 1) + dd] / 40;
    }
  }
  function stepAll(actions) {
    stage_post(actions);
    stage_demand(actions);
    stage_sell(actions);
    stage_loyalty(actions);
    stage_returns(actions);
    stage_rivals(actions);
    stage_observation(actions);
  }
  return stepAll;
}

/** Median of three timed runs after a warm-up, in steps per CPU-second (this process's CPU time). */
function stepsPerCpuSecond(step, markets) {
  const run = (budget) => {
    let steps = 0;
    const wall = performance.now();
    const cpu = process.cpuUsage();
    while (performance.now() - wall < budget * 1000) {
      for (let batch = 0; batch < 16; batch++) step(batch);
      steps += 16 * markets;
    }
    const used = process.cpuUsage(cpu);
    return steps / ((used.user + used.system) / 1e6);
  };
  run(Math.max(0.5, seconds / 2));
  return [run(seconds / 3), run(seconds / 3), run(seconds / 3)].sort((a, b) => a - b)[1];
}

function floor(markets) {
  const stepAll = floorKernel(markets);
  const sets = Array.from({ length: 64 }, (_, round) => Int32Array.from({ length: markets }, (_, market) => (round * 7 + market * 3) % 14));
  let round = 0;
  return stepsPerCpuSecond(() => stepAll(sets[round++ & 63]), markets);
}

function pricelabVector(markets) {
  const env = new VectorEnv(buildMarketModel(loadScenario('steady-state-v1').scenario), { count: markets, seed: 1 });
  env.reset();
  const sets = Array.from({ length: 64 }, (_, round) => Int32Array.from({ length: markets }, (_, market) => (round * 7 + market * 3) % env.actionSpace.n));
  let round = 0;
  return stepsPerCpuSecond(() => env.step(sets[round++ & 63]), markets);
}

const peerRun = spawnSync('python3', [join(root, 'bench/peers/market_numpy.py'), '1024', String(Math.round(1000 * seconds)), '1'], { encoding: 'utf8' });
const peer = peerRun.status === 0 ? JSON.parse(peerRun.stdout) : { skipped: (peerRun.stderr || String(peerRun.error)).trim().split('\n').pop() };
const rows = [1, 16, 1024].map((markets) => ({ markets, floorStepsPerCpuSecond: floor(markets), pricelabStepsPerCpuSecond: pricelabVector(markets) }));
const peerRate = peer.stepsPerCpuSecond;
console.log(
  JSON.stringify(
    {
      benchmark: 'kernel-floor',
      scenario: 'steady-state-v1',
      node: process.version,
      peer,
      rows: rows.map((row) => ({
        ...row,
        floorOverPricelab: row.floorStepsPerCpuSecond / row.pricelabStepsPerCpuSecond,
        ...(peerRate ? { floorOverPeer: row.floorStepsPerCpuSecond / peerRate, pricelabOverPeer: row.pricelabStepsPerCpuSecond / peerRate } : {}),
      })),
    },
    null,
    2,
  ),
);
