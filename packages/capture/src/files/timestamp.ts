/**
 * 64-bit timestamp arithmetic on plain numbers. A pcapng timestamp is a 64-bit count of units
 * (nanoseconds make about 1.7e18 today, past the 2^53 a double holds exactly), so it is split into
 * 16-bit digits and divided by long division: every intermediate value stays below 2^47.
 */

/** Remainder carried between the digits of one long division (no allocation per call). */
let remainder = 0;

function divideDigit(quotientSoFar: number, digit: number, divisor: number): number {
  const value = remainder * 65536 + digit;
  const quotient = Math.floor(value / divisor);
  remainder = value - quotient * divisor;
  return quotientSoFar * 65536 + quotient;
}

/** Splits `high * 2^32 + low` units into whole seconds and nanoseconds; returns seconds, writes nanoseconds to out[0]. */
export function unitsToTime(high: number, low: number, unitsPerSecond: number, out: Float64Array): number {
  let seconds: number;
  if (unitsPerSecond <= 2 ** 36) {
    remainder = 0;
    seconds = divideDigit(0, high >>> 16, unitsPerSecond);
    seconds = divideDigit(seconds, high & 0xffff, unitsPerSecond);
    seconds = divideDigit(seconds, low >>> 16, unitsPerSecond);
    seconds = divideDigit(seconds, low & 0xffff, unitsPerSecond);
  } else {
    // Finer than ~15 ps: no file does this in practice; keep it correct to a double's precision.
    const units = high * 2 ** 32 + low;
    seconds = Math.floor(units / unitsPerSecond);
    remainder = units - seconds * unitsPerSecond;
  }
  // Exact for the decimal resolutions files use (1e6, 1e9, 1e12); binary ones round down.
  out[0] =
    unitsPerSecond <= 1e9
      ? Math.floor(remainder * (1e9 / unitsPerSecond))
      : Math.floor(remainder / (unitsPerSecond / 1e9));
  return seconds;
}

/** Writes seconds and nanoseconds as a 64-bit nanosecond count: out[0] high 32 bits, out[1] low 32 bits. */
export function timeToNanoUnits(seconds: number, nanoseconds: number, out: Float64Array): void {
  const secondsHigh = Math.floor(seconds / 65536);
  const secondsLow = seconds - secondsHigh * 65536;
  const a = secondsHigh * 1e9; // times 2^16 below; < 2^46
  const b = secondsLow * 1e9 + nanoseconds; // < 2^46
  const aLow = a % 65536;
  const low = aLow * 65536 + b;
  out[0] = (a - aLow) / 65536 + Math.floor(low / 2 ** 32);
  out[1] = low % 2 ** 32;
}
