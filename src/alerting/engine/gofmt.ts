/**
 * Go-compatible formatting of numbers, times and durations, so that templates, the HTTP API and
 * payloads print exactly what Prometheus (Go's fmt/strconv/time) prints.
 */

/** The exact decimal expansion of a finite, non-zero |v|: value = 0.digits × 10^dp. */
interface Decimal {
  digits: string;
  dp: number;
}

function exactDecimal(v: number): Decimal {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(v));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (expBits === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    dp = digits.length + e2;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed === '' ? '0' : trimmed, dp };
}

/** The shortest decimal that round-trips (what strconv uses for precision -1). */
function shortestDecimal(v: number): Decimal {
  const s = Math.abs(v).toExponential(); // d.ddddde±x, shortest round-trip digits
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) throw new Error(`unexpected exponential form ${s}`);
  const digits = ((m[1] ?? '') + (m[2] ?? '')).replace(/0+$/, '') || '0';
  return { digits, dp: Number(m[3]) + 1 };
}

/** Rounds to nd significant digits, half to even on the exact value (as Go's decimal.Round). */
function roundDecimal(d: Decimal, nd: number): Decimal {
  if (nd < 0) return { digits: '', dp: d.dp };
  if (nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next === 5 && nd + 1 === d.digits.length) {
    up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else up = next >= 5;
  let head = d.digits.slice(0, nd);
  let dp = d.dp;
  if (up) {
    if (nd === 0) return { digits: '1', dp: dp + 1 };
    const arr = head.split('');
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === '9') {
      arr[i] = '0';
      i--;
    }
    if (i < 0) {
      arr.unshift('1');
      dp++;
    } else arr[i] = String(Number(arr[i]) + 1);
    head = arr.join('');
  }
  head = head.replace(/0+$/, '');
  return { digits: head, dp };
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? (d.digits[i] ?? '0') : '0';
}

function fmtE(d: Decimal, prec: number, e: 'e' | 'E'): string {
  let s = d.digits === '' ? '0' : digitAt(d, 0);
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  const exp = d.digits === '' || d.digits === '0' ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(d: Decimal, prec: number): string {
  let s = '';
  if (d.dp > 0) {
    for (let i = 0; i < d.dp; i++) s += digitAt(d, i);
  } else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(d, d.dp + i);
  }
  return s;
}

/** strconv.FormatFloat(v, fmt, prec, 64). */
export function formatFloat(v: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const shortest = prec < 0;
  let d: Decimal = v === 0 ? { digits: '', dp: 0 } : shortest ? shortestDecimal(v) : exactDecimal(v);
  let out: string;
  if (fmt === 'e' || fmt === 'E') {
    if (!shortest) d = roundDecimal(d, prec + 1);
    else prec = Math.max(d.digits.length - 1, 0);
    out = fmtE(d, prec, fmt);
  } else if (fmt === 'f') {
    if (!shortest) d = roundDecimal(d, d.dp + prec);
    else prec = Math.max(d.digits.length - d.dp, 0);
    out = fmtF(d, prec);
  } else {
    let eprec = prec;
    if (!shortest) {
      if (eprec === 0) eprec = 1;
      d = roundDecimal(d, eprec);
      prec = eprec;
    } else {
      prec = d.digits.length;
    }
    const nd = d.digits.length;
    if (eprec > nd && nd >= d.dp) eprec = nd;
    if (shortest) eprec = 6;
    const exp = d.dp - 1;
    if (exp < -4 || exp >= eprec) {
      let p = prec;
      if (p > nd) p = nd;
      out = fmtE(d, Math.max(p - 1, 0), fmt === 'g' ? 'e' : 'E');
    } else {
      let p = prec;
      if (p > d.dp) p = nd;
      out = fmtF(d, Math.max(p - d.dp, 0));
    }
  }
  return neg ? `-${out}` : out;
}

/** fmt's %v of a float64 (and fmt.Sprint). */
export function goFloatString(v: number): string {
  return formatFloat(v, 'g', -1);
}

/** Go's fmt.Sprintf("%.Ng", v). */
export function formatG(v: number, prec: number): string {
  return formatFloat(v, 'g', prec);
}

/** time.Time.String() in UTC: `2006-01-02 15:04:05.999999999 -0700 MST` → `... +0000 UTC`. */
export function goTimeStringUTC(ms: number, extraNanos = 0): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const year = d.getUTCFullYear();
  let s = `${year < 0 ? '-' + p(-year, 4) : p(year, 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  const nanos = d.getUTCMilliseconds() * 1e6 + extraNanos;
  if (nanos !== 0) s += '.' + String(nanos).padStart(9, '0').replace(/0+$/, '');
  return `${s} +0000 UTC`;
}

/** RFC 3339 with Go's RFC3339Nano trimming (JSON encoding of time.Time in UTC). */
export function rfc3339(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return iso.replace(/\.(\d{3})Z$/, (_m, f: string) => {
    const t = f.replace(/0+$/, '');
    return t === '' ? 'Z' : `.${t}Z`;
  });
}

/** time.Duration.String() for a duration in nanoseconds (as a bigint). */
export function goDurationString(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    // sub-second: ns, µs, ms with fractional part
    let unit: string;
    let div: bigint;
    if (u < 1000n) return `${neg ? '-' : ''}${u}ns`;
    if (u < 1_000_000n) {
      unit = 'µs';
      div = 1000n;
    } else {
      unit = 'ms';
      div = 1_000_000n;
    }
    out = fracString(u, div) + unit;
  } else {
    const secNs = u % 60_000_000_000n;
    u = u / 60_000_000_000n;
    out = fracString(secNs, 1_000_000_000n) + 's';
    if (u > 0n) {
      out = `${u % 60n}m` + out;
      u = u / 60n;
      if (u > 0n) out = `${u}h` + out;
    }
  }
  return (neg ? '-' : '') + out;
}

function fracString(v: bigint, div: bigint): string {
  const whole = v / div;
  const frac = v % div;
  if (frac === 0n) return String(whole);
  const width = String(div).length - 1;
  return `${whole}.${String(frac).padStart(width, '0').replace(/0+$/, '')}`;
}

/** Prometheus model.Duration.String(): `1h30m`, `5m`, `0s`, `1d`, `1w`, `1y`, `500ms`. */
export function promDurationString(ms: number): string {
  if (ms === 0) return '0s';
  let r = '';
  let rest = Math.trunc(ms);
  const units: [string, number][] = [
    ['y', 365 * 24 * 3600 * 1000],
    ['w', 7 * 24 * 3600 * 1000],
    ['d', 24 * 3600 * 1000],
    ['h', 3600 * 1000],
    ['m', 60 * 1000],
    ['s', 1000],
    ['ms', 1],
  ];
  for (const [u, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      r += `${n}${u}`;
      rest -= n * size;
    }
  }
  return r;
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Prometheus model.ParseDuration: returns milliseconds, or throws with Prometheus's message. */
export function parsePromDuration(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new Error('empty duration string');
  const m = DURATION_RE.exec(s);
  if (m === null) throw new Error(`not a valid duration string: "${s}"`);
  const mult = [365 * 24 * 3600 * 1000, 7 * 24 * 3600 * 1000, 24 * 3600 * 1000, 3600 * 1000, 60 * 1000, 1000, 1];
  let total = 0;
  let any = false;
  for (let i = 0; i < mult.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) {
      any = true;
      total += Number(g) * (mult[i] ?? 0);
    }
  }
  if (!any) throw new Error(`not a valid duration string: "${s}"`);
  if (!Number.isSafeInteger(total)) throw new Error('duration out of range');
  return total;
}

/** Go's strconv.Quote for ASCII-ish strings (%q). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Go's url.QueryEscape. */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** strutil.TableLinkForExpression / GraphLinkForExpression. */
export function tableLinkForExpression(expr: string): string {
  return `/graph?g0.expr=${goQueryEscape(expr)}&g0.tab=1`;
}
export function graphLinkForExpression(expr: string): string {
  return `/graph?g0.expr=${goQueryEscape(expr)}&g0.tab=0`;
}
