/**
 * Headless Chromium for the dashboard's end-to-end tests and benchmark: Debian's chromium
 * (/usr/bin/chromium, `apt-get install chromium`) driven by playwright-core, never a
 * downloaded browser, with a fresh profile folder each launch. Builds the browser code
 * once if dist/ui/client is missing or older than ui/client (tests/fixtures/cli.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureClientBuilt, root } from '../fixtures/cli.js';

export const chromiumPath = '/usr/bin/chromium';
export const artifactsFolder = join(root, 'test-artifacts', 'dashboard');

export { ensureClientBuilt };

export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'pricelab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    viewport: { width: 1500, height: 1100 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Items the vega scenegraph of a chart holds for the marks named `markName` (a line mark holds one item per point). */
export function renderedItems(page: Page, chart: string, markName: string): Promise<number> {
  return page.evaluate(
    ([chartName, mark]) => {
      interface SceneMark {
        name?: string;
        items?: SceneItem[];
      }
      interface SceneItem {
        items?: SceneMark[];
      }
      const probe = (globalThis as unknown as { pricelab?: { charts: { byName: Map<string, { scenegraph(): { root: SceneMark } }> } } }).pricelab;
      const view = probe?.charts.byName.get(chartName);
      if (!view) return -1;
      let count = 0;
      const visit = (node: SceneMark) => {
        if (node.name === mark) count += node.items?.length ?? 0;
        for (const item of node.items ?? []) for (const child of item.items ?? []) visit(child);
      };
      visit(view.scenegraph().root);
      return count;
    },
    [chart, markName] as const,
  );
}

/** Total length of the `d` attributes of a chart's rendered SVG paths for a mark class: grows as lines get longer. */
export function pathLength(page: Page, chart: string, markClass: string): Promise<number> {
  return page.locator(`#chart-${chart} g.${markClass} path`).evaluateAll((paths) => paths.reduce((total, path) => total + (path.getAttribute('d')?.length ?? 0), 0));
}
