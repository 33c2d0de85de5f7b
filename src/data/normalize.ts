// Pixel scaling as a 256-entry lookup table: every pixel is a byte, so the batcher turns bytes into
// floats with one indexed load instead of a division per pixel, and every value is computed once.

/** How pixels 0..255 become the network's inputs: unit = x/255, none = the raw value. */
export const NORMALIZATIONS = ['unit', 'none'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

/**
 * `unit`: entry i is float32(i / 255). Math.fround of the double quotient is the correctly rounded
 * float32 quotient (double rounding is harmless for division when 53 >= 2*24 + 2), so it equals
 * numpy's `np.float32(i) / 255.0` bit for bit (checked and pinned in the tests).
 * `none`: entry i is i (the raw byte as a float).
 */
export function normalizationTable(mode: Normalization): Float32Array {
  const table = new Float32Array(256);
  switch (mode) {
    case 'unit':
      for (let i = 0; i < 256; i++) table[i] = i / 255;
      return table;
    case 'none':
      for (let i = 0; i < 256; i++) table[i] = i;
      return table;
    default:
      throw new RangeError(`unknown normalization '${String(mode)}' (expected unit or none)`);
  }
}
