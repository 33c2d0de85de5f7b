// Turning raw little/big-endian float bytes into the float32, row-major data every loader returns.
import { ModelError } from '../../errors.js';

/** A stored float element type: 2 (float16 or bfloat16), 4 or 8 bytes, either byte order. */
export interface FloatDtype {
  itemBytes: 2 | 4 | 8;
  littleEndian: boolean;
  /** 2-byte values are bfloat16 (the top half of a float32) rather than IEEE float16. */
  bfloat16?: boolean;
}

/**
 * The number of elements of `shape`, or an error naming the tensor when a dimension is not a
 * non-negative integer or the count exceeds `maxElements` (checked as it multiplies, so no overflow).
 */
export function elementCount(shape: readonly unknown[], maxElements: number, file: string, tensor: string): number {
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ModelError(
        file,
        `tensor ${tensor}: shape [${shape.join(', ')}] has a dimension that is not a non-negative integer`,
      );
    }
  }
  if ((shape as number[]).includes(0)) return 0;
  let count = 1;
  for (const dim of shape as number[]) {
    count *= dim;
    if (count > maxElements) {
      throw new ModelError(
        file,
        `tensor ${tensor}: shape [${shape.join(', ')}] has more elements than the file can hold`,
      );
    }
  }
  return count;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes `count` floats from `raw` (which must hold exactly count * itemBytes bytes) into float32. */
export function decodeFloats(raw: Uint8Array, count: number, dtype: FloatDtype): Float32Array {
  if (raw.length !== count * dtype.itemBytes) {
    throw new RangeError(`decodeFloats: ${raw.length} bytes for ${count} values of ${dtype.itemBytes} bytes`);
  }
  const out = new Float32Array(count);
  // The common case, little-endian float32 on a little-endian machine, is a copy of the bytes: a loop
  // of DataView reads costs ~10 ms of a run's start-up for the book's 45,000 weights (the JIT is cold).
  if (dtype.itemBytes === 4 && dtype.littleEndian && LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dtype.itemBytes === 4) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, dtype.littleEndian);
  } else if (dtype.itemBytes === 2) {
    // Both widen to float32 exactly.
    const widen = dtype.bfloat16 ? bfloat16ToFloat : float16ToFloat;
    for (let i = 0; i < count; i++) out[i] = widen(view.getUint16(i * 2, dtype.littleEndian));
  } else {
    // float64 -> float32 rounds to nearest; values beyond float32's range become +-Infinity, which the
    // network builder then refuses as non-finite.
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, dtype.littleEndian);
  }
  return out;
}

/** An IEEE 754 half-precision value (its 16 bits) as a number. */
export function float16ToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bfloatBits = new Uint32Array(1);
const bfloatValue = new Float32Array(bfloatBits.buffer);

/** A bfloat16 value (its 16 bits): the upper half of a float32. */
export function bfloat16ToFloat(bits: number): number {
  bfloatBits[0] = bits << 16;
  return bfloatValue[0];
}

/** Reorders column-major (Fortran) data of `shape` into row-major order. */
export function fortranToRowMajor(data: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length < 2) return data;
  const out = new Float32Array(data.length);
  // Strides of the column-major layout: the first index varies fastest.
  const fStrides: number[] = [];
  let stride = 1;
  for (const dim of shape) {
    fStrides.push(stride);
    stride *= dim;
  }
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let source = 0;
    for (let d = 0; d < shape.length; d++) source += index[d] * fStrides[d];
    out[i] = data[source];
    // Advance the row-major multi-index: the last index varies fastest.
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
