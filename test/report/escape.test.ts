import { describe, expect, it } from 'vitest';
import { escapeHtml, htmlText, jsonForScript } from '../../src/report/escape.js';

describe('report/escape', () => {
  describe('escapeHtml', () => {
    it('escapes every character that could open markup or close an attribute', () => {
      expect(escapeHtml(`<img src=x onerror="a('b')"> & </script>`)).toBe('&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; &lt;/script&gt;');
    });

    it('leaves other text alone', () => {
      expect(escapeHtml('app/views.py:42 → dict × 3')).toBe('app/views.py:42 → dict × 3');
    });
  });

  describe('htmlText', () => {
    it('shows control and bidirectional-override characters instead of obeying them', () => {
      expect(htmlText('a\u202Eb\u0000c')).toBe('a\\u202eb\\x00c');
    });

    it('cuts long strings with an ellipsis', () => {
      expect(htmlText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
    });
  });

  describe('jsonForScript', () => {
    const hostile = { type: '</script><script>alert(1)</script>', comment: '<!-- x -->', amp: 'a & b', lines: 'a\u2028b\u2029c', proto: { ['__proto__']: 1 } };

    it('never contains "<", ">" or "&", so no "</script" or "<!--" can end or bend the element', () => {
      const text = jsonForScript(hostile);
      expect(text).not.toMatch(/[<>&\u2028\u2029]/);
      expect(text.toLowerCase()).not.toContain('</script');
    });

    it('parses back to the same value', () => {
      expect(JSON.parse(jsonForScript(hostile))).toEqual(JSON.parse(JSON.stringify(hostile)));
    });
  });
});
