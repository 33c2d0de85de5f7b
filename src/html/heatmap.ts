// The confusion matrix as an HTML heat map (a table, so it is readable, selectable and keyboard-usable
// without a chart plugin). Colours are per true-label row, because the diagonal dwarfs the mistakes: the
// diagonal in blue by the share of the row predicted right, the mistakes in red relative to the largest
// mistake share anywhere in the matrix, so the worst confusion is the reddest cell whatever the accuracy.
import { escapeHtml } from './escape.js';

export function confusionHeatmap(matrix: number[][], options: { classNames?: string[] } = {}): string {
  const k = matrix.length;
  const name = (c: number) => escapeHtml(options.classNames?.[c] ?? String(c));
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  let worstShare = 0;
  matrix.forEach((row, t) =>
    row.forEach((count, p) => {
      if (t !== p && rowTotals[t] > 0) worstShare = Math.max(worstShare, count / rowTotals[t]);
    }),
  );

  const header = `<tr><th class="corner">true \\ predicted</th>${matrix.map((_, p) => `<th scope="col">${name(p)}</th>`).join('')}<th scope="col" class="total">rows</th></tr>`;
  const body = matrix
    .map((row, t) => {
      const cells = row
        .map((count, p) => {
          const share = rowTotals[t] > 0 ? count / rowTotals[t] : 0;
          const [background, foreground] = cellColors(t === p, share, worstShare, count);
          const title = `true ${t}, predicted ${p}: ${count} (${(share * 100).toFixed(1)}% of true ${t})`;
          return `<td><button type="button" class="cell${t === p ? ' diagonal' : ''}" data-true="${t}" data-pred="${p}" data-count="${count}" aria-pressed="false" title="${escapeHtml(title)}" style="background:${background};color:${foreground}">${count}</button></td>`;
        })
        .join('');
      return `<tr><th scope="row">${name(t)}</th>${cells}<td class="total">${rowTotals[t]}</td></tr>`;
    })
    .join('');
  return `<table class="heatmap">${header}${body}</table>`;
}

function cellColors(diagonal: boolean, share: number, worstShare: number, count: number): [string, string] {
  if (count === 0) return ['#fff', '#bbb'];
  // Lightness from 96% (almost white) down to 38%; text turns white on the darkest cells.
  const strength = diagonal ? share : worstShare > 0 ? Math.sqrt(share / worstShare) : 0;
  const lightness = Math.round(96 - 58 * strength);
  const hue = diagonal ? 207 : 4;
  return [`hsl(${hue} 70% ${lightness}%)`, lightness < 60 ? '#fff' : '#1d1d1f'];
}

export const HEATMAP_CSS = `
table.heatmap { font-size: 12px; }
table.heatmap th { font-weight: 600; padding: 2px 4px; color: var(--muted); }
table.heatmap th.corner { font-weight: 400; font-size: 11px; white-space: nowrap; }
table.heatmap td { padding: 1px; }
table.heatmap td.total { color: var(--muted); padding-left: 6px; text-align: right; }
button.cell { width: 100%; min-width: 40px; height: 32px; border: 1px solid rgba(0,0,0,0.08); border-radius: 3px; font: inherit; font-variant-numeric: tabular-nums; cursor: pointer; }
button.cell:hover, button.cell:focus-visible { outline: 2px solid var(--fg); outline-offset: -1px; }
button.cell[aria-pressed="true"] { outline: 3px solid #E69F00; outline-offset: -2px; }
`;
