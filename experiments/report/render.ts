/**
 * Rendering a chart without a browser: vega-lite compiles the spec to vega, a headless vega
 * View draws it to SVG, and resvg rasterises the SVG to PNG with the DejaVu fonts (text is
 * measured and drawn with the same family). Every warning vega-lite or vega raises is
 * collected and returned, never printed: a report with a warning is a bug the tests catch.
 */
import { Resvg } from '@resvg/resvg-js';
import { View, Warn, logger, parse, type LoggerInterface, type Spec as VegaSpec } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface RenderedChart {
  readonly svg: string;
  readonly vega: VegaSpec;
  /** Warnings from vega-lite's compiler and vega's runtime. */
  readonly warnings: readonly string[];
}

/** Fonts for resvg: the system folder holding DejaVu (fonts-dejavu-core). */
export const fontFolders = ['/usr/share/fonts'];

function collectingLogger(warnings: string[]): LoggerInterface {
  return logger(Warn, undefined, (method, _level, args) => {
    if (method === 'warn' || method === 'error') warnings.push(args.map(String).join(' '));
  });
}

/** Compiles a vega-lite spec; its warnings land in `warnings`. */
export function compileChart(spec: TopLevelSpec, warnings: string[] = []): VegaSpec {
  return compile(spec, { logger: collectingLogger(warnings) }).spec;
}

export async function renderSvg(spec: TopLevelSpec): Promise<RenderedChart> {
  const warnings: string[] = [];
  const vega = compileChart(spec, warnings);
  const view = new View(parse(vega), { renderer: 'none', logger: collectingLogger(warnings) });
  try {
    const svg = await view.toSVG();
    return { svg, vega, warnings };
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG, at `scale` times its size. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { fontDirs: fontFolders, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
