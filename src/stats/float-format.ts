// Floats as the shortest decimal that reads back as the same float32 (at most 9 significant digits):
// exact for float32 and short for round values ("1", "0.5"). NaN and ±Infinity are written as JavaScript
// prints them.
const float32Bits = new Float32Array(1);
const float32BitsAsInt = new Uint32Array(float32Bits.buffer);

/** True when `digits` significant digits of `f` read back as the same float32. */
function roundTrips(f: number, digits: number): boolean {
  return Math.fround(Number(f.toPrecision(digits))) === f;
}

/** The shortest decimal representation of a float32 value that parses back to the same float32. */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const f = Math.fround(value);
  // 9 significant digits always round-trip a float32. Rounding to more digits never moves further from
  // f, so "round-trips" is monotone in the digit count and a binary search finds the shortest in ~3
  // toPrecision calls instead of up to 9 (this runs once per output row on the main thread).
  // The exception is a power of two, whose round-trip interval is narrower below than above it: there a
  // closer decimal below can fail where a farther one above succeeded, so search linearly.
  float32Bits[0] = f;
  let digits: number;
  if ((float32BitsAsInt[0] & 0x7fffff) === 0) {
    digits = 1;
    while (digits < 9 && !roundTrips(f, digits)) digits++;
  } else {
    let lo = 1;
    let hi = 9;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (roundTrips(f, mid)) hi = mid;
      else lo = mid + 1;
    }
    digits = hi;
  }
  return String(Number(f.toPrecision(digits)));
}
