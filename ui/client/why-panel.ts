/**
 * "Why this price?" for one day of one arm: what the policy saw (every observation
 * feature by name, in raw units), what it wanted (its action values, arm statistics, or
 * its rule), and what each guardrail did to that price, in the guardrails' fixed order.
 */
import type { DayExplanation } from '../shared/events.js';
import { element, formatNumber, table } from './dom.js';

export function renderExplanation(panel: HTMLElement, explanation: DayExplanation): void {
  const arm = explanation.arm === 0 ? 'A' : 'B';
  const moved = Math.abs(explanation.price - explanation.proposedPrice) > 1e-9;
  const headline = element(
    'p',
    { class: 'headline' },
    `Day ${explanation.day}, arm ${arm} (${explanation.policy}): the policy proposed `,
    element('strong', {}, formatNumber(explanation.proposedPrice)),
    moved ? `, the guardrails moved it to ` : `, the guardrails kept it: `,
    element('strong', { 'data-testid': 'served-price' }, formatNumber(explanation.price)),
    '.',
  );
  const features = table(
    ['feature', 'value'],
    explanation.features.map((feature) => [feature.name, formatNumber(feature.value, 3)]),
  );
  const guardrails = table(
    ['guardrail', 'effect', 'before', 'after', 'why'],
    explanation.guardrails.effects.map((effect) => [effect.rule, element('span', { class: `effect ${effect.status}` }, effect.status), formatNumber(effect.before), formatNumber(effect.after), effect.explanation]),
  );
  guardrails.classList.add('guardrails');
  panel.replaceChildren(
    element('h3', {}, 'Why this price?'),
    headline,
    element('div', { class: 'why-columns' }, element('section', {}, element('h4', {}, 'What it saw'), features), element('section', {}, element('h4', {}, 'What it wanted'), decisionOf(explanation))),
    element('h4', {}, 'What the guardrails did'),
    guardrails,
    ...(explanation.guardrails.violations.length > 0 ? [element('p', { class: 'warning' }, `The served price breaks: ${explanation.guardrails.violations.join(', ')} (conflicting rules).`)] : []),
  );
  panel.hidden = false;
}

function decisionOf(explanation: DayExplanation): HTMLElement {
  const decision = explanation.decision;
  const priceOf = (index: number) => formatNumber(explanation.ladder[index] ?? Number.NaN);
  switch (decision.kind) {
    case 'rule':
      return element('p', { class: 'rule' }, `A rule: ${decision.description}. It chose ${priceOf(decision.chosen)}.`);
    case 'action-values': {
      const best = Math.max(...decision.values);
      const worst = Math.min(...decision.values);
      return bars(
        'action value',
        decision.values.map((value, index) => ({ label: priceOf(index), value, share: best > worst ? (value - worst) / (best - worst) : 1, chosen: index === decision.chosen })),
      );
    }
    case 'arm-statistics': {
      const best = Math.max(...decision.arms.map((arm) => arm.meanReward));
      return bars(
        'mean reward (pulls)',
        decision.arms.map((arm) => ({ label: priceOf(arm.index), value: arm.meanReward, share: best > 0 ? Math.max(0, arm.meanReward / best) : 0, chosen: arm.index === decision.chosen, note: `${arm.pulls}` })),
      );
    }
  }
}

function bars(title: string, rows: readonly { label: string; value: number; share: number; chosen: boolean; note?: string }[]): HTMLElement {
  return table(
    ['price', title],
    rows.map((row) => [
      row.chosen ? element('strong', {}, `${row.label} (chosen)`) : row.label,
      element('span', { class: 'bar-cell' }, element('span', { class: `bar${row.chosen ? ' chosen' : ''}`, style: `width: ${Math.round(row.share * 100)}%` }), `${formatNumber(row.value)}${row.note === undefined ? '' : ` (${row.note})`}`),
    ]),
  );
}
