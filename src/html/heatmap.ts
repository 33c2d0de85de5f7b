// The confusion matrix as an HTML heat map (a table, so it is readable, selectable and keyboard-usable
// without a chart plugin). The table's markup depends only on the number of classes; the counts and the
// colours are filled in the page (HEATMAP_SCRIPT) from the decoded figures, so that the page's size does
// not depend on the number of rows. Colours are per true-label row, because the diagonal dwarfs the
// mistakes: the diagonal in blue by the share of the row predicted right, the mistakes in red relative to
// the largest mistake share anywhere in the matrix, so the worst confusion is the reddest cell whatever the
// accuracy.
import { escapeHtml } from './escape.js';

/** The table for `classes` classes: a button per cell (data-true, data-pred), empty until the script runs. */
export function confusionHeatmapTable(classes: number, options: { classNames?: string[] } = {}): string {
  if (!Number.isInteger(classes) || classes < 1)
    throw new RangeError(`classes must be a positive integer, got ${classes}`);
  const name = (c: number) => escapeHtml(options.classNames?.[c] ?? String(c));
  const indices = Array.from({ length: classes }, (_, i) => i);
  const header = `<tr><th class="corner">true \\ predicted</th>${indices
    .map((p) => `<th scope="col">${name(p)}</th>`)
    .join('')}<th scope="col" class="total">rows</th></tr>`;
  const body = indices
    .map((t) => {
      const cells = indices
        .map(
          (p) =>
            `<td><button type="button" class="cell${t === p ? ' diagonal' : ''}" data-true="${t}` +
            `" data-pred="${p}" aria-pressed="false"></button></td>`,
        )
        .join('');
      return `<tr><th scope="row">${name(t)}</th>${cells}<td class="total" data-row-total="${t}"></td></tr>`;
    })
    .join('');
  return `<table class="heatmap">${header}${body}</table>`;
}

/** Fills the heat map from `page.run` (RUN_DATA_SCRIPT): counts, data-count, titles and colours. */
export const HEATMAP_SCRIPT =
  `
var run = page.run;
var table = document.querySelector('table.heatmap');
if (!run || !table) return;
var k = run.classes, matrix = run.values('confusion');
var rowTotals = [];
var worstShare = 0;
for (var t = 0; t < k; t++) {
  var total = 0;
  for (var p = 0; p < k; p++) total += matrix[t * k + p];
  rowTotals.push(total);
  for (var q = 0; q < k; q++) if (q !== t && total > 0) worstShare = Math.max(worstShare, matrix[t * k + q] / total);
}
function colors(diagonal, share, count) {
  if (count === 0) return ['#fff', '#bbb'];
  // Lightness from 96% (almost white) down to 38%; text turns white on the darkest cells.
  var strength = diagonal ? share : worstShare > 0 ? Math.sqrt(share / worstShare) : 0;
  var lightness = Math.round(96 - 58 * strength);
  return ['hsl(' + (diagonal ? 207 : 4) + ' 70% ' + lightness + '%)', lightness < 60 ? '#fff' : '#1d1d1f'];
}
table.querySelectorAll('button.cell').forEach(function (button) {
  var t = Number(button.getAttribute('data-true')), p = Number(button.getAttribute('data-pred'));
  var count = matrix[t * k + p];
  var share = rowTotals[t] > 0 ? count / rowTotals[t] : 0;
  var c = colors(t === p, share, count);
  button.textContent = String(count);
  button.setAttribute('data-count', String(count));
  button.title = 'true ' + t + ', predicted ' + p + ': ' + run.format.int(count) + ' (' + (share * 100).toFixed(1) + ` +
  `'% of true ' + t + ')';
  button.style.background = c[0];
  button.style.color = c[1];
});
table.querySelectorAll('td[data-row-total]').forEach(function (cell) {
  cell.textContent = run.format.int(rowTotals[Number(cell.getAttribute('data-row-total'))]);
});
`;

export const HEATMAP_CSS =
  `
table.heatmap { font-size: 12px; }
table.heatmap th { font-weight: 600; padding: 2px 4px; color: var(--muted); }
table.heatmap th.corner { font-weight: 400; font-size: 11px; white-space: nowrap; }
table.heatmap td { padding: 1px; }
table.heatmap td.total { color: var(--muted); padding-left: 6px; text-align: right; }
button.cell { width: 100%; min-width: 40px; height: 32px; border: 1px solid rgba(0,0,0,0.08); border-radius: 3px; ` +
  `font: inherit; font-variant-numeric: tabular-nums; cursor: pointer; }
button.cell:hover, button.cell:focus-visible { outline: 2px solid var(--fg); outline-offset: -1px; }
button.cell[aria-pressed="true"] { outline: 3px solid #E69F00; outline-offset: -2px; }
`;
