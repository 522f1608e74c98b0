/**
 * The fairness panel of the live view, under the KPI tiles: for each arm, the effective price
 * paid so far this episode by group (segment; segment/stage where the scenario has coupons),
 * its spread (coefficient of variation), its max/min ratio with the groups that set it, and the
 * share of its variance each sensitive attribute of the scenario explains (eta^2). Redrawn with
 * every frame from the figures the server computed (ui/server/effective-prices.ts).
 *
 * Every figure carries `data-fairness="<arm>:<figure>"` and its exact value in the title
 * (shown on hover; tests read it): the text rounds.
 */
import type { FairnessFigures } from '../shared/events.js';
import { element, formatNumber } from './dom.js';

const armNames = ['A', 'B'] as const;

/** A figure: its text, with the exact value in the title. */
function figure(arm: string, name: string, text: string, exact: number | string | null): HTMLElement {
  return element('span', { class: 'figure', 'data-fairness': `${arm}:${name}`, ...(exact === null ? {} : { title: String(exact) }) }, text);
}

function armPanel(arm: string, figures: FairnessFigures): HTMLElement {
  const rows = figures.byGroup.map((group) =>
    element(
      'tr',
      {},
      element('td', {}, group.label),
      element('td', {}, figure(arm, `units:${group.label}`, formatNumber(group.units, 0), group.units)),
      element('td', {}, figure(arm, `price:${group.label}`, group.effectivePrice === null ? '–' : formatNumber(group.effectivePrice, 2), group.effectivePrice)),
    ),
  );
  const spread =
    figures.highest === null
      ? element('span', {}, 'every group paid the same')
      : element('span', {}, figure(arm, 'highest', figures.highest, figures.highest), ' over ', figure(arm, 'lowest', figures.lowest ?? '–', figures.lowest));
  return element(
    'div',
    { class: 'fairness-arm', 'data-arm': arm },
    element('span', { class: 'label' }, `${arm}: effective price by ${figures.groupedBy}${figures.market === 'coupon market' ? (figures.couponsChosen ? ' (coupon market, after the coupons chosen)' : ' (coupon market, no coupon)') : ''}`),
    element('table', {}, element('thead', {}, element('tr', {}, element('th', {}, figures.groupedBy === 'segment' ? 'segment' : 'segment/stage'), element('th', {}, 'units'), element('th', {}, 'paid / unit'))), element('tbody', {}, ...rows)),
    element(
      'p',
      { class: 'fairness-spread' },
      'max/min ratio ',
      figure(arm, 'maxMinRatio', formatNumber(figures.maxMinRatio, 3), figures.maxMinRatio),
      ' (',
      spread,
      '); coefficient of variation ',
      figure(arm, 'coefficientOfVariation', formatNumber(figures.coefficientOfVariation, 4), figures.coefficientOfVariation),
      ...figures.sensitive.flatMap((share) => [`; ${share.attribute} explains `, figure(arm, `eta2:${share.attribute}`, `${formatNumber(share.etaSquared * 100, 1)}%`, share.etaSquared), ' (eta²)']),
    ),
  );
}

/** Draws the panel for the arms' latest figures (nothing before the first frame). */
export function renderFairness(container: HTMLElement, arms: readonly (FairnessFigures | undefined)[]): void {
  const panels = arms.flatMap((figures, index) => (figures ? [armPanel(armNames[index] ?? String(index), figures)] : []));
  container.hidden = panels.length === 0;
  container.replaceChildren(...(panels.length === 0 ? [] : [element('h2', {}, 'Who pays what (effective price paid so far)'), element('div', { class: 'fairness-arms' }, ...panels)]));
}
