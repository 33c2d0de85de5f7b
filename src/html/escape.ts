// Text into HTML, data into a <script> block: the two ways report content (file paths, error messages that
// quote raw input) reaches a page, and the only places it must be escaped.

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML element or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON that is safe inside `<script type="application/json">`: every `<`, `>` and `&` becomes a \uXXXX
 * escape, so no `</script`, `<!--` or `<script` can appear and end or confuse the block, and the text
 * still parses to the same value with JSON.parse. U+2028/U+2029 are escaped too (harmless in JSON, but
 * line terminators in older JavaScript if someone pastes the block into a script).
 */
export function jsonForScript(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`jsonForScript: ${typeof value} has no JSON representation`);
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
