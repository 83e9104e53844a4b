import type { TraceEvent, TraceHeader } from '../../src/trace/types.js';

/**
 * Test-only writers for the three trace encodings, written from the format description (not from
 * the decoders), so that decoding their output checks the decoders against the format.
 */

export interface TextLayout {
  /** Line ending. Default: "\n". */
  newline?: '\n' | '\r\n';
  /** Put a blank line between events (JSON Lines) . Default: false. */
  blankLines?: boolean;
  /** End the text with a newline. Default: true. */
  finalNewline?: boolean;
  /** Start with a UTF-8 byte-order mark. Default: false. */
  bom?: boolean;
}

function finish(lines: string[], layout: TextLayout): string {
  const newline = layout.newline ?? '\n';
  const body = lines.join(newline) + ((layout.finalNewline ?? true) && lines.length > 0 ? newline : '');
  return (layout.bom ? '\uFEFF' : '') + body;
}

/** JSON Lines: an optional header line, then one event per line. */
export function toJsonLines(events: readonly TraceEvent[], header: TraceHeader | null, layout: TextLayout = {}): string {
  const lines: string[] = [];
  if (header) lines.push(JSON.stringify(header));
  for (const event of events) {
    if (layout.blankLines) lines.push('');
    lines.push(JSON.stringify(event));
  }
  return finish(lines, layout);
}

/** A JSON document (with a header) or a bare array (without), one event per line. */
export function toJsonDocument(events: readonly TraceEvent[], header: TraceHeader | null, layout: TextLayout = {}): string {
  const lines: string[] = [];
  const body = events.map((event, i) => `  ${JSON.stringify(event)}${i < events.length - 1 ? ',' : ''}`);
  if (header) {
    lines.push(`{"format":${JSON.stringify(header.format)},"version":${header.version},"meta":${JSON.stringify(header.meta)},"events":[`, ...body, ']}');
  } else {
    lines.push('[', ...body, ']');
  }
  return finish(lines, layout);
}

/** Every field an event may have, in the column order the CSV writer uses. */
export const CSV_COLUMNS = ['op', 'id', 'type', 'size', 'tracked', 'site', 'finalizer', 'src', 'dst', 'gen', 'enabled', 'value', 'label', 't'] as const;

/** A CSV cell: quoted when it holds a comma, quote or line break, or is the empty string. */
export function csvCell(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV: an optional `# {header}` line, the header row, one record per event. */
export function toCsv(events: readonly TraceEvent[], header: TraceHeader | null, layout: TextLayout & { columns?: readonly string[] } = {}): string {
  const columns = layout.columns ?? CSV_COLUMNS;
  const lines: string[] = [];
  if (header) lines.push(`# ${JSON.stringify(header)}`);
  lines.push(columns.join(','));
  for (const event of events) {
    const record = event as unknown as Record<string, unknown>;
    lines.push(columns.map((column) => csvCell(record[column])).join(','));
  }
  return finish(lines, layout);
}
