/**
 * What a report read back from a file (`report`, `diff`, `merge`) must be beyond its JSON
 * Schema, so that the renderers can trust it. A schema cannot say these, and a report that
 * breaks them was not written by memreplay (it was cut, edited or made by hand):
 * - it nests no deeper than a report memreplay writes (`JSON.stringify` of a trace's meta, in
 *   the HTML settings table, recurses);
 * - every number is finite and below `MAX_REPORT_MAGNITUDE` (`JSON.parse` reads `1e400` as
 *   Infinity, which ajv takes for an integer; sums and differences of two numbers then stay
 *   finite in `diff`);
 * - its timeline holds as many values per series as it says it has samples (the charts read
 *   that many).
 */
import type { ReplayReport } from './json.js';

/**
 * The deepest nesting allowed, the report being level 1. A trace header's `meta` nests at most
 * 32 levels counting the header (`MAX_HEADER_DEPTH` in src/trace/encode.ts, not imported: that
 * module is the decoder's); a replay report holds it one level lower (33), a comparison's run
 * three (35). The rest of a report nests less than 10.
 */
export const MAX_REPORT_DEPTH = 40;

/** No count, byte total or timestamp a replay writes comes near it. */
export const MAX_REPORT_MAGNITUDE = 1e300;

/** The first problem of `value` (a parsed report) as a JSON pointer and what is wrong, or null. */
export function reportValueProblem(value: unknown): string | null {
  // Walked without recursion: the nesting is what is being checked.
  const stack: { node: unknown; path: string; depth: number }[] = [{ node: value, path: '', depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, path, depth } = item;
    if (typeof node === 'number') {
      if (!Number.isFinite(node) || Math.abs(node) > MAX_REPORT_MAGNITUDE) return `${path || '/'}: ${node} is not a number memreplay writes (they are finite, within ±1e300)`;
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_REPORT_DEPTH) return `${path}: nests more than ${MAX_REPORT_DEPTH} levels deep`;
    for (const [key, child] of Object.entries(node)) stack.push({ node: child, path: `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth: depth + 1 });
  }
  return null;
}

/** The first series of the report's timeline whose length is not `timeline.samples`, or null. */
export function timelineProblem(report: ReplayReport, at = ''): string | null {
  const { samples, series, groups } = report.timeline;
  for (const [name, values] of Object.entries(series)) {
    if (values.length !== samples) return `${at}/timeline/series/${name}: ${values.length} values for ${samples} samples`;
  }
  for (const [i, group] of groups.entries()) {
    if (group.liveBytes.length !== samples) return `${at}/timeline/groups/${i}/liveBytes: ${group.liveBytes.length} values for ${samples} samples`;
  }
  return null;
}
