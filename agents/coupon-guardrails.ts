/**
 * Guardrails on a coupon action: a coupon market's action is a ladder price and a coupon
 * (env/coupons/coupon-menu.ts: priceIndex x (campaigns + 1) + campaign + 1). The price part is
 * still a price, so it passes through agents/guardrails.ts exactly as serving passes it
 * (serving/price-decision.ts: applyGuardrails on the policy's ladder, serving/coupon-reason.ts:
 * "the guardrails moved the price ..., the coupon stands as chosen"): the guardrails bound the
 * price, the coupon stands as chosen, and the played action is the bounded price's index with
 * the chosen campaign.
 *
 * Context in the coupon market: `lastPrice` is the price played the day before in the episode
 * (none on its first day, as a serving request without one); it has no rivals, so the
 * competitor-index rule is skipped, and its observation carries no festival date, so the
 * no-raise-before-festival rule is skipped too (each with its reason in the effects).
 *
 * CouponGuard keeps yesterday's price and a tally (agents/guarded-policy.ts) for one episode
 * at a time: compare (experiments/compare/run.ts) and the dashboard (ui/server/coupon-arm.ts)
 * play the guarded action.
 */
import { couponChoiceOf, type CouponMenu } from '../env/coupons/coupon-menu.js';
import { emptyTally, type GuardrailTally } from './guarded-policy.js';
import { applyGuardrails, assertGuardrailsFitLadder, type GuardedPrice, type Guardrails, type PricingContext } from './guardrails.js';

export interface GuardedCouponAction {
  /** The action played: the bounded price's index with the chosen campaign. */
  readonly action: number;
  /** The action the policy proposed. */
  readonly proposed: number;
  /** The chosen campaign (-1: no coupon), the same in both actions. */
  readonly campaign: number;
  readonly guarded: GuardedPrice;
}

/** The guardrails applied to the price part of a coupon action; the campaign is kept. */
export function guardCouponAction(action: number, menu: CouponMenu, prices: ArrayLike<number>, rules: Guardrails, context: PricingContext): GuardedCouponAction {
  const choice = couponChoiceOf(menu, action);
  const guarded = applyGuardrails(prices[choice.priceIndex] ?? Number.NaN, prices, rules, context);
  const width = menu.campaigns.length + 1;
  return { action: guarded.ladderIndex * width + choice.campaign + 1, proposed: action, campaign: choice.campaign, guarded };
}

/** The guardrails of one coupon arm over its episodes: reset at each episode start, then guard every day's action. */
export class CouponGuard {
  readonly tally: GuardrailTally = emptyTally();
  private lastPrice: number | undefined;

  constructor(
    private readonly rules: Guardrails,
    private readonly menu: CouponMenu,
    private readonly prices: ArrayLike<number>,
    private readonly unitCost: number,
  ) {
    assertGuardrailsFitLadder(rules, prices, ['guardrails']);
  }

  /** A new episode: no price played yet. */
  reset(): void {
    this.lastPrice = undefined;
  }

  /** The day's action under the guardrails; remembers the played price as tomorrow's last price. */
  guard(action: number): GuardedCouponAction {
    const result = guardCouponAction(action, this.menu, this.prices, this.rules, { lastPrice: this.lastPrice, unitCost: this.unitCost });
    // Tomorrow's last price is the price played (the ladder's, as the market plays it).
    this.lastPrice = this.prices[result.guarded.ladderIndex] ?? result.guarded.price;
    this.count(result);
    return result;
  }

  private count(result: GuardedCouponAction): void {
    const { guarded } = result;
    this.tally.decisions++;
    let adjusted = result.action !== result.proposed;
    for (const effect of guarded.effects) {
      if (effect.status === 'adjusted' && effect.rule !== 'ladder') {
        this.tally.byRule[effect.rule].adjusted++;
        adjusted = true;
      }
    }
    if (adjusted) this.tally.adjustments++;
    if (guarded.violations.length > 0) this.tally.violations++;
    for (const rule of guarded.violations) this.tally.byRule[rule].violated++;
  }
}
