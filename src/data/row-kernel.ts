// The JavaScript row decoder: the fallback of the WebAssembly one (row-decoder-wasm.ts), and its oracle in the tests.
// An ordinary row is what csv-parse + RowParser accept without a second look: fields of ASCII digits (pixels 0..255,
// the label 0..labelMax) or, for a dropped column, of any bytes but ',', '"' and the line end, separated by ',' and
// ended by '\n' or '\r\n'. A decoder stops at any other line: block-decoder.ts hands it to csv-parse + RowParser.
import { columnRoles, DROPPED, LABEL, PIXEL } from './row-parser.js';
import type { DecodeSpec } from './types.js';

const NL = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
const ZERO = 48;
const NINE = 57;

/** What block-decoder.ts needs of a row decoder: this one, or WasmRowDecoder. */
export interface RowDecoder {
  /** The block's bytes. */
  readonly input: Buffer;
  /** Row slots (features floats each), labels (-1: none) and line numbers. */
  readonly x: Float32Array;
  readonly labels: Int16Array;
  readonly lines: Uint32Array;
  /** After decode(): the rows it decoded, and the number of the line where it stopped. */
  readonly rows: number;
  readonly line: number;
  /**
   * Decodes blank lines and ordinary rows of the input from offset `at` (a line start) to `end`, into row slots
   * `slot`, `slot + 1`, ... (at most `maxRows` rows; the first numbered `line`). Stops at `end`, right after the
   * maxRows-th row, or at the first line that is neither blank nor an ordinary row. Returns where it stopped.
   */
  decode(at: number, end: number, maxRows: number, slot: number, line: number): number;
}

/** The row decoder for one block in JavaScript (the only one for a layout with dropped columns). */
export class JsRowDecoder implements RowDecoder {
  readonly input: Buffer;
  readonly x: Float32Array;
  readonly labels: Int16Array;
  readonly lines: Uint32Array;
  rows = 0;
  line = 0;
  private readonly roles: Uint8Array;
  private readonly runs: Uint32Array;
  /** Whether a 0 pixel needs no store: x starts zero-filled, so only when table[0] is +0. */
  private readonly skipZeros: boolean;

  constructor(
    parts: readonly Uint8Array[],
    private readonly spec: DecodeSpec,
    maxRows: number,
  ) {
    this.input =
      parts.length === 1 ? Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].length) : Buffer.concat(parts);
    this.x = new Float32Array(maxRows * spec.features);
    this.labels = new Int16Array(maxRows);
    this.lines = new Uint32Array(maxRows);
    this.roles = columnRoles(spec.layout);
    this.runs = pixelRuns(this.roles);
    this.skipZeros = Object.is(spec.table[0], 0);
  }

  decode(at: number, end: number, maxRows: number, slot: number, line: number): number {
    // Everything the row loop reads, in locals: measured faster than reading it off `this` per row.
    const { input, x, labels, lines, roles, runs, skipZeros } = this;
    const { features, table } = this.spec;
    const labelMax = this.spec.classes - 1;
    let p = at;
    let rows = 0;
    while (p < end) {
      const c = input[p];
      if (c === NL || (c === CR && input[p + 1] === NL)) {
        p += c === NL ? 1 : 2;
        line++;
        continue;
      }
      if (rows >= maxRows) break;
      const base = (slot + rows) * features;
      const next = decodeRow(input, p, x, base, table, skipZeros, roles, runs, labelMax);
      if (next < 0) {
        x.fill(0, base, base + features); // the slot goes to the next row, which may skip its zeros
        break;
      }
      labels[slot + rows] = lastLabel;
      lines[slot + rows] = line;
      rows++;
      line++;
      p = next;
      if (rows >= maxRows) break;
    }
    this.rows = rows;
    this.line = line;
    return p;
  }
}

/** The label of the row decodeRow last accepted (-1 without a label column). */
let lastLabel = -1;

/**
 * Decodes the row at buf[p], whose fields have `roles`, into x[rowBase ..]: the position after its line end, or -1
 * when it is not ordinary (some of its pixels may be written). Its line end must be in buf. `runs` (pixelRuns) lets
 * the pixels between the label or dropped fields go through a tight loop.
 */
function decodeRow(
  buf: Uint8Array,
  p: number,
  x: Float32Array,
  rowBase: number,
  table: Float32Array,
  skipZeros: boolean,
  roles: Uint8Array,
  runs: Uint32Array,
  labelMax: number,
): number {
  const last = roles.length - 1;
  let o = rowBase;
  let label = -1;
  for (let f = 0; ; f++) {
    const run = runs[f];
    if (run > 0) {
      p = pixelsWithCommas(buf, p, run, x, o, table, skipZeros);
      if (p < 0) return -1;
      o += run;
      f += run;
    }
    // A label, a dropped field, or the last field.
    const role = roles[f];
    let c = buf[p];
    if (role === DROPPED) {
      while (c !== COMMA && c !== NL && c !== QUOTE && c !== undefined) c = buf[++p];
    } else {
      let v = c - ZERO;
      if (v < 0 || v > 9) return -1;
      c = buf[++p];
      while (c >= ZERO && c <= NINE) {
        v = v * 10 + (c - ZERO);
        c = buf[++p];
      }
      if (role === LABEL) {
        if (v > labelMax) return -1;
        label = v;
      } else {
        if (v > 255) return -1;
        if (v !== 0 || !skipZeros) x[o] = table[v];
        o++;
      }
    }
    if (f === last) {
      // The line end: '\n' or '\r\n'.
      if (c === CR && buf[p + 1] === NL) p++;
      else if (c !== NL) return -1;
      lastLabel = label;
      return p + 1;
    }
    if (c !== COMMA) return -1;
    p++;
  }
}

/** For each field, the pixel fields from it on that a ',' ends: 0 at a label, a dropped field and the last field. */
function pixelRuns(roles: Uint8Array): Uint32Array {
  const runs = new Uint32Array(roles.length);
  for (let f = roles.length - 2; f >= 0; f--) runs[f] = roles[f] === PIXEL ? runs[f + 1] + 1 : 0;
  return runs;
}

/**
 * `count` pixels, each followed by ',', into x[o ..]: the position after the last ',', or -1. "0," (~80% of MNIST's
 * pixels) takes a two-byte shortcut, with no store when x is zero-filled and table[0] is +0 (`skipZeros`).
 */
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
