/** Number and text formatting shared by the terminal, Markdown and HTML reports. */

/**
 * 12345 → "12,345". Written out rather than `toLocaleString`: the first call of that loads ICU's
 * locale data, about 15 ms of every command's start-up.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  // From 1e21 on, JavaScript writes numbers in exponent notation: digit groups would cut it up.
  if (Math.abs(n) >= 1e21) return n.toPrecision(4);
  const digits = String(Math.abs(Math.round(n)));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return n < 0 && Math.round(n) !== 0 ? `-${out}` : out;
}

/** "at event 1,234", or "before any event" for -1 (a peak never reached: a trace with no allocation). */
export function atEvent(event: number): string {
  return event < 0 ? 'before any event' : `at event ${formatCount(event)}`;
}

/** Bytes in binary units: 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(Math.round(value)) : value >= 100 ? value.toFixed(0) : value.toFixed(1);
  return `${sign}${text} ${units[unit]}`;
}

/** A ratio as a percentage with one decimal, or "–" when undefined. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '–';
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/**
 * Makes an untrusted trace string safe for a terminal: control characters (which could carry
 * escape sequences) are shown as `\xNN`/`\uNNNN`, and long strings are cut with an ellipsis.
 */
export function safeText(text: string, maxLength = 80): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028 || code === 0x2029 || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
      out += code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    } else {
      out += ch;
    }
    if (out.length > maxLength) return `${out.slice(0, maxLength - 1)}…`;
  }
  return out;
}

/** Pads or cuts to a column width (left-aligned). */
export function padEnd(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text.padEnd(width);
}
