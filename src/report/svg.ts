/**
 * Vega-Lite spec → SVG text, in Node, for the HTML report.
 *
 *   spec ──vega-lite compile──► Vega spec ──vega View (renderer 'none')──► toSVG() ──finishSvg──► SVG
 *
 * vega and vega-lite are loaded with `import()` on the first chart, so commands that draw no chart
 * do not pay for loading them. The View gets a loader that refuses every URL: a chart whose spec
 * tried to fetch anything fails here, at report time, instead of making the page reach the network.
 *
 * `finishSvg` then makes the text fit into one page among other charts: element ids (clip paths,
 * gradients) are renamed per chart, because two SVGs in one document must not share an id; and
 * the `aria-label` of marks that asked for one becomes a `<title>` child, which browsers show as
 * a tooltip without any script.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { LoggerInterface } from 'vega';

export interface RenderedChart {
  svg: string;
  /** Warnings from vega-lite or vega (a chart that renders with warnings is a bug to fix). */
  warnings: string[];
}

/** Compiles and renders one chart. `idPrefix` must be unique in the page. */
export async function renderChartSvg(spec: TopLevelSpec, idPrefix: string): Promise<RenderedChart> {
  const [vegaLite, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const compiled = vegaLite.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    logger,
    logLevel: vega.Warn,
    loader: offlineLoader(),
  });
  try {
    const svg = await view.toSVG();
    return { svg: finishSvg(svg, idPrefix), warnings };
  } finally {
    view.finalize();
  }
}

/** A Vega loader that fails on any request: the report's charts carry their data inline. */
function offlineLoader() {
  const refuse = (what: string) => Promise.reject(new Error(`memreplay charts load nothing (${what}); this is a bug in memreplay`));
  return {
    load: (uri: string) => refuse(uri),
    sanitize: (uri: string) => refuse(uri),
    http: (uri: string) => refuse(uri),
    file: (name: string) => refuse(name),
  };
}

function collectingLogger(into: string[]): LoggerInterface {
  let level = 2;
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  const logger: LoggerInterface = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error(...args: unknown[]) {
      into.push(`error: ${text(args)}`);
      return logger;
    },
    warn(...args: unknown[]) {
      into.push(`warning: ${text(args)}`);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/**
 * Post-processes Vega's SVG text, one tag at a time. This is sound because Vega escapes `<` and
 * `>` in both text and attribute values (`vega-scenegraph` markup: `innerText`, `attrText`), so
 * every `<…>` in its output is a real tag and every `"` inside a tag delimits an attribute.
 *
 * - ids are renamed `P-1`, `P-2`, … in order of first appearance, and `url(#x)` / `href="#x"`
 *   with them: unique across the charts of a page, and the same whatever Vega's global counters
 *   say (its gradient ids keep counting across renders, which would make two renders differ);
 * - a mark item with an `aria-label` (only marks given a `description` have one) gets it as a
 *   `<title>` child instead, which is both its accessible name and a tooltip on hover;
 * - coordinates are cut to two decimals (Vega writes values like `56.00000000000001`), and
 *   `opacity="1"` (the default) is dropped.
 */
export function finishSvg(svg: string, idPrefix: string): string {
  const ids = new Map<string, string>();
  const rename = (id: string) => {
    let renamed = ids.get(id);
    if (renamed === undefined) ids.set(id, (renamed = `${idPrefix}-${ids.size + 1}`));
    return renamed;
  };
  return svg.replace(/<[^<>]*>/g, (tag) => {
    if (tag.startsWith('</')) return tag;
    let out = tag
      .replace(/ id="([^"]*)"/g, (_, id: string) => ` id="${rename(id)}"`)
      .replace(/url\(#([^)"]*)\)/g, (_, id: string) => `url(#${rename(id)})`)
      .replace(/ (xlink:)?href="#([^"]*)"/g, (_, ns: string | undefined, id: string) => ` ${ns ?? ''}href="#${rename(id)}"`)
      .replace(/ (d|transform|points)="([^"]*)"/g, (_, name: string, value: string) => ` ${name}="${value.replace(/(\d+\.\d\d)\d+/g, '$1')}"`)
      // Opacity 1 is the default: Vega writes it on every axis label and tick.
      .replace(/ opacity="1"/g, '');
    const label = / aria-label="([^"]*)"/.exec(out);
    // Mark items are leaf elements (path, line, text, …) with role graphics-symbol; axes and
    // legends are groups (<g>) with the same role, and keep their aria-label.
    if (label !== null && / role="graphics-symbol"/.test(out) && !/^<(g|svg)\b/.test(out)) {
      // The title names the item; its role description ("bar") would only repeat the chart's.
      out = out.replace(label[0], '').replace(/ aria-roledescription="[^"]*"/, '');
      const title = `<title>${label[1]}</title>`;
      // Attribute escaping (&amp; &lt; &gt; &quot;) is also valid escaping for element text.
      if (out.endsWith('/>')) {
        const name = /^<([a-zA-Z]+)/.exec(out)?.[1] ?? 'g';
        return `${out.slice(0, -2)}>${title}</${name}>`;
      }
      return `${out}${title}`;
    }
    return out;
  });
}
