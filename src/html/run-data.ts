// The run page's data in fixed-size binary form, so that the page's size does not depend on the number of
// rows: every figure that grows with the input (counts, rates, durations, the confusion matrix, latency
// histogram buckets, the throughput timeline) is one slot of a fixed-length Float64Array (little-endian,
// base64; NaN for "none" and for padding), and the images are fixed-size records (base64, one block). A
// number's text length would otherwise grow with its value ("9,817" vs "981,700"); eight bytes do not.
// The page decodes both (RUN_DATA_SCRIPT) and renders every number itself.
import type { KeptImage } from './mistakes.js';

/** Where each figure lives in the Float64Array: [offset, length]. */
export type FigureLayout = Record<string, [offset: number, length: number]>;

/** What fixes the figures' length: the same for every run of one model. */
export interface FigureShape {
  classes: number;
  /** Latency histogram buckets (LatencyBuckets.bucketCount). */
  buckets: number;
  /** Throughput points (ThroughputTimeline.maxPoints). */
  timelinePoints: number;
  /** Row errors whose line the page lists. */
  errorLines: number;
}

/** Single numbers, in order; NaN stands for null. */
export const SCALAR_FIGURES = [
  'rows',
  'labeled',
  'correct',
  'skipped',
  'batches',
  'imagesPerSecond',
  'imagesPerSecondAfterFirstResult',
  'timeToFirstResultMs',
  'durationMs',
  'peakRssBytes',
  'inputBytes',
  'perImageLatencyMs',
  /** Row errors the report lists (at most 100); the page shows the first `errorLines`. */
  'errorsListed',
  /** 1 when the report's list of row errors was cut short. */
  'errorsTruncated',
  /** The throughput timeline's sliding window, ms. */
  'throughputWindowMs',
] as const;

/** The fields of a LatencySummary, in order. */
export const LATENCY_SUMMARY_FIELDS = ['count', 'min', 'mean', 'p50', 'p90', 'p99', 'max'] as const;

export function figureLayout(shape: FigureShape): FigureLayout {
  const { classes: k, buckets, timelinePoints, errorLines } = shape;
  for (const [name, value] of Object.entries(shape)) {
    if (!Number.isInteger(value) || value < 0)
      throw new RangeError(`figureLayout: ${name} must be an integer >= 0, got ${value}`);
  }
  const layout: FigureLayout = {};
  let offset = 0;
  const slot = (name: string, length: number) => {
    layout[name] = [offset, length];
    offset += length;
  };
  for (const name of SCALAR_FIGURES) slot(name, 1);
  slot('batchLatencyMs', LATENCY_SUMMARY_FIELDS.length);
  slot('computeLatencyMs', LATENCY_SUMMARY_FIELDS.length);
  /** Lines of the first row errors. */
  slot('errorLines', errorLines);
  /** Row-major [true][predicted]. */
  slot('confusion', k * k);
  slot('precision', k);
  slot('recall', k);
  /** Counts in every bucket of the fixed logarithmic latency scale. */
  slot('batchLatencyBuckets', buckets);
  slot('computeLatencyBuckets', buckets);
  /** The throughput timeline: end of each window (s since start), its images/s, rows finished by then. */
  slot('throughputSeconds', timelinePoints);
  slot('throughputRate', timelinePoints);
  slot('throughputRows', timelinePoints);
  return layout;
}

/** The total number of float64 values a layout holds. */
export const figureCount = (layout: FigureLayout): number =>
  Object.values(layout).reduce((n, [, length]) => n + length, 0);

/**
 * Packs figures into base64: a number fills a slot of length 1; an array fills its slot from the start,
 * the rest padded with NaN (a timeline with fewer points than its slot). Every slot must be given.
 */
export function encodeFigures(
  layout: FigureLayout,
  values: Record<string, number | null | ArrayLike<number | null>>,
): string {
  const bytes = Buffer.alloc(8 * figureCount(layout));
  for (const [name, [offset, length]] of Object.entries(layout)) {
    const value = values[name];
    if (value === undefined) throw new Error(`encodeFigures: no value for ${name}`);
    const list: ArrayLike<number | null> = value === null || typeof value === 'number' ? [value] : value;
    if (list.length > length)
      throw new RangeError(`encodeFigures: ${name} has ${list.length} values; its slot holds ${length}`);
    for (let i = 0; i < length; i++) {
      const x = i < list.length ? list[i] : null;
      bytes.writeDoubleLE(x === null ? Number.NaN : x, 8 * (offset + i));
    }
  }
  for (const name of Object.keys(values)) if (!(name in layout)) throw new Error(`encodeFigures: ${name} has no slot`);
  return bytes.toString('base64');
}

/** The inverse of encodeFigures, as plain arrays by name (tests; the page has its own decoder). */
export function decodeFigures(layout: FigureLayout, base64: string): Record<string, number[]> {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== 8 * figureCount(layout))
    throw new RangeError(`decodeFigures: ${bytes.length} bytes for ${figureCount(layout)} values`);
  const out: Record<string, number[]> = {};
  for (const [name, [offset, length]] of Object.entries(layout)) {
    out[name] = Array.from({ length }, (_, i) => bytes.readDoubleLE(8 * (offset + i)));
  }
  return out;
}

/**
 * One image record: uint32 line, int32 label (-1: unlabeled), int32 predicted class, float32 confidence
 * (the network's own float32), then the pixels as bytes; little-endian. For 784 pixels a record is 800
 * bytes, so 240 records are 192,000 bytes: a multiple of 3, no base64 padding.
 */
export const IMAGE_RECORD_HEADER_BYTES = 16;

export const imageRecordBytes = (features: number): number => IMAGE_RECORD_HEADER_BYTES + features;

export function encodeImageRecords(images: KeptImage[], features: number): string {
  const size = imageRecordBytes(features);
  const bytes = Buffer.alloc(images.length * size);
  images.forEach((image, i) => {
    const at = i * size;
    if (image.pixels.length !== features)
      throw new RangeError(
        `encodeImageRecords: line ${image.line} has ${image.pixels.length} pixels, expected ${features}`,
      );
    bytes.writeUInt32LE(image.line, at);
    bytes.writeInt32LE(image.label, at + 4);
    bytes.writeInt32LE(image.predicted, at + 8);
    bytes.writeFloatLE(image.confidence, at + 12);
    bytes.set(image.pixels, at + IMAGE_RECORD_HEADER_BYTES);
  });
  return bytes.toString('base64');
}

export function decodeImageRecords(base64: string, features: number): KeptImage[] {
  const bytes = Buffer.from(base64, 'base64');
  const size = imageRecordBytes(features);
  if (bytes.length % size !== 0)
    throw new RangeError(`decodeImageRecords: ${bytes.length} bytes is not a whole number of ${size}-byte records`);
  const images: KeptImage[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    images.push({
      line: bytes.readUInt32LE(at),
      label: bytes.readInt32LE(at + 4),
      predicted: bytes.readInt32LE(at + 8),
      confidence: bytes.readFloatLE(at + 12),
      pixels: Uint8Array.from(bytes.subarray(at + IMAGE_RECORD_HEADER_BYTES, at + size)),
    });
  }
  return images;
}

/**
 * The first prepare script of the run page: decodes `page.data.run` into `page.run` with
 * `value(name)` (a scalar figure, NaN for none), `values(name)` (an array figure), `digits` (the image
 * records in page order: {line, file, label, predicted, confidence, pixels}) and `format` (int, pct, sig3,
 * shared by the other scripts so that every number reads the same).
 */
export const RUN_DATA_SCRIPT =
  `
var run = page.data && page.data.run;
if (!run) return;
page.run = run;
function bytesOf(base64) {
  var text = atob(base64);
  var bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
var figureBytes = bytesOf(run.figures);
var figureView = new DataView(figureBytes.buffer);
var figures = new Float64Array(figureBytes.length / 8);
for (var i = 0; i < figures.length; i++) figures[i] = figureView.getFloat64(8 * i, true);
function slot(name) {
  var where = run.layout[name];
  if (!where) throw new Error('no figure named ' + name);
  return where;
}
run.value = function (name) { return figures[slot(name)[0]]; };
run.values = function (name) { var where = slot(name); return Array.prototype.slice.call(figures.subarray(where[0], ` +
  `where[0] + where[1])); };

var imageBytes = bytesOf(run.images);
var imageView = new DataView(imageBytes.buffer);
run.digits = [];
for (var at = 0; at + run.recordBytes <= imageBytes.length; at += run.recordBytes) {
  run.digits.push({
    line: imageView.getUint32(at, true),
    label: imageView.getInt32(at + 4, true),
    predicted: imageView.getInt32(at + 8, true),
    confidence: imageView.getFloat32(at + 12, true),
    pixels: imageBytes.subarray(at + ${IMAGE_RECORD_HEADER_BYTES}, at + run.recordBytes)
  });
}
// Several input files: each image's file, and its record's line is the line there.
run.digits.forEach(function (digit, i) { digit.file = run.files ? run.files.names[run.files.ofImage[i]] : null; });

run.format = {
  /** Whole number with thousands separators. */
  int: function (n) { return String(Math.round(n)).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ','); },
  pct: function (ratio) { return (ratio * 100).toFixed(2) + '%'; },
  /** About three significant digits. */
  sig3: function (x) { return x === 0 ? '0' : x.toFixed(x < 0.01 ? 4 : x < 1 ? 3 : x < 10 ? 2 : x < 100 ? 1 : 0); },
  plural: function (n, word) { return word + (n === 1 ? '' : 's'); }
};
`;
