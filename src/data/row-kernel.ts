// The byte loop that decodes one ordinary row straight into a batch's Float32Array. An ordinary row is
// what csv-parse + RowParser accept without a second look: `fieldCount` fields of ASCII digits (pixels
// 0..255, label 0..labelMax) separated by ',' and ended by '\n' or '\r\n'; for anything else this
// returns -1 and the caller hands the line to csv-parse + RowParser. For speed: pixels before the label,
// the label, pixels after it, no per-field "is this the label" test; "0," (~80% of MNIST pixels) takes
// a two-byte shortcut and no store when the batch is zero-filled and table[0] is +0 (`skipZeros`).

const NL = 10;
const CR = 13;
const COMMA = 44;
const ZERO = 48;
const NINE = 57;

/** The label of the row decodeRow last accepted (-1 when the layout has no label column). */
export let lastLabel = -1;

/**
 * Decodes the row at buf[p] into x[rowBase ..]: the position after its line end, or -1 when it is not
 * ordinary (some of its pixels may be written: the caller clears them). Its line end must be in buf.
 */
export function decodeRow(
  buf: Uint8Array,
  p: number,
  x: Float32Array,
  rowBase: number,
  table: Float32Array,
  skipZeros: boolean,
  fieldCount: number,
  labelIndex: number,
  labelMax: number,
): number {
  const pixelCount = labelIndex >= 0 ? fieldCount - 1 : fieldCount;
  let o = rowBase;
  let label = -1;
  const before = labelIndex >= 0 ? labelIndex : pixelCount - 1;
  if (before > 0) {
    p = pixelsWithCommas(buf, p, before, x, o, table, skipZeros);
    if (p < 0) return -1;
    o += before;
  }
  let c: number;
  let v: number;
  if (labelIndex >= 0) {
    v = buf[p] - ZERO;
    if (v < 0 || v > 9) return -1;
    c = buf[++p];
    while (c >= ZERO && c <= NINE) {
      v = v * 10 + (c - ZERO);
      c = buf[++p];
    }
    if (v > labelMax) return -1;
    label = v;
    if (labelIndex === fieldCount - 1) {
      p = lineEnd(buf, p, c);
      if (p >= 0) lastLabel = label;
      return p;
    }
    if (c !== COMMA) return -1;
    p++;
    const after = fieldCount - labelIndex - 2;
    if (after > 0) {
      p = pixelsWithCommas(buf, p, after, x, o, table, skipZeros);
      if (p < 0) return -1;
      o += after;
    }
  }
  // The last pixel, ended by the line end.
  v = buf[p] - ZERO;
  if (v < 0 || v > 9) return -1;
  c = buf[++p];
  while (c >= ZERO && c <= NINE) {
    v = v * 10 + (c - ZERO);
    c = buf[++p];
  }
  if (v > 255) return -1;
  p = lineEnd(buf, p, c);
  if (p < 0) return -1;
  if (v !== 0 || !skipZeros) x[o] = table[v];
  lastLabel = label;
  return p;
}

/** After the last field: '\n' or '\r\n' (c is buf[p]). The position after it, or -1. */
function lineEnd(buf: Uint8Array, p: number, c: number): number {
  if (c === NL) return p + 1;
  if (c === CR && buf[p + 1] === NL) return p + 2;
  return -1;
}

/** `count` pixels, each followed by ',', into x[o ..]. The position after the last ',', or -1. */
function pixelsWithCommas(
  buf: Uint8Array,
  p: number,
  count: number,
  x: Float32Array,
  o: number,
  table: Float32Array,
  skipZeros: boolean,
): number {
  for (let k = 0; k < count; k++) {
    let c = buf[p];
    let v: number;
    if (c === ZERO) {
      c = buf[p + 1];
      if (c === COMMA) {
        if (!skipZeros) x[o] = table[0];
        o++;
        p += 2;
        continue;
      }
      v = 0;
      p++;
    } else {
      v = c - ZERO;
      if (v < 0 || v > 9) return -1;
      c = buf[++p];
    }
    while (c >= ZERO && c <= NINE) {
      v = v * 10 + (c - ZERO);
      c = buf[++p];
    }
    if (c !== COMMA || v > 255) return -1;
    if (v !== 0 || !skipZeros) x[o] = table[v];
    o++;
    p++;
  }
  return p;
}

const QUOTE = 34;

/**
 * decodeRow for a layout with dropped columns: one field at a time by its role (0 pixel, 1 label, 2
 * dropped: any bytes but ',', '"' and the line end). Same contract and result; lastLabel is set too.
 */
export function decodeMappedRow(
  buf: Uint8Array,
  p: number,
  x: Float32Array,
  rowBase: number,
  table: Float32Array,
  roles: Uint8Array,
  labelMax: number,
): number {
  let o = rowBase;
  let label = -1;
  const last = roles.length - 1;
  for (let f = 0; f <= last; f++) {
    let c = buf[p];
    if (roles[f] === 2) {
      while (c !== COMMA && c !== NL && c !== QUOTE && c !== undefined) c = buf[++p];
      if (c === QUOTE || c === undefined) return -1;
      if (f === last) {
        if (c !== NL) return -1;
        lastLabel = label;
        return p + 1;
      }
      if (c !== COMMA) return -1;
      p++;
      continue;
    }
    let v = c - ZERO;
    if (v < 0 || v > 9) return -1;
    c = buf[++p];
    while (c >= ZERO && c <= NINE) {
      v = v * 10 + (c - ZERO);
      c = buf[++p];
    }
    if (roles[f] === 1) {
      if (v > labelMax) return -1;
      label = v;
    } else {
      if (v > 255) return -1;
      x[o++] = table[v];
    }
    if (f === last) {
      p = lineEnd(buf, p, c);
      if (p >= 0) lastLabel = label;
      return p;
    }
    if (c !== COMMA) return -1;
    p++;
  }
  return -1;
}
