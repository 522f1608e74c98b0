"""A numpy peer for `pricelab bench env`: the market a pricing scientist would otherwise
write in Python, vectorised over N markets. It follows pricelab's steady-state-v1 day:
three logit segments with reference prices, two rivals (fixed prices here, simpler than
pricelab's reactive ones), Poisson demand per segment, sales capped by stock, binomial
returns with a lag ring buffer, and (s, S) replenishment with a lead time. It does less
than pricelab per step (no weather chain, no festivals, no churn, no observation vector),
so the ratio it gives is, if anything, flattering to numpy.

Usage: python3 market_numpy.py MARKETS STEPS SEED  -> prints JSON {"stepsPerSecond": ..., "stepsPerCpuSecond": ...}
"""
import json
import sys
import time

import numpy as np

markets = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1

rng = np.random.default_rng(seed)
ladder = np.arange(12, 26) - 0.01
rates = np.array([45.0, 20.0, 12.0])
sensitivity = np.array([0.45, 0.2, 0.15])
gain = np.array([0.2, 0.0, 0.3])
loss = np.array([0.5, 0.0, 0.8])
memory = np.array([0.8, 0.0, 0.9])
rival_quality = np.array([7.5, 8.5])
rival_price = np.array([18.99, 23.99])
quality, cost = 8.0, 9.0
ring = 32

stock = np.full(markets, 800.0)
on_order = np.zeros(markets)
pipeline = np.zeros((markets, 6))
returns_due = np.zeros((markets, ring))
reference = np.full((markets, 3), 18.99)
rows = np.arange(markets)


def step(day, action):
    global stock, on_order
    price = ladder[action]                                               # (N,)
    ours = quality - sensitivity[None, :] * price[:, None]               # (N, S)
    ours += gain * np.maximum(reference - price[:, None], 0) - loss * np.maximum(price[:, None] - reference, 0)
    rivals = rival_quality[None, :] - sensitivity[:, None] * rival_price[None, :]  # (S, K)
    top = np.maximum(ours, np.maximum(rivals.max(axis=1)[None, :], 0.0))
    e_ours = np.exp(ours - top)
    denominator = e_ours + np.exp(rivals[None, :, :] - top[:, :, None]).sum(axis=2) + np.exp(-top)
    demand = rng.poisson(rates[None, :] * e_ours / denominator)          # (N, S)
    total = demand.sum(axis=1)
    sold = np.minimum(total, stock)
    stock -= sold
    reference[:] = memory * reference + (1 - memory) * price[:, None]
    returned = rng.binomial(sold.astype(np.int64), 0.05)
    lag = rng.integers(3, 30, size=markets)
    np.add.at(returns_due, (rows, (day + lag) % ring), returned)
    slot = day % ring
    back = returns_due[:, slot].copy()
    returns_due[:, slot] = 0
    stock += 0.7 * back
    arriving = pipeline[:, day % 6].copy()
    pipeline[:, day % 6] = 0
    stock += arriving
    on_order -= arriving
    if day % 7 == 0:
        position = stock + on_order
        order = np.where(position <= 300, 900 - position, 0)
        pipeline[:, (day + 5) % 6] += order
        on_order += order
    return price * sold - cost * sold - 0.02 * stock


actions = rng.integers(0, len(ladder), size=(steps, markets))
for day in range(50):
    step(day, actions[day])
start = time.perf_counter()
start_cpu = time.process_time()  # this process's CPU time: other jobs on a shared machine do not count
for day in range(steps):
    step(day, actions[day])
elapsed = time.perf_counter() - start
elapsed_cpu = time.process_time() - start_cpu
print(json.dumps({"peer": "market_numpy.py", "markets": markets, "steps": steps, "seconds": elapsed, "cpuSeconds": elapsed_cpu,
                  "stepsPerSecond": markets * steps / elapsed, "stepsPerCpuSecond": markets * steps / elapsed_cpu}))
