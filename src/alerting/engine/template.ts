/**
 * A Go text/template subset with Prometheus's template functions, for alert labels and
 * annotations. Parsing is strict (a syntax error is a load error, as `promtool check rules`
 * reports it); expansion never throws: a failure yields Prometheus's
 * `<error expanding template: …>` text.
 *
 * Prometheus prepends `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}
 * {{$externalURL := .ExternalURL}}{{$value := .Value}}` to every template and names it
 * `__alert_<rule>`; error positions below are computed on that same text.
 */
import { RE2JS } from 're2js';
import {
  formatFloat,
  goDurationString,
  goFloatString,
  goQueryEscape,
  goQuote,
  goTimeStringUTC,
  graphLinkForExpression,
  parsePromDuration,
  tableLinkForExpression,
} from './gofmt.js';
import { parseGoFloat } from '../promql/gomath.js';

export const ALERT_TEMPLATE_DEFS =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

// ---------------------------------------------------------------------------------------------
// Values

/** A Go map[string]string (labels). */
export class GoMap {
  constructor(readonly m: Readonly<Record<string, string>>) {}
}
class GoTime {
  constructor(
    readonly ms: number,
    readonly extraNanos: number,
  ) {}
}
class GoDuration {
  constructor(readonly ns: bigint) {}
}
class GoHTML {
  constructor(readonly s: string) {}
}
/** The template data: Prometheus's AlertTemplateData struct. */
class AlertData {
  constructor(
    readonly labels: GoMap,
    readonly externalLabels: GoMap,
    readonly externalURL: string,
    readonly value: number,
  ) {}
}
/** Go values: float64 = number, int = bigint, nil/invalid = undefined. */
type V = string | number | bigint | boolean | undefined | GoMap | GoTime | GoDuration | GoHTML | AlertData;

const DATA_TYPE =
  'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }';

function typeName(v: V): string {
  if (v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoMap) return 'map[string]string';
  if (v instanceof GoTime) return 'time.Time';
  if (v instanceof GoDuration) return 'time.Duration';
  if (v instanceof GoHTML) return 'template.HTML';
  return DATA_TYPE;
}

/** fmt.Sprint of one value. */
function sprint1(v: V): string {
  if (v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloatString(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof GoMap) {
    return `map[${Object.keys(v.m)
      .sort()
      .map((k) => `${k}:${v.m[k]}`)
      .join(' ')}]`;
  }
  if (v instanceof GoTime) return goTimeStringUTC(v.ms, v.extraNanos);
  if (v instanceof GoDuration) return goDurationString(v.ns);
  if (v instanceof GoHTML) return v.s;
  return `{${sprint1(v.labels)} ${sprint1(v.externalLabels)} ${v.externalURL} ${goFloatString(v.value)}}`;
}

/** fmt.Sprint(args...): spaces between operands when neither side is a string. */
function sprint(args: V[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += sprint1(a);
  });
  return out;
}

function isTrue(v: V): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof GoMap) return Object.keys(v.m).length > 0;
  if (v instanceof GoHTML) return v.s.length > 0;
  if (v instanceof GoDuration) return v.ns !== 0n;
  return true;
}

// ---------------------------------------------------------------------------------------------
// printf (fmt.Sprintf subset: flags, width, precision; verbs v s q d f F e E g G x X t %)

export function goSprintf(format: string, args: readonly V[]): string {
  let out = '';
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    i++;
    let minus = false;
    let plus = false;
    let space = false;
    let zero = false;
    let sharp = false;
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') minus = true;
      else if (f === '+') plus = true;
      else if (f === ' ') space = true;
      else if (f === '0') zero = true;
      else if (f === '#') sharp = true;
      else break;
    }
    let width: number | undefined;
    let prec: number | undefined;
    let ws = '';
    while (i < format.length && /[0-9]/.test(format[i] ?? '')) ws += format[i++];
    if (ws !== '') width = Number(ws);
    if (format[i] === '.') {
      i++;
      let ps = '';
      while (i < format.length && /[0-9]/.test(format[i] ?? '')) ps += format[i++];
      prec = ps === '' ? 0 : Number(ps);
    }
    const verb = format[i];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    let s = formatVerb(verb, a, prec, plus, space, sharp);
    if (width !== undefined && s.length < width) {
      const pad = width - s.length;
      if (minus) s = s + ' '.repeat(pad);
      else if (zero && (typeof a === 'number' || typeof a === 'bigint') && /^[+-]?[0-9.]/.test(s)) {
        const sign = /^[+-]/.test(s) ? (s[0] ?? '') : '';
        s = sign + '0'.repeat(pad) + s.slice(sign.length);
      } else s = ' '.repeat(pad) + s;
    }
    out += s;
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${typeName(a)}=${sprint1(a)}`).join(', ') + ')';
  }
  return out;
}

function signed(s: string, plus: boolean, space: boolean): string {
  if (s.startsWith('-') || s === 'NaN') return s;
  if (s.startsWith('+')) return plus ? s : s;
  return plus ? '+' + s : space ? ' ' + s : s;
}

function formatVerb(verb: string, a: V, prec: number | undefined, plus: boolean, space: boolean, sharp: boolean): string {
  const bad = () => `%!${verb}(${typeName(a)}=${sprint1(a)})`;
  if (verb === 'v') {
    if (typeof a === 'number') return signed(prec === undefined ? goFloatString(a) : formatFloat(a, 'g', prec), plus, space);
    return sprint1(a);
  }
  if (typeof a === 'number') {
    switch (verb) {
      case 'e':
      case 'E':
        return signed(formatFloat(a, verb, prec ?? 6), plus, space);
      case 'f':
      case 'F':
        return signed(formatFloat(a, 'f', prec ?? 6), plus, space);
      case 'g':
      case 'G':
        return signed(formatFloat(a, verb, prec ?? -1), plus, space);
      default:
        return bad();
    }
  }
  if (typeof a === 'bigint') {
    switch (verb) {
      case 'd':
        return signed(String(a), plus, space);
      case 'x':
        return (a < 0n ? '-' : '') + (sharp ? '0x' : '') + (a < 0n ? -a : a).toString(16);
      case 'X':
        return (a < 0n ? '-' : '') + (sharp ? '0X' : '') + (a < 0n ? -a : a).toString(16).toUpperCase();
      case 'c':
        return String.fromCodePoint(Number(a));
      default:
        return bad();
    }
  }
  if (typeof a === 'string' || a instanceof GoHTML) {
    const s = typeof a === 'string' ? a : a.s;
    switch (verb) {
      case 's':
        return prec !== undefined ? [...s].slice(0, prec).join('') : s;
      case 'q':
        return goQuote(s);
      case 'x':
        return Buffer.from(s, 'utf8').toString('hex');
      case 'X':
        return Buffer.from(s, 'utf8').toString('hex').toUpperCase();
      default:
        return bad();
    }
  }
  if (typeof a === 'boolean') return verb === 't' ? String(a) : bad();
  if (a === undefined) return verb === 's' ? '%!s(<nil>)' : `%!${verb}(<nil>)`;
  if ((a instanceof GoTime || a instanceof GoDuration) && verb === 's') return sprint1(a);
  if (a instanceof GoDuration && verb === 'd') return String(a.ns);
  return bad();
}

// ---------------------------------------------------------------------------------------------
// Lexer / parser

type Arg =
  | { t: 'field'; pos: number; chain: string[] } // `.` has chain []
  | { t: 'var'; pos: number; name: string; chain: string[] }
  | { t: 'ident'; pos: number; name: string }
  | { t: 'string'; pos: number; value: string; text: string }
  | { t: 'number'; pos: number; text: string; isFloat: boolean; f: number; i: bigint | undefined }
  | { t: 'bool'; pos: number; value: boolean }
  | { t: 'nil'; pos: number }
  | { t: 'pipe'; pos: number; pipe: Pipe; chain: string[] };
interface Cmd {
  pos: number;
  args: Arg[];
}
interface Pipe {
  pos: number;
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}
type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pos: number; pipe: Pipe }
  | { t: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: Node[]; elseList: Node[] | undefined }
  | { t: 'break' | 'continue'; pos: number };

export class TemplateParseError extends Error {
  override readonly name = 'TemplateParseError';
}

interface Tok {
  k: 'ident' | 'field' | 'var' | 'string' | 'raw' | 'number' | 'char' | 'pipe' | 'lparen' | 'rparen' | 'decl' | 'assign' | 'comma' | 'end' | 'space' | 'dot';
  v: string;
  pos: number;
}

/** Known functions (Go builtins + Prometheus's), for parse-time "function not defined". */
const KNOWN_FUNCS = new Set<string>();

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false']);

class Parser {
  private i = 0;
  private line = 1;
  constructor(
    private readonly src: string,
    private readonly name: string,
    private readonly posBase: number,
  ) {}

  fail(msg: string, at?: number): never {
    const line = at === undefined ? this.line : 1 + (this.src.slice(0, at).match(/\n/g)?.length ?? 0);
    throw new TemplateParseError(`template: ${this.name}:${line}: ${msg}`);
  }

  parse(): Node[] {
    const { list, end } = this.parseList(true);
    if (end !== 'eof') this.fail(`unexpected {{${end}}}`);
    return list;
  }

  /** Parses until {{end}} / {{else …}} / EOF. Returns the terminator. */
  private parseList(top: boolean): { list: Node[]; end: 'eof' | 'end' | 'else'; elseTail?: Tok[]; elsePos?: number } {
    const list: Node[] = [];
    for (;;) {
      const open = this.src.indexOf('{{', this.i);
      if (open === -1) {
        if (this.i < this.src.length) list.push({ t: 'text', text: this.src.slice(this.i) });
        this.i = this.src.length;
        if (!top) this.fail('unexpected EOF');
        return { list, end: 'eof' };
      }
      let text = this.src.slice(this.i, open);
      let p = open + 2;
      const trimLeft = this.src[p] === '-' && /[ \t\r\n]/.test(this.src[p + 1] ?? '');
      if (trimLeft) {
        text = text.replace(/[ \t\r\n]+$/, '');
        p += 1;
      }
      if (text !== '') list.push({ t: 'text', text });
      this.line += (this.src.slice(this.i, open).match(/\n/g) ?? []).length;
      this.i = p;
      // comment
      const afterSpace = this.src.slice(p).match(/^[ \t\r\n]*/)?.[0].length ?? 0;
      if (this.src.startsWith('/*', p + afterSpace) || this.src.startsWith('/*', p)) {
        const cstart = this.src.startsWith('/*', p) ? p : p + afterSpace;
        const cend = this.src.indexOf('*/', cstart + 2);
        if (cend === -1) this.fail('unclosed comment');
        let q = cend + 2;
        q += this.src.slice(q).match(/^[ \t\r\n]*/)?.[0].length ?? 0;
        let trimRight = false;
        if (this.src.startsWith('-}}', q)) {
          trimRight = true;
          q += 1;
        }
        if (!this.src.startsWith('}}', q)) this.fail('comment ends before closing delimiter');
        this.line += (this.src.slice(this.i, q).match(/\n/g) ?? []).length;
        this.i = q + 2;
        if (trimRight) this.trimFollowing();
        continue;
      }
      const toks = this.lexAction();
      const first = toks[0];
      if (first === undefined) this.fail('missing value for command');
      if (first.k === 'ident' && KEYWORDS.has(first.v) && !['nil', 'true', 'false'].includes(first.v)) {
        const kw = first.v;
        const rest = toks.slice(1);
        switch (kw) {
          case 'end':
            if (rest.length > 0) this.fail(`unexpected ${rest[0]?.v ?? ''} in end`);
            if (top) this.fail('unexpected {{end}}');
            return { list, end: 'end' };
          case 'else':
            if (top) this.fail('unexpected {{else}}');
            return { list, end: 'else', elseTail: rest, elsePos: first.pos };
          case 'if':
          case 'with':
          case 'range':
            list.push(this.parseControl(kw, rest, first.pos));
            break;
          case 'break':
          case 'continue':
            list.push({ t: kw, pos: first.pos });
            break;
          default:
            this.fail(`{{${kw}}} is not supported in alert templates`);
        }
        continue;
      }
      list.push({ t: 'action', pos: first.pos, pipe: this.parsePipe(toks, first.pos, false) });
    }
  }

  private parseControl(kw: 'if' | 'with' | 'range', toks: Tok[], pos: number): Node {
    if (toks.length === 0) this.fail(`missing value for ${kw}`);
    const pipe = this.parsePipe(toks, toks[0]?.pos ?? pos, kw === 'range');
    const body = this.parseList(false);
    let elseList: Node[] | undefined;
    if (body.end === 'else') {
      const tail = body.elseTail ?? [];
      if (tail.length > 0) {
        // {{else if …}} / {{else with …}}: sugar for {{else}}{{if …}}…{{end}}
        const head = tail[0];
        if (head?.k !== 'ident' || (head.v !== 'if' && head.v !== 'with')) this.fail(`unexpected ${head?.v ?? ''} in else`);
        if (head.v !== kw && !(kw === 'if' && head.v === 'if') && !(kw === 'with' && head.v === 'with')) this.fail(`unexpected ${head.v} in else`);
        elseList = [this.parseControl(head.v as 'if' | 'with', tail.slice(1), head.pos)];
        return { t: kw, pos, pipe, list: body.list, elseList };
      }
      const e = this.parseList(false);
      if (e.end !== 'end') this.fail('expected end; found {{else}}');
      elseList = e.list;
    }
    return { t: kw, pos, pipe, list: body.list, elseList };
  }

  private trimFollowing(): void {
    const m = this.src.slice(this.i).match(/^[ \t\r\n]*/)?.[0] ?? '';
    this.line += (m.match(/\n/g) ?? []).length;
    this.i += m.length;
  }

  /** Lexes one action's tokens up to and including `}}` (handles ` -}}`). */
  private lexAction(): Tok[] {
    const toks: Tok[] = [];
    const src = this.src;
    let depth = 0;
    for (;;) {
      if (this.i >= src.length) this.fail('unclosed action');
      const c = src[this.i] ?? '';
      const pos = this.i;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
        if (src[this.i + 1] === '-' && src.startsWith('}}', this.i + 2) && /[ \t\r\n]/.test(c)) {
          if (depth > 0) this.fail('unclosed left paren');
          this.i += 4;
          this.trimFollowing();
          return toks;
        }
        if (c === '\n') this.fail('unclosed action');
        this.i++;
        continue;
      }
      if (src.startsWith('}}', this.i)) {
        if (depth > 0) this.fail('unclosed left paren');
        this.i += 2;
        return toks;
      }
      if (c === '|') {
        toks.push({ k: 'pipe', v: '|', pos });
        this.i++;
      } else if (c === '(') {
        depth++;
        toks.push({ k: 'lparen', v: '(', pos });
        this.i++;
      } else if (c === ')') {
        depth--;
        if (depth < 0) this.fail('unexpected right paren');
        toks.push({ k: 'rparen', v: ')', pos });
        this.i++;
      } else if (c === ',') {
        toks.push({ k: 'comma', v: ',', pos });
        this.i++;
      } else if (src.startsWith(':=', this.i)) {
        toks.push({ k: 'decl', v: ':=', pos });
        this.i += 2;
      } else if (c === '=') {
        toks.push({ k: 'assign', v: '=', pos });
        this.i++;
      } else if (c === '"') {
        let j = this.i + 1;
        while (j < src.length && src[j] !== '"') {
          if (src[j] === '\\') j++;
          if (src[j] === '\n') this.fail('unterminated quoted string');
          j++;
        }
        if (j >= src.length) this.fail('unterminated quoted string');
        toks.push({ k: 'string', v: src.slice(this.i, j + 1), pos });
        this.i = j + 1;
      } else if (c === '`') {
        const j = src.indexOf('`', this.i + 1);
        if (j === -1) this.fail('unterminated raw quoted string');
        toks.push({ k: 'raw', v: src.slice(this.i, j + 1), pos });
        this.i = j + 1;
      } else if (c === "'") {
        const m = /^'(\\.|[^'\\])'/.exec(src.slice(this.i));
        if (m === null) this.fail('unterminated character constant');
        toks.push({ k: 'char', v: m[0], pos });
        this.i += m[0].length;
      } else if (c === '$') {
        const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(this.i));
        const v = m?.[0] ?? '$';
        toks.push({ k: 'var', v, pos });
        this.i += v.length;
      } else if (c === '.') {
        const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(this.i));
        if (m !== null) {
          toks.push({ k: 'field', v: m[0], pos });
          this.i += m[0].length;
        } else if (/[0-9]/.test(src[this.i + 1] ?? '')) {
          this.lexNumber(toks);
        } else {
          toks.push({ k: 'dot', v: '.', pos });
          this.i++;
        }
      } else if (/[0-9+-]/.test(c)) {
        this.lexNumber(toks);
      } else if (/[A-Za-z_]/.test(c)) {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(this.i));
        const v = m?.[0] ?? c;
        toks.push({ k: 'ident', v, pos });
        this.i += v.length;
      } else {
        const cp = src.codePointAt(this.i) ?? 0;
        this.fail(`unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, '0')}`);
      }
    }
  }

  private lexNumber(toks: Tok[]): void {
    const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?)/.exec(this.src.slice(this.i));
    if (m === null || m[0] === '+' || m[0] === '-') this.fail(`bad number syntax: "${this.src.slice(this.i, this.i + 2)}"`);
    toks.push({ k: 'number', v: m[0], pos: this.i });
    this.i += m[0].length;
    if (/[A-Za-z0-9_.]/.test(this.src[this.i] ?? '')) this.fail(`bad number syntax: "${m[0]}${this.src[this.i] ?? ''}"`);
  }

  private parsePipe(toks: Tok[], pos: number, allowRangeDecl: boolean): Pipe {
    let k = 0;
    const decl: string[] = [];
    let assign = false;
    // declarations: $x := / $x = / $k, $v :=
    const t0 = toks[0];
    const t1 = toks[1];
    if (t0?.k === 'var' && (t1?.k === 'decl' || t1?.k === 'assign')) {
      decl.push(t0.v);
      assign = t1.k === 'assign';
      k = 2;
    } else if (allowRangeDecl && t0?.k === 'var' && t1?.k === 'comma' && toks[2]?.k === 'var' && toks[3]?.k === 'decl') {
      decl.push(t0.v, toks[2].v);
      k = 4;
    }
    const cmds: Cmd[] = [];
    let cur: Arg[] = [];
    let cmdPos = toks[k]?.pos ?? pos;
    const flush = () => {
      if (cur.length === 0) this.fail('missing value for command');
      cmds.push({ pos: cmdPos, args: cur });
      cur = [];
    };
    while (k < toks.length) {
      const t = toks[k] as Tok;
      if (t.k === 'pipe') {
        flush();
        k++;
        cmdPos = toks[k]?.pos ?? t.pos;
        continue;
      }
      const [arg, next] = this.parseOperand(toks, k);
      cur.push(arg);
      k = next;
    }
    flush();
    for (const c of cmds.slice(1)) {
      const a = c.args[0];
      if (a !== undefined && a.t !== 'ident' && a.t !== 'field' && a.t !== 'var' && a.t !== 'pipe') {
        this.fail(`non executable command in pipeline stage ${cmds.indexOf(c) + 1}`);
      }
    }
    return { pos, decl, assign, cmds };
  }

  private parseOperand(toks: Tok[], k: number): [Arg, number] {
    const t = toks[k] as Tok;
    let arg: Arg;
    let next = k + 1;
    switch (t.k) {
      case 'field':
        arg = { t: 'field', pos: t.pos, chain: [t.v.slice(1)] };
        break;
      case 'dot':
        arg = { t: 'field', pos: t.pos, chain: [] };
        break;
      case 'var':
        arg = { t: 'var', pos: t.pos, name: t.v, chain: [] };
        break;
      case 'ident':
        if (t.v === 'true' || t.v === 'false') arg = { t: 'bool', pos: t.pos, value: t.v === 'true' };
        else if (t.v === 'nil') arg = { t: 'nil', pos: t.pos };
        else {
          if (KEYWORDS.has(t.v)) this.fail(`unexpected <${t.v}> in command`, t.pos);
          if (t.v === 'query') {
            this.fail('function "query" is not supported: Vigil templates cannot run PromQL queries', t.pos);
          }
          if (!KNOWN_FUNCS.has(t.v)) this.fail(`function "${t.v}" not defined`, t.pos);
          arg = { t: 'ident', pos: t.pos, name: t.v };
        }
        break;
      case 'string':
        arg = { t: 'string', pos: t.pos, value: unquoteGo(t.v, (m) => this.fail(m, t.pos)), text: t.v };
        break;
      case 'raw':
        arg = { t: 'string', pos: t.pos, value: t.v.slice(1, -1), text: t.v };
        break;
      case 'char': {
        const s = unquoteGo(`"${t.v.slice(1, -1).replace(/"/g, '\\"')}"`, (m) => this.fail(m, t.pos));
        const cp = BigInt(s.codePointAt(0) ?? 0);
        arg = { t: 'number', pos: t.pos, text: t.v, isFloat: false, f: Number(cp), i: cp };
        break;
      }
      case 'number':
        arg = parseNumber(t, (m) => this.fail(m, t.pos));
        break;
      case 'lparen': {
        let depth = 1;
        let j = k + 1;
        while (j < toks.length && depth > 0) {
          if (toks[j]?.k === 'lparen') depth++;
          else if (toks[j]?.k === 'rparen') depth--;
          j++;
        }
        if (depth !== 0) this.fail('unclosed left paren', t.pos);
        const inner = toks.slice(k + 1, j - 1);
        if (inner.length === 0) this.fail('missing value for parenthesized pipeline', t.pos);
        arg = { t: 'pipe', pos: t.pos, pipe: this.parsePipe(inner, inner[0]?.pos ?? t.pos, false), chain: [] };
        next = j;
        break;
      }
      default:
        this.fail(`unexpected "${t.v}" in operand`, t.pos);
    }
    // field chains after a variable, a dot-field or a parenthesized pipeline: $x.a.b, (…).a
    while (toks[next]?.k === 'field' && (arg.t === 'var' || arg.t === 'field' || arg.t === 'pipe') && toks[next]?.pos === endPos(toks[next - 1])) {
      (arg as { chain: string[] }).chain.push((toks[next] as Tok).v.slice(1));
      next++;
    }
    return [arg, next];
  }
}

function endPos(t: Tok | undefined): number {
  return t === undefined ? -1 : t.pos + t.v.length;
}

function parseNumber(t: Tok, fail: (m: string) => never): Arg {
  const text = t.v.replace(/_/g, '');
  const looksFloat = /[.eE]/.test(text) && !/^[+-]?0[xX]/.test(text);
  if (!looksFloat) {
    try {
      const neg = text.startsWith('-');
      const body = text.replace(/^[+-]/, '');
      let i = /^0[oO]/.test(body) ? BigInt('0o' + body.slice(2)) : /^0[0-7]+$/.test(body) ? BigInt('0o' + body.slice(1)) : BigInt(body);
      if (neg) i = -i;
      if (i > 2n ** 63n - 1n || i < -(2n ** 63n)) fail(`integer overflow: "${t.v}"`);
      return { t: 'number', pos: t.pos, text: t.v, isFloat: false, f: Number(i), i };
    } catch (e) {
      if (e instanceof TemplateParseError) throw e;
      fail(`bad number syntax: "${t.v}"`);
    }
  }
  const f = Number(text);
  if (Number.isNaN(f)) fail(`bad number syntax: "${t.v}"`);
  return { t: 'number', pos: t.pos, text: t.v, isFloat: true, f, i: Number.isInteger(f) ? BigInt(f) : undefined };
}

function unquoteGo(q: string, fail: (m: string) => never): string {
  let out = '';
  for (let i = 1; i < q.length - 1; i++) {
    const c = q[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = q[++i];
    switch (n) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case "'":
        out += "'";
        break;
      case 'x': {
        const h = q.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail(`invalid syntax: ${q}`);
        out += String.fromCharCode(parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const len = n === 'u' ? 4 : 8;
        const h = q.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) fail(`invalid syntax: ${q}`);
        out += String.fromCodePoint(parseInt(h, 16));
        i += len;
        break;
      }
      default:
        fail(`invalid syntax: ${q}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Functions

class FuncError extends Error {}
class ExecError extends Error {
  constructor(
    readonly at: number,
    readonly context: string,
    msg: string,
  ) {
    super(msg);
  }
}

type ParamKind = 'any' | 'string' | 'float';
interface FuncDef {
  params: ParamKind[];
  variadic?: ParamKind;
  fn: (args: V[], env: ExpandEnv) => V;
}

function goParseFloat(s: string): number {
  const v = parseGoFloat(s);
  if (v !== undefined) return v;
  throw new FuncError(`strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`);
}

function convertToFloat(v: V): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return goParseFloat(v);
  if (v instanceof GoDuration) return Number(v.ns) / 1e9;
  throw new FuncError(`can't convert ${typeName(v)} to float`);
}

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return formatFloat(v, 'g', 4);
  if (Math.abs(v) >= 1) {
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return formatFloat(v, 'g', 4) + prefix;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return formatFloat(v, 'g', 4) + prefix;
}

function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return formatFloat(v, 'g', 4);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return formatFloat(v, 'g', 4) + prefix;
}

function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return formatFloat(v, 'g', 4);
  if (v === 0) return formatFloat(v, 'g', 4) + 's';
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const duration = BigInt(Math.trunc(v));
    const seconds = duration % 60n;
    const minutes = (duration / 60n) % 60n;
    const hours = (duration / 3600n) % 24n;
    const days = duration / 86400n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${formatFloat(v, 'g', 4)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatFloat(v, 'g', 4)}${prefix}s`;
}

/** model.TimeFromUnixNano(int64(v*1e9)).Time(): millisecond precision, truncated toward zero. */
function floatToTime(v: number): GoTime {
  const ns = v * 1e9;
  if (ns > 9223372036854775807 || ns < -9223372036854775808) {
    throw new FuncError(`${goFloatE(v)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  }
  const ms = Math.trunc(ns / 1e6);
  return new GoTime(ms, 0);
}

/** Go's %v of a float inside an error message (e.g. -9.223372036854776e+18). */
function goFloatE(v: number): string {
  return goFloatString(v);
}

function stripPort(hostPort: string): string {
  // net.SplitHostPort semantics
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(hostPort);
  if (m !== null) return m[1] ?? '';
  const idx = hostPort.lastIndexOf(':');
  if (idx === -1) return hostPort;
  const host = hostPort.slice(0, idx);
  if (host.includes(':') || host.includes('[') || host.includes(']')) return hostPort;
  return host;
}

function stripDomain(hostPort: string): string {
  let host = hostPort;
  let port = '';
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(hostPort);
  if (m !== null) {
    host = m[1] ?? '';
    port = m[2] ?? '';
  } else {
    const idx = hostPort.lastIndexOf(':');
    if (idx !== -1 && !hostPort.slice(0, idx).includes(':')) {
      host = hostPort.slice(0, idx);
      port = hostPort.slice(idx + 1);
    } else if (idx !== -1) return hostPort; // cannot split: Go returns the input
  }
  if (/^[0-9.]+$/.test(host) || host.includes(':')) return hostPort; // an IP address
  const dot = host.indexOf('.');
  if (dot !== -1) host = host.slice(0, dot);
  if (port !== '') return `${host}:${port}`;
  return host;
}

/** Go's strings.Title. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}
function isSeparator(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  if (c <= 0x7f) {
    if (/[0-9a-zA-Z_]/.test(ch)) return false;
    return true;
  }
  if (/\p{L}|\p{Nd}/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function compileRe(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    throw new FuncError(`error parsing regexp: ${(e as Error).message.replace(/^error parsing regexp: /, '')}`);
  }
}

/** Go's regexp.ReplaceAllString with $1 / ${name} expansion. */
function reReplaceAll(pattern: string, repl: string, text: string): string {
  const re = compileRe(pattern);
  const named = re.namedGroups() as Record<string, number>;
  const m = re.matcher(text);
  let out = '';
  let last = 0;
  let searchPos = 0;
  let prevMatchEnd = -1;
  while (searchPos <= text.length && m.find(searchPos)) {
    const s = m.start();
    const e = m.end();
    if (s === e && s === prevMatchEnd) {
      // An empty match right after the previous match is skipped (as Go does).
      if (searchPos >= text.length) break;
      searchPos = s + (text.codePointAt(s)! > 0xffff ? 2 : 1);
      continue;
    }
    out += text.slice(last, s);
    out += expandRepl(repl, (g) => {
      const idx = /^\d+$/.test(g) ? Number(g) : named[g];
      if (idx === undefined || idx > re.groupCount()) return '';
      return m.group(idx) ?? '';
    });
    last = e;
    prevMatchEnd = e;
    searchPos = e > s ? e : e + (e < text.length && text.codePointAt(e)! > 0xffff ? 2 : 1);
    if (searchPos > text.length) break;
  }
  return out + text.slice(last);
}

function expandRepl(template: string, group: (name: string) => string): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    const rest = template.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      i++;
      continue;
    }
    let m = /^\{([A-Za-z0-9_]+)\}/.exec(rest);
    if (m !== null) {
      out += group(m[1] ?? '');
      i += m[0].length;
      continue;
    }
    m = /^[A-Za-z0-9_]+/.exec(rest);
    if (m !== null) {
      out += group(m[0]);
      i += m[0].length;
      continue;
    }
    out += '$';
  }
  return out;
}

function cmpKind(v: V): 'bool' | 'int' | 'float' | 'string' | undefined {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  if (v instanceof GoHTML) return 'string';
  return undefined;
}
function basic(v: V): string | number | bigint | boolean {
  return v instanceof GoHTML ? v.s : (v as string | number | bigint | boolean);
}

function eqFn(args: V[]): boolean {
  const a = args[0];
  const ka = cmpKind(a);
  if (args.length < 2) throw new FuncError('missing argument for comparison');
  for (const b of args.slice(1)) {
    const kb = cmpKind(b);
    if (ka === undefined || kb === undefined) {
      if (a === undefined || b === undefined) {
        if (a === undefined && b === undefined) return true;
        continue;
      }
      throw new FuncError('invalid type for comparison');
    }
    if (ka !== kb) throw new FuncError('incompatible types for comparison');
    if (basic(a) === basic(b)) return true;
  }
  return false;
}

function ltFn(a: V, b: V): boolean {
  const ka = cmpKind(a);
  const kb = cmpKind(b);
  if (ka === undefined || kb === undefined || ka === 'bool' || kb === 'bool') throw new FuncError('invalid type for comparison');
  if (ka !== kb) throw new FuncError('incompatible types for comparison');
  return (basic(a) as number) < (basic(b) as number);
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' })[c] ?? c);
}

export interface ExpandEnv {
  readonly externalURL: string;
}

const FUNCS: Record<string, FuncDef> = {
  // Go text/template builtins (and/or are handled lazily in the evaluator)
  and: { params: ['any'], variadic: 'any', fn: () => undefined },
  or: { params: ['any'], variadic: 'any', fn: () => undefined },
  not: { params: ['any'], fn: ([a]) => !isTrue(a) },
  eq: { params: ['any'], variadic: 'any', fn: (a) => eqFn(a) },
  ne: { params: ['any', 'any'], fn: ([a, b]) => !eqFn([a, b]) },
  lt: { params: ['any', 'any'], fn: ([a, b]) => ltFn(a, b) },
  le: { params: ['any', 'any'], fn: ([a, b]) => ltFn(a, b) || eqFn([a, b]) },
  gt: { params: ['any', 'any'], fn: ([a, b]) => !ltFn(a, b) && !eqFn([a, b]) },
  ge: { params: ['any', 'any'], fn: ([a, b]) => !ltFn(a, b) },
  len: {
    params: ['any'],
    fn: ([a]) => {
      if (typeof a === 'string') return BigInt(Buffer.byteLength(a));
      if (a instanceof GoMap) return BigInt(Object.keys(a.m).length);
      throw new FuncError(`len of type ${typeName(a)}`);
    },
  },
  index: {
    params: ['any'],
    variadic: 'any',
    fn: (args) => {
      let item = args[0];
      for (const k of args.slice(1)) {
        if (item instanceof GoMap) {
          if (typeof k !== 'string') throw new FuncError(`value has type ${typeName(k)}; should be string`);
          item = item.m[k] ?? '';
        } else if (item === undefined) throw new FuncError('index of untyped nil');
        else throw new FuncError(`can't index item of type ${typeName(item)}`);
      }
      return item;
    },
  },
  print: { params: [], variadic: 'any', fn: (a) => sprint(a) },
  println: { params: [], variadic: 'any', fn: (a) => a.map(sprint1).join(' ') + '\n' },
  printf: {
    params: ['string'],
    variadic: 'any',
    fn: ([f, ...rest]) => goSprintf(f as string, rest),
  },
  html: { params: [], variadic: 'any', fn: (a) => htmlEscape(sprint(a)) },
  urlquery: { params: [], variadic: 'any', fn: (a) => goQueryEscape(sprint(a)) },
  js: {
    params: [],
    variadic: 'any',
    fn: (a) =>
      sprint(a).replace(/[\\'"<>&=\n\r\t]/g, (c) =>
        c === '\\' ? '\\\\' : c === "'" ? "\\'" : c === '"' ? '\\"' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
      ),
  },
  // Prometheus
  humanize: { params: ['any'], fn: ([a]) => humanize(convertToFloat(a)) },
  humanize1024: { params: ['any'], fn: ([a]) => humanize1024(convertToFloat(a)) },
  humanizeDuration: { params: ['any'], fn: ([a]) => humanizeDuration(convertToFloat(a)) },
  humanizePercentage: { params: ['any'], fn: ([a]) => formatFloat(convertToFloat(a) * 100, 'g', 4) + '%' },
  humanizeTimestamp: {
    params: ['any'],
    fn: ([a]) => {
      const v = convertToFloat(a);
      if (!Number.isFinite(v)) return formatFloat(v, 'g', 4);
      return sprint1(floatToTime(v));
    },
  },
  toTime: {
    params: ['any'],
    fn: ([a]) => {
      const v = convertToFloat(a);
      if (!Number.isFinite(v)) throw new FuncError('value is NaN or Inf');
      return floatToTime(v);
    },
  },
  toDuration: {
    params: ['any'],
    fn: ([a]) => {
      const v = convertToFloat(a);
      if (!Number.isFinite(v)) throw new FuncError('value is NaN or Inf');
      return new GoDuration(BigInt(Math.round(v * 1000)) * 1_000_000n);
    },
  },
  parseDuration: {
    params: ['string'],
    fn: ([s]) => {
      try {
        return parsePromDuration(s as string) / 1000;
      } catch (e) {
        throw new FuncError((e as Error).message);
      }
    },
  },
  title: { params: ['string'], fn: ([s]) => title(s as string) },
  toUpper: { params: ['string'], fn: ([s]) => (s as string).toUpperCase() },
  toLower: { params: ['string'], fn: ([s]) => (s as string).toLowerCase() },
  match: { params: ['string', 'string'], fn: ([p, s]) => compileRe(p as string).test(s as string) },
  reReplaceAll: { params: ['string', 'string', 'string'], fn: ([p, r, t]) => reReplaceAll(p as string, r as string, t as string) },
  safeHtml: { params: ['string'], fn: ([s]) => new GoHTML(s as string) },
  stripPort: { params: ['string'], fn: ([s]) => stripPort(s as string) },
  stripDomain: { params: ['string'], fn: ([s]) => stripDomain(s as string) },
  graphLink: { params: ['string'], fn: ([s]) => graphLinkForExpression(s as string) },
  tableLink: { params: ['string'], fn: ([s]) => tableLinkForExpression(s as string) },
  pathPrefix: {
    params: [],
    fn: (_a, env) => {
      try {
        return new URL(env.externalURL).pathname.replace(/^\/$/, '');
      } catch {
        return '';
      }
    },
  },
  externalURL: { params: [], fn: (_a, env) => env.externalURL },
  // Functions over query results: without `query` they can never receive one.
  first: { params: ['any'], fn: () => { throw new FuncError('first() called on vector with no elements'); } },
  label: { params: ['string', 'any'], fn: () => { throw new FuncError('label() needs a query result; query is not supported'); } },
  value: { params: ['any'], fn: () => { throw new FuncError('value() needs a query result; query is not supported'); } },
  strvalue: { params: ['any'], fn: () => { throw new FuncError('strvalue() needs a query result; query is not supported'); } },
  sortByLabel: { params: ['string', 'any'], fn: () => { throw new FuncError('sortByLabel() needs a query result; query is not supported'); } },
};
for (const k of Object.keys(FUNCS)) KNOWN_FUNCS.add(k);

// ---------------------------------------------------------------------------------------------
// Evaluation

class BreakSignal {}
class ContinueSignal {}

interface Scope {
  vars: Map<string, V>[];
}

function argString(a: Arg): string {
  switch (a.t) {
    case 'field':
      return a.chain.length === 0 ? '.' : a.chain.map((c) => '.' + c).join('');
    case 'var':
      return a.name + a.chain.map((c) => '.' + c).join('');
    case 'ident':
      return a.name;
    case 'string':
    case 'number':
      return a.text;
    case 'bool':
      return String(a.value);
    case 'nil':
      return 'nil';
    case 'pipe':
      return `(${pipeString(a.pipe)})` + a.chain.map((c) => '.' + c).join('');
  }
}
function cmdString(c: Cmd): string {
  return c.args.map(argString).join(' ');
}
function pipeString(p: Pipe): string {
  const d = p.decl.length > 0 ? `${p.decl.join(', ')} ${p.assign ? '=' : ':='} ` : '';
  return d + p.cmds.map(cmdString).join(' | ');
}

class Exec {
  out = '';
  constructor(
    private readonly env: ExpandEnv,
  ) {}

  err(at: number, ctx: string, msg: string): never {
    throw new ExecError(at, ctx, msg);
  }

  lookupVar(scope: Scope, name: string, a: Arg): V {
    for (let i = scope.vars.length - 1; i >= 0; i--) {
      const m = scope.vars[i];
      if (m?.has(name)) return m.get(name);
    }
    return this.err(a.pos, argString(a), `undefined variable: ${name}`);
  }

  setVar(scope: Scope, name: string, v: V, assign: boolean, pos: number, ctx: string): void {
    if (assign) {
      for (let i = scope.vars.length - 1; i >= 0; i--) {
        const m = scope.vars[i];
        if (m?.has(name)) {
          m.set(name, v);
          return;
        }
      }
      this.err(pos, ctx, `undefined variable: ${name}`);
    }
    scope.vars[scope.vars.length - 1]?.set(name, v);
  }

  field(recv: V, name: string, a: Arg): V {
    if (recv instanceof AlertData) {
      switch (name) {
        case 'Labels':
          return recv.labels;
        case 'ExternalLabels':
          return recv.externalLabels;
        case 'ExternalURL':
          return recv.externalURL;
        case 'Value':
          return recv.value;
        default:
          return this.err(a.pos, argString(a), `can't evaluate field ${name} in type ${DATA_TYPE}`);
      }
    }
    if (recv instanceof GoMap) return recv.m[name] ?? '';
    if (recv === undefined) return undefined;
    return this.err(a.pos, argString(a), `can't evaluate field ${name} in type ${typeName(recv)}`);
  }

  chain(v: V, chain: string[], a: Arg): V {
    for (const c of chain) v = this.field(v, c, a);
    return v;
  }

  walk(nodes: Node[], dot: V, scope: Scope): void {
    for (const n of nodes) this.walkNode(n, dot, scope);
  }

  walkNode(n: Node, dot: V, scope: Scope): void {
    switch (n.t) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.pipe(n.pipe, dot, scope);
        if (n.pipe.decl.length === 0) this.out += sprint1(v);
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      case 'if':
      case 'with': {
        scope.vars.push(new Map());
        try {
          const v = this.pipe(n.pipe, dot, scope);
          if (isTrue(v)) this.walk(n.list, n.t === 'with' ? v : dot, scope);
          else if (n.elseList !== undefined) this.walk(n.elseList, dot, scope);
        } finally {
          scope.vars.pop();
        }
        return;
      }
      case 'range': {
        scope.vars.push(new Map());
        try {
          const declNames = n.pipe.decl;
          const pipeNoDecl: Pipe = { ...n.pipe, decl: [] };
          const v = this.pipe(pipeNoDecl, dot, scope);
          let items: [V, V][] = [];
          if (v instanceof GoMap) items = Object.keys(v.m).sort().map((k) => [k, v.m[k]]);
          else if (typeof v === 'bigint') items = Array.from({ length: Number(v) }, (_x, i) => [BigInt(i), BigInt(i)]);
          else if (v !== undefined) this.err(n.pos, `range ${pipeString(n.pipe)}`, `range can't iterate over ${sprint1(v)}`);
          if (items.length === 0) {
            if (n.elseList !== undefined) this.walk(n.elseList, dot, scope);
            return;
          }
          for (const [k, val] of items) {
            scope.vars.push(new Map());
            try {
              if (declNames.length === 1) scope.vars[scope.vars.length - 1]?.set(declNames[0] ?? '', val);
              if (declNames.length === 2) {
                scope.vars[scope.vars.length - 1]?.set(declNames[0] ?? '', k);
                scope.vars[scope.vars.length - 1]?.set(declNames[1] ?? '', val);
              }
              this.walk(n.list, val, scope);
            } catch (e) {
              if (e instanceof BreakSignal) break;
              if (!(e instanceof ContinueSignal)) throw e;
            } finally {
              scope.vars.pop();
            }
          }
        } finally {
          scope.vars.pop();
        }
        return;
      }
    }
  }

  pipe(p: Pipe, dot: V, scope: Scope): V {
    let v: V = undefined;
    let first = true;
    for (const c of p.cmds) {
      v = this.command(c, dot, scope, first ? NO_FINAL : v);
      first = false;
    }
    for (const d of p.decl) this.setVar(scope, d, v, p.assign, p.pos, pipeString(p));
    return v;
  }

  command(c: Cmd, dot: V, scope: Scope, final: V | typeof NO_FINAL): V {
    const head = c.args[0] as Arg;
    const ctx = cmdString(c);
    switch (head.t) {
      case 'ident':
        return this.call(head.name, c, dot, scope, final);
      case 'field':
      case 'var':
      case 'pipe': {
        if (c.args.length > 1 || final !== NO_FINAL) {
          const what = head.t === 'field' ? head.chain[head.chain.length - 1] ?? '.' : argString(head);
          if (head.t === 'field' && head.chain.length > 0) this.err(c.pos, ctx, `${what} has arguments but cannot be invoked as function`);
          this.err(c.pos, ctx, `can't give argument to non-function ${argString(head)}`);
        }
        return this.operand(head, dot, scope);
      }
      default:
        if (c.args.length > 1 || final !== NO_FINAL) this.err(c.pos, ctx, `can't give argument to non-function ${argString(head)}`);
        return this.operand(head, dot, scope);
    }
  }

  operand(a: Arg, dot: V, scope: Scope, kind: ParamKind = 'any'): V {
    switch (a.t) {
      case 'field':
        return this.chain(dot, a.chain, a);
      case 'var':
        return this.chain(this.lookupVar(scope, a.name, a), a.chain, a);
      case 'pipe': {
        scope.vars.push(new Map());
        try {
          return this.chain(this.pipe(a.pipe, dot, scope), a.chain, a);
        } finally {
          scope.vars.pop();
        }
      }
      case 'ident':
        return this.call(a.name, { pos: a.pos, args: [a] }, dot, scope, NO_FINAL);
      case 'string':
        return a.value;
      case 'bool':
        return a.value;
      case 'nil':
        return undefined;
      case 'number':
        if (kind === 'float') return a.f;
        return a.isFloat ? a.f : (a.i as bigint);
    }
  }

  call(name: string, c: Cmd, dot: V, scope: Scope, final: V | typeof NO_FINAL): V {
    const def = FUNCS[name];
    const ctx = cmdString(c);
    if (def === undefined) return this.err(c.pos, ctx, `"${name}" is not a defined function`);
    const argNodes = c.args.slice(1);
    const n = argNodes.length + (final === NO_FINAL ? 0 : 1);
    const fixed = def.params.length;
    if (def.variadic === undefined ? n !== fixed : n < fixed) {
      this.err(c.pos, ctx, `wrong number of args for ${name}: want ${def.variadic === undefined ? fixed : `at least ${fixed}`} got ${n}`);
    }
    if (name === 'and' || name === 'or') {
      let v: V = undefined;
      const all: (Arg | 'final')[] = [...argNodes, ...(final === NO_FINAL ? [] : ['final' as const])];
      for (const an of all) {
        v = an === 'final' ? (final as V) : this.operand(an, dot, scope);
        if (name === 'and' ? !isTrue(v) : isTrue(v)) return v;
      }
      return v;
    }
    const args: V[] = [];
    argNodes.forEach((an, i) => {
      const kind = i < fixed ? (def.params[i] as ParamKind) : (def.variadic ?? 'any');
      args.push(this.checkArg(this.operand(an, dot, scope, kind), kind, an, c));
    });
    if (final !== NO_FINAL) {
      const i = argNodes.length;
      const kind = i < fixed ? (def.params[i] as ParamKind) : (def.variadic ?? 'any');
      args.push(this.checkArg(final, kind, undefined, c));
    }
    try {
      return def.fn(args, this.env);
    } catch (e) {
      if (e instanceof ExecError) throw e;
      return this.err(c.pos, ctx, `error calling ${name}: ${(e as Error).message}`);
    }
  }

  checkArg(v: V, kind: ParamKind, an: Arg | undefined, c: Cmd): V {
    if (kind === 'any') return v;
    const want = kind === 'string' ? 'string' : 'float64';
    const ok = kind === 'string' ? typeof v === 'string' || v instanceof GoHTML : typeof v === 'number';
    if (ok) return v instanceof GoHTML ? v.s : v;
    if (an !== undefined && (an.t === 'string' || an.t === 'number' || an.t === 'bool' || an.t === 'nil')) {
      this.err(c.pos, cmdString(c), `expected ${want}; found ${argString(an)}`);
    }
    if (v === undefined) this.err(c.pos, cmdString(c), `invalid value; expected ${want}`);
    return this.err(c.pos, cmdString(c), `wrong type for value; expected ${want}; got ${typeName(v)}`);
  }
}

const NO_FINAL = Symbol('no-final');

// ---------------------------------------------------------------------------------------------
// Public API

export interface ParsedTemplate {
  readonly text: string;
  readonly nodes: readonly Node[];
}

/**
 * Parses `text` as Prometheus would (after its `$labels`/`$value`… definitions). Throws
 * TemplateParseError with Go's message shape (`template: NAME:LINE: …`).
 */
export function parseTemplate(text: string, name = 'template'): ParsedTemplate {
  const nodes = new Parser(text, name, 0).parse();
  return { text, nodes };
}

/** Checks a template; returns the error message or undefined. */
export function checkTemplate(text: string, name = 'template'): string | undefined {
  try {
    parseTemplate(text, name);
    return undefined;
  } catch (e) {
    if (e instanceof TemplateParseError) return e.message;
    throw e;
  }
}

export interface AlertTemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly value: number;
}

/**
 * Expands a template with Prometheus's data and variables. Returns the text and the error
 * (Prometheus's message: `error executing template NAME: template: NAME:L:C: executing "NAME" at <…>: …`).
 */
export function expandTemplate(text: string, name: string, data: AlertTemplateData): { text: string; error?: string } {
  let parsed: ParsedTemplate;
  try {
    parsed = parseTemplate(text, name);
  } catch (e) {
    if (!(e instanceof TemplateParseError)) throw e;
    return { text: '', error: `error parsing template ${name}: ${e.message}` };
  }
  const d = new AlertData(new GoMap(data.labels), new GoMap(data.externalLabels), data.externalURL, data.value);
  const ex = new Exec({ externalURL: data.externalURL });
  const scope: Scope = {
    vars: [
      new Map<string, V>([
        ['$', d],
        ['$labels', d.labels],
        ['$externalLabels', d.externalLabels],
        ['$externalURL', d.externalURL],
        ['$value', d.value],
      ]),
    ],
  };
  try {
    ex.walk(parsed.nodes as Node[], d, scope);
    return { text: ex.out };
  } catch (e) {
    if (e instanceof BreakSignal || e instanceof ContinueSignal) return { text: ex.out };
    if (e instanceof ExecError) {
      // Positions are reported on Prometheus's full text: the definitions come first on line 1.
      const before = text.slice(0, e.at);
      const nl = before.lastIndexOf('\n');
      const line = 1 + (before.match(/\n/g)?.length ?? 0);
      const col = nl === -1 ? Buffer.byteLength(ALERT_TEMPLATE_DEFS) + Buffer.byteLength(before) : Buffer.byteLength(before.slice(nl + 1));
      return {
        text: '',
        error: `error executing template ${name}: template: ${name}:${line}:${col}: executing "${name}" at <${e.context}>: ${e.message}`,
      };
    }
    return { text: '', error: `error executing template ${name}: ${(e as Error).message}` };
  }
}

/** Expands as an alerting rule does: never throws; a failure gives `<error expanding template: …>`. */
export function expandAlertTemplate(text: string, ruleName: string, data: AlertTemplateData): string {
  const r = expandTemplate(text, `__alert_${ruleName}`, data);
  return r.error === undefined ? r.text : `<error expanding template: ${r.error}>`;
}
