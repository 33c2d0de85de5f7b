// The digit images of the run report: the collector's kept rows as page data (each image's bytes once,
// base64, shared by the gallery and the confusion-matrix cells), and the page script that draws them on
// small canvases (one canvas pixel per image pixel, scaled up by CSS with `image-rendering: pixelated`).
import type { CollectedImages, KeptImage } from '../stats/mistakes.js';

/** One drawn image: which row, what it is, and its bytes as an index into `DigitData.images`. */
export interface DigitRef {
  line: number;
  /** True label, -1 when unlabeled. */
  label: number;
  predicted: number;
  /** Rounded to 4 decimals: enough to print, fewer bytes. */
  confidence: number;
  image: number;
}

/** What the page script needs (`page.data.digits`). */
export interface DigitData {
  /** [height, width]: square images when the feature count is a square (28 x 28 for MNIST), else one row. */
  shape: [number, number];
  /** Each image's bytes (0..255, ink high), base64: 4/3 bytes per pixel instead of up to 4 in a JSON array. */
  images: string[];
  kind: CollectedImages['kind'];
  gallery: DigitRef[];
  /** Examples per confusion-matrix cell, keyed `"true-predicted"`; only non-empty cells; null when unlabeled. */
  cells: Record<string, DigitRef[]> | null;
  perCell: number;
  capacity: number;
}

export function imageShape(features: number): [number, number] {
  const side = Math.round(Math.sqrt(features));
  return side * side === features ? [side, side] : [1, features];
}

export function digitData(collected: CollectedImages, features: number): DigitData {
  const images: string[] = [];
  // A row often appears twice (in the gallery and in its cell): store its bytes once.
  const byLine = new Map<number, number>();
  const ref = (item: KeptImage): DigitRef => {
    let image = byLine.get(item.line);
    if (image === undefined) {
      image = images.length;
      images.push(Buffer.from(item.pixels.buffer, item.pixels.byteOffset, item.pixels.byteLength).toString('base64'));
      byLine.set(item.line, image);
    }
    return { line: item.line, label: item.label, predicted: item.predicted, confidence: round4(item.confidence), image };
  };
  const gallery = collected.gallery.map(ref);
  let cells: Record<string, DigitRef[]> | null = null;
  if (collected.cells) {
    cells = {};
    collected.cells.forEach((row, t) =>
      row.forEach((items, p) => {
        if (items.length > 0) cells![`${t}-${p}`] = items.map(ref);
      }),
    );
  }
  return { shape: imageShape(features), images, kind: collected.kind, gallery, cells, perCell: collected.perCell, capacity: collected.capacity };
}

const round4 = (x: number): number => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : 0);

/**
 * The page script: fills `#gallery` with the gallery, and shows a cell's examples in `#cell-examples`
 * when a `button.cell[data-true][data-pred]` of the heat map is clicked. Text goes in with textContent only.
 */
export const DIGITS_SCRIPT = `
var digits = page.data && page.data.digits;
if (!digits) return;
var height = digits.shape[0], width = digits.shape[1];
var decoded = [];
function bytesOf(index) {
  if (!decoded[index]) {
    var text = atob(digits.images[index]);
    var bytes = new Uint8Array(text.length);
    for (var k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k);
    decoded[index] = bytes;
  }
  return decoded[index];
}
function line(text, className) {
  var span = document.createElement('span');
  span.textContent = text;
  if (className) span.className = className;
  return span;
}
function tile(item) {
  var figure = document.createElement('figure');
  figure.className = 'digit';
  var canvas = document.createElement('canvas');
  canvas.className = 'digit-image';
  canvas.width = width;
  canvas.height = height;
  var context = canvas.getContext('2d');
  var image = context.createImageData(width, height);
  var pixels = bytesOf(item.image);
  for (var k = 0; k < width * height; k++) {
    var v = 255 - pixels[k]; // dark ink on paper
    image.data[4 * k] = v; image.data[4 * k + 1] = v; image.data[4 * k + 2] = v; image.data[4 * k + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  var what = item.label >= 0 ? 'true ' + item.label + ', predicted ' + item.predicted : 'predicted ' + item.predicted;
  var confidence = (item.confidence * 100).toFixed(1) + '%';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'line ' + item.line + ': ' + what + ' (' + confidence + ')');
  var caption = document.createElement('figcaption');
  caption.appendChild(line('line ' + item.line, 'where'));
  caption.appendChild(line(item.label >= 0 ? item.label + ' \\u2192 ' + item.predicted : '\\u2192 ' + item.predicted, item.label >= 0 && item.label !== item.predicted ? 'pair wrong' : 'pair'));
  caption.appendChild(line(confidence, 'confidence'));
  figure.appendChild(canvas);
  figure.appendChild(caption);
  return figure;
}
function fill(container, items) {
  var fragment = document.createDocumentFragment();
  items.forEach(function (item) { fragment.appendChild(tile(item)); });
  container.replaceChildren(fragment);
}
var gallery = document.getElementById('gallery');
if (gallery) fill(gallery, digits.gallery);

var panel = document.getElementById('cell-examples');
var buttons = document.querySelectorAll('button.cell');
function show(button) {
  var t = button.getAttribute('data-true'), p = button.getAttribute('data-pred');
  var count = Number(button.getAttribute('data-count'));
  var items = (digits.cells && digits.cells[t + '-' + p]) || [];
  buttons.forEach(function (b) { b.setAttribute('aria-pressed', b === button ? 'true' : 'false'); });
  var order = t === p ? 'least confident first (close calls)' : 'most confident first';
  panel.querySelector('.cell-caption').textContent = 'True ' + t + ', predicted ' + p + ': ' + count + ' row' + (count === 1 ? '' : 's') +
    (count === 0 ? '.' : '; showing ' + items.length + ', ' + order + '.');
  fill(panel.querySelector('.digits'), items);
  panel.hidden = false;
}
buttons.forEach(function (button) {
  button.addEventListener('click', function () { show(button); });
});
`;

export const DIGITS_CSS = `
.digits { display: flex; flex-wrap: wrap; gap: 8px; }
figure.digit { margin: 0; width: 76px; text-align: center; font-size: 11px; line-height: 1.25; }
canvas.digit-image { width: 56px; height: 56px; image-rendering: crisp-edges; image-rendering: pixelated; border: 1px solid var(--line); background: #fff; display: block; margin: 0 auto 2px; }
figure.digit span { display: block; }
figure.digit .where { color: var(--muted); }
figure.digit .pair { font-weight: 600; }
figure.digit .pair.wrong { color: #B00020; }
#cell-examples { margin-top: 12px; }
.cell-caption { margin: 0 0 8px; }
`;
