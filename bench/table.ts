// One table style for every bench report: GitHub-flavoured Markdown (the report's headings are Markdown
// too, and the README quotes its tables as they are printed). Numbers are right-aligned.

/** A Markdown table; `right[i]` right-aligns column i. */
export function markdownTable(head: string[], rows: string[][], right: boolean[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`, ...rows.map(line)].join('\n');
}
