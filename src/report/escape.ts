/**
 * Escaping of untrusted text for the HTML report. Types, sites, labels and header meta come from
 * the trace, so any of them may hold markup: every one reaches the page through one of these.
 */
import { safeText } from './format.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/**
 * A trace string as shown in the page: control and bidirectional-override characters made
 * visible (they could reorder or hide text, "Trojan source"), cut to `maxLength`, then escaped.
 */
export function htmlText(text: string, maxLength = 120): string {
  return escapeHtml(safeText(text, maxLength));
}

/**
 * JSON for the inside of a `<script type="application/json">` element. The HTML parser ends a
 * script element at the first `</script` whatever the JSON means, and `<!--` changes how it
 * scans, so `<`, `>` and `&` are written as `\u003c`-style escapes, which JSON.parse reads back
 * as the same characters. U+2028/U+2029 are escaped too, for the benefit of JavaScript tools that
 * treat the text as a script.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
