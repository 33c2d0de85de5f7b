// The digit images of the run report: the page script that draws the decoded image records (RUN_DATA_SCRIPT)
// on small canvases (one canvas pixel per image pixel, scaled up by CSS with `image-rendering: pixelated`)
// in the gallery (mistakes, then close calls; or the least confident unlabeled rows), and in the panel under
// the heat map when a confusion-matrix cell is clicked.

export function imageShape(features: number): [number, number] {
  const side = Math.round(Math.sqrt(features));
  return side * side === features ? [side, side] : [1, features];
}

/** The gallery section's body: containers the script fills (nothing here depends on the number of rows). */
export function galleryBody(): string {
  return (
    `<p class="note" id="gallery-intro"></p><div id="gallery" class="digits"></div>` +
    `<div id="close-calls-block" class="tier" hidden><h3>Close calls: predicted right, but with the least ` +
    `confidence</h3>` +
    `<p class="note" id="close-calls-intro"></p><div id="close-calls" class="digits"></div></div>` +
    `<div id="unlabeled-block" class="tier" hidden><h3>Unlabeled rows: the least confident predictions</h3>` +
    `<p class="note" id="unlabeled-intro"></p><div id="unlabeled" class="digits"></div></div>`
  );
}

/** The heat map's click-through panel (see heatmap.ts). */
export const CELL_PANEL = `<div id="cell-examples" hidden><p class="cell-caption"></p><div class="digits"></div></div>`;

/**
 * The page script: fills the gallery's tiers from `page.run.digits` and shows a cell's stored images in
 * `#cell-examples` when a `button.cell[data-true][data-pred]` of the heat map is clicked ("showing s of n",
 * n from the confusion matrix). Text goes in with textContent only.
 */
export const DIGITS_SCRIPT =
  `
var run = page.run;
if (!run) return;
var f = run.format;
var height = run.shape[0], width = run.shape[1];
function line(text, className) {
  var span = document.createElement('span');
  span.textContent = text;
  if (className) span.className = className;
  return span;
}
function tile(item) {
  var figure = document.createElement('figure');
  var labeled = item.label >= 0;
  var right = labeled && item.label === item.predicted;
  figure.className = 'digit' + (right ? ' close-call' : '');
  var canvas = document.createElement('canvas');
  canvas.className = 'digit-image';
  canvas.width = width;
  canvas.height = height;
  var context = canvas.getContext('2d');
  var image = context.createImageData(width, height);
  for (var k = 0; k < width * height; k++) {
    var v = 255 - item.pixels[k]; // dark ink on paper
    image.data[4 * k] = v; image.data[4 * k + 1] = v; image.data[4 * k + 2] = v; image.data[4 * k + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  var what = labeled ? 'true ' + item.label + ', predicted ' + item.predicted : 'predicted ' + item.predicted;
  var confidence = (item.confidence * 100).toFixed(1) + '%';
  canvas.setAttribute('role', 'img');
  var where = item.file ? item.file + ':' + item.line : 'line ' + item.line;
  canvas.setAttribute('aria-label', where + ': ' + what + ' (' + confidence + ')' + (right ? ', a ` +
  `close call' : ''));
  var caption = document.createElement('figcaption');
  caption.appendChild(line(where, 'where'));
  caption.appendChild(line(labeled ? item.label + ' \\u2192 ' + item.predicted + (right ? ' \\u2713' : '') : ` +
  `'\\u2192 ' + item.predicted, labeled && !right ? 'pair wrong' : 'pair'));
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
function text(id, value) {
  var element = document.getElementById(id);
  if (element) element.textContent = value;
}

// The records come in page order: mistakes (most confident first), close calls, unlabeled rows (least confident first).
var mistakes = [], closeCalls = [], unlabeled = [];
run.digits.forEach(function (d) { (d.label < 0 ? unlabeled : d.label !== d.predicted ? mistakes : ` +
  `closeCalls).push(d); });
var rows = run.value('rows'), labeled = run.value('labeled'), correct = run.value('correct');
var budget = 'the page keeps ' + f.int(run.budget) + ' images whatever the size of the input';
var gallery = document.getElementById('gallery');
if (run.kind === 'mistakes') {
  var wrong = labeled - correct;
  var kinds = 0;
  var confusion = run.values('confusion');
  for (var t = 0; t < run.classes; t++) for (var p = 0; p < run.classes; p++) if (t !== p && confusion[t * ` +
  `run.classes + p] > 0) kinds++;
  text('gallery-intro', wrong === 0 ? 'No labeled row was misclassified.' :
    (mistakes.length < wrong
      ? f.int(mistakes.length) + ' of ' + f.int(wrong) + ' mistakes (' + budget + '), picked in turn from each of ` +
  `the ' + f.int(kinds) +
        ' kinds of mistake (true \\u2192 predicted pairs), the most confident of each first, so that every kind is ` +
  `shown'
      : 'All ' + f.int(wrong) + ' ' + f.plural(wrong, 'mistake')) +
    '; most confident first. Each shows its input line, true \\u2192 predicted label and confidence.');
  fill(gallery, mistakes);
  if (closeCalls.length > 0) {
    text('close-calls-intro', 'The mistakes leave room for ' + f.int(closeCalls.length) + ' of the ' + f.int(correct) +
      ' correct predictions (' + budget + '): the least confident of each class, taken in turn; least confident ` +
  `first.');
    fill(document.getElementById('close-calls'), closeCalls);
    document.getElementById('close-calls-block').hidden = false;
  }
  if (unlabeled.length > 0) {
    text('unlabeled-intro', f.int(unlabeled.length) + ' of the ' + f.int(rows - labeled) + ' rows without a label; ` +
  `least confident first.');
    fill(document.getElementById('unlabeled'), unlabeled);
    document.getElementById('unlabeled-block').hidden = false;
  }
} else {
  text('gallery-intro', rows === 0 ? 'No rows were scored.' :
    'The input has no labels, so there are no mistakes to show: these are ' +
    (unlabeled.length < rows ? 'the ' + f.int(unlabeled.length) + ' least confident predictions of ' + f.int(rows) + ` +
  `' rows (' + budget + ')' : 'all ' + f.int(rows) + ' predictions') +
    ', least confident first.');
  fill(gallery, unlabeled);
}

var panel = document.getElementById('cell-examples');
var buttons = document.querySelectorAll('button.cell');
function show(button) {
  var t = Number(button.getAttribute('data-true')), p = Number(button.getAttribute('data-pred'));
  var count = run.values('confusion')[t * run.classes + p];
  var items = run.digits.filter(function (d) { return d.label === t && d.predicted === p; });
  buttons.forEach(function (b) { b.setAttribute('aria-pressed', b === button ? 'true' : 'false'); });
  var order = t === p ? 'least confident first (close calls)' : 'most confident first';
  panel.querySelector('.cell-caption').textContent = 'True ' + t + ', predicted ' + p + ': ' + f.int(count) + ' ' + ` +
  `f.plural(count, 'row') +
    (count === 0 ? '.' : items.length === 0 ? '; none of them among the images the page keeps.' : '; showing ' + ` +
  `f.int(items.length) + ' of ' + f.int(count) + ', ' + order + '.');
  fill(panel.querySelector('.digits'), items);
  panel.hidden = false;
}
buttons.forEach(function (button) {
  button.addEventListener('click', function () { show(button); });
});
`;

export const DIGITS_CSS =
  `
.digits { display: flex; flex-wrap: wrap; gap: 8px; }
.tier { margin-top: 16px; }
.tier h3 { margin: 0 0 4px; font-size: 15px; }
figure.digit { margin: 0; width: 76px; text-align: center; font-size: 11px; line-height: 1.25; }
canvas.digit-image { width: 56px; height: 56px; image-rendering: crisp-edges; image-rendering: pixelated; border: ` +
  `1px solid var(--line); background: #fff; display: block; margin: 0 auto 2px; }
figure.digit.close-call canvas.digit-image { border-color: #009E73; }
figure.digit span { display: block; }
figure.digit .where { color: var(--muted); }
figure.digit .pair { font-weight: 600; }
figure.digit .pair.wrong { color: #B00020; }
#cell-examples { margin-top: 12px; }
.cell-caption { margin: 0 0 8px; }
`;
