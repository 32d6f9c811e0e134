/** Go `math` and `strconv` behaviours PromQL results depend on, where JavaScript differs. */

/** Go `math.Pow`: unlike `**`, Pow(1, y) = 1 for any y (NaN too) and Pow(-1, ±Inf) = 1. */
export function goPow(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE ? 1 : 0;

/** Go `math.Frexp`: x = frac × 2^exp with frac in [½, 1). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let exp = 0;
  let v = x;
  if (Math.abs(v) < 2.2250738585072014e-308) {
    v *= 2 ** 52;
    exp = -52;
  }
  f64[0] = v;
  const hi = u32[HI] as number;
  exp += ((hi >>> 20) & 0x7ff) - 1022;
  u32[HI] = (hi & ~(0x7ff << 20)) | (1022 << 20);
  return [f64[0], exp];
}

/** Go `math.Log2` (exact for powers of two). */
export function goLog2(x: number): number {
  const [frac, exp] = frexp(x);
  if (frac === 0.5) return exp - 1;
  return Math.log(frac) * (1 / Math.LN2) + exp;
}

/** Go `math.Log10` = log2(x) × (Ln2/Ln10). */
export function goLog10(x: number): number {
  return goLog2(x) * (Math.LN2 / Math.LN10);
}

/** Shortest round-trip digits and decimal exponent of a finite, non-zero |x| (like strconv's shortest). */
function shortestDigits(x: number): { digits: string; dp: number } {
  const s = Math.abs(x).toExponential(); // shortest round-trip digits: "d.ddde±n"
  const [mant, e] = s.split('e') as [string, string];
  const digits = mant.replace('.', '');
  return { digits, dp: Number(e) + 1 };
}

/** Go `strconv.FormatFloat(f, 'f', -1, 64)` (count_values label values). */
export function formatFloatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const { digits, dp } = shortestDigits(x);
  let out: string;
  if (dp <= 0) out = `0.${'0'.repeat(-dp)}${digits}`;
  else if (dp >= digits.length) out = digits + '0'.repeat(dp - digits.length);
  else out = `${digits.slice(0, dp)}.${digits.slice(dp)}`;
  return x < 0 ? `-${out}` : out;
}

/** Go `fmt` `%v` of a float64: shortest `%g`, exponent form when exp < -4 or exp >= 6 (e.g. `1e+06`). */
export function formatFloatV(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const { digits, dp } = shortestDigits(x);
  const exp = dp - 1;
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${ae < 10 ? `0${ae}` : ae}`;
  }
  return sign + formatFloatF(Math.abs(x));
}

/** Go's strconv.ParseFloat(s, 64) for decimal, hex and inf/nan spellings; undefined where Go errors. */
export function parseGoFloat(s: string): number | undefined {
  if (s.trim() !== s || s === '') return undefined;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^[+-]?0[xX]/.test(s)) {
    const v = Number(s.replace(/^[+-]/, ''));
    if (!Number.isNaN(v)) return s.startsWith('-') ? -v : v;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Go fmt "%f" (strconv.FormatFloat(x, 'f', 6, 64) via fmt.fmtFloat), for holt_winters' and the @ modifier's errors.
// ---------------------------------------------------------------------------------------------

const u64 = new BigUint64Array(f64.buffer);

/**
 * Go `fmt.Sprintf("%f", x)`: exactly 6 decimals from the exact binary value, rounded half to even
 * (strconv's bigFtoa), never in exponent form; "NaN", "+Inf", "-Inf"; -0 keeps its sign.
 * (JS `toFixed(6)` differs: it rounds ties up, e.g. 1.0078125 → "1.007813" where Go prints
 * "1.007812", and switches to exponent form from 1e21.)
 */
export function formatFloatF6(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  f64[0] = x;
  const bits = u64[0] as bigint;
  const neg = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  // x = mant × 2^exp exactly.
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const exp = biased === 0 ? -1074 : biased - 1075;
  // q = x × 10^6 rounded to an integer, half to even.
  const scaled = mant * 1_000_000n;
  let q: bigint;
  if (exp >= 0) {
    q = scaled << BigInt(exp);
  } else {
    const den = 1n << BigInt(-exp);
    q = scaled / den;
    const twice = (scaled % den) * 2n;
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(7, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

/** Go's math.Round: half away from zero. */
export function goRound(x: number): number {
  const r = Math.round(Math.abs(x));
  return x < 0 ? -r : r;
}
