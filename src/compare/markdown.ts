/**
 * The comparison and the diff as GitHub-flavoured Markdown (a CI job summary, a pull-request
 * comment). Every string that comes from a trace or a user (file names, labels, types, sites)
 * is put in a code span, where Markdown and HTML mean nothing, with `|` escaped for tables.
 */
import { formatBytes, formatCount, safeText } from '../report/format.js';
import { groupTitle, LEAK_KIND_TITLES, type DiffReport, type LeakGroupChange, type SiteChange } from './diff.js';
import { objectiveList } from './pareto.js';
import type { CompareReport } from './report.js';
import { commonSettings, rowsOf } from './rows.js';
import { formatHeadlineChange, formatHeadlineValue, signed } from './terminal.js';

/** Untrusted text as an inline code span that is safe in a table cell. */
export function code(text: string): string {
  const safe = safeText(text, 300).replace(/\|/g, '\\|');
  const longestRun = Math.max(0, ...(safe.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  // A span that starts or ends with a backtick needs a space inside the fence.
  const pad = safe.startsWith('`') || safe.endsWith('`') || safe === '' ? ' ' : '';
  return `${fence}${pad}${safe}${pad}${fence}`;
}

function table(header: readonly string[], align: readonly ('l' | 'r' | 'c')[], rows: readonly (readonly string[])[]): string[] {
  const rule = align.map((a) => (a === 'r' ? '--:' : a === 'c' ? ':-:' : '---'));
  return [`| ${header.join(' | ')} |`, `|${rule.join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

export function renderCompareMarkdown(report: CompareReport): string {
  const rows = rowsOf(report);
  const lines = [`# memreplay compare: ${code(report.trace.file)}`, ''];
  lines.push(`${formatCount(report.trace.events)} events · ${formatCount(report.configurations.length)} configurations · Pareto objectives: ${objectiveList(report.objectives)}`);
  const common = commonSettings(report.configurations);
  if (common !== '') lines.push('', `Same in every configuration: ${code(common)}`);
  if (report.shard !== undefined) lines.push('', `Shard ${report.shard.index}/${report.shard.count}: ${formatCount(rows.length)} of the configurations; \`memreplay merge\` joins the shards and finds the Pareto front.`);
  lines.push('');
  lines.push(
    ...table(
      ['#', 'configuration', 'collections (gen 0/1/2)', 'objects examined', 'largest collection', 'garbage latency p95 (events)', 'peak live bytes', 'leaks left', 'Pareto'],
      ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'c'],
      rows.map((r) => [
        String(r.index + 1),
        code(r.entry.label),
        r.collections.map(formatCount).join(' / '),
        formatCount(r.examined),
        formatCount(r.largest),
        formatCount(r.latency.p95),
        formatBytes(r.peakBytes),
        formatBytes(r.leftBytes),
        r.pareto ? '✓' : '',
      ]),
    ),
  );
  lines.push('');
  if (report.pareto !== undefined) {
    lines.push(`✓ Pareto-optimal for ${objectiveList(report.objectives)}: no other configuration is at least as good on every one and better on one.`);
  }
  lines.push('*Largest collection*: the most objects one collection examined (a proxy for the longest pause). *Leaks left*: cyclic garbage not yet collected plus uncollectable objects at the end of the trace.');
  return `${lines.join('\n')}\n`;
}

export function renderDiffMarkdown(diff: DiffReport): string {
  const lines = [`# memreplay diff: ${code(diff.a.report)} → ${code(diff.b.report)}`, ''];
  for (const [name, side] of [
    ['A', diff.a],
    ['B', diff.b],
  ] as const) {
    lines.push(`- **${name}**: ${code(side.trace)}, ${formatCount(side.events)} events, ${code(side.policy)}${side.thresholds.length > 0 ? ` thresholds ${side.thresholds.join('/')}` : ''}`);
  }
  lines.push('', '## Headline numbers', '');
  lines.push(
    ...table(
      ['', 'A', 'B', 'change'],
      ['l', 'r', 'r', 'r'],
      diff.headline.filter((h) => h.a !== null || h.b !== null).map((h) => [h.title, formatHeadlineValue(h.a, h.unit), formatHeadlineValue(h.b, h.unit), formatHeadlineChange(h)]),
    ),
  );
  const groups = (title: string, list: readonly LeakGroupChange[]) => {
    lines.push('', `## ${title} (${formatCount(list.length)})`, '');
    if (list.length === 0) {
      lines.push('None.');
      return;
    }
    lines.push(
      ...table(
        ['kind', 'group (types @ sites)', 'objects A', 'objects B', 'bytes A', 'bytes B', 'change in bytes'],
        ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
        list.map((g) => [
          LEAK_KIND_TITLES[g.kind],
          code(groupTitle(g)),
          g.a === null ? '–' : formatCount(g.a.objects),
          g.b === null ? '–' : formatCount(g.b.objects),
          g.a === null ? '–' : formatBytes(g.a.bytes),
          g.b === null ? '–' : formatBytes(g.b.bytes),
          signed(g.change.bytes, formatBytes),
        ]),
      ),
    );
  };
  groups('New leaks (only in B)', diff.leakGroups.new);
  groups('Fixed (only in A)', diff.leakGroups.fixed);
  groups('In both', diff.leakGroups.changed);
  const sites = (title: string, list: readonly SiteChange[]) => {
    lines.push('', `## ${title} (${formatCount(list.length)})`, '');
    if (list.length === 0) {
      lines.push('None.');
      return;
    }
    lines.push(
      ...table(
        ['site', 'objects A', 'objects B', 'change'],
        ['l', 'r', 'r', 'r'],
        list.map((s) => [code(s.site ?? '(no site)'), s.a === null ? '–' : formatCount(s.a), s.b === null ? '–' : formatCount(s.b), signed(s.change)]),
      ),
    );
  };
  sites('Allocation sites only in B', diff.sites.new);
  sites('Allocation sites only in A', diff.sites.fixed);
  sites('Allocation sites in both', diff.sites.changed);
  if (diff.incomplete.length > 0) lines.push('', ...diff.incomplete.map((note) => `> **Note:** ${note}`));
  return `${lines.join('\n')}\n`;
}
