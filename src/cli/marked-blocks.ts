// Generated blocks in the docs: the lines between `<!-- NAME:start -->` and `<!-- NAME:end -->` are written
// by `npm run docs` (scripts/docs.mjs) from the code, and tests compare them with what the code generates.

/** `text` with the body of the block NAME replaced, or null when the markers are not there. */
export function replaceMarkedBlock(text: string, name: string, body: string): string | null {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) return null;
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** The body of the block NAME in `text`, or null when there is none. */
export function markedBlock(text: string, name: string): string | null {
  const start = `<!-- ${name}:start -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(`<!-- ${name}:end -->`, from);
  return from < 0 || to < 0 ? null : text.slice(from + start.length, to).trim();
}
