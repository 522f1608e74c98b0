/** A small helper for building DOM nodes: element('td', {class: 'number'}, '12.99'). */
export function element<Tag extends keyof HTMLElementTagNameMap>(
  tag: Tag,
  attributes: Readonly<Record<string, string>> = {},
  ...children: readonly (Node | string)[]
): HTMLElementTagNameMap[Tag] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** The element with this id, which the page must have. */
export function byId<Type extends HTMLElement>(id: string): Type {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as Type;
}

/** A number for people: at most `digits` decimals, '–' if not finite, and never "-0" (a value that rounds to zero prints as 0). */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, signDisplay: 'negative' });
}
export const formatMoney = (value: number): string => formatNumber(value, 0);
/** A signed difference: "+12", "-3.5", "0". */
export const formatSigned = (value: number, digits = 0): string => formatNumber(value, digits).replace(/^(?=[1-9])/, '+');

export function table(headers: readonly string[], rows: readonly (readonly (Node | string)[])[]): HTMLTableElement {
  return element(
    'table',
    {},
    element('thead', {}, element('tr', {}, ...headers.map((header) => element('th', {}, header)))),
    element('tbody', {}, ...rows.map((row) => element('tr', {}, ...row.map((cell) => element('td', {}, cell))))),
  );
}
