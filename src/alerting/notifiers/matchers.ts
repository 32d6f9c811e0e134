import { RE2JS } from 're2js';
import { z } from 'zod';
import { errorMessage, VigilError } from '../../core/errors.js';

/**
 * Alertmanager label matchers: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`.
 * Values may be double-quoted (with `\"`, `\\`, `\n` escapes) or bare; regexes are RE2 (as in Go)
 * and fully anchored (`^(?:regex)$`). A label the alert lacks matches as the empty string, so
 * `team=""` matches alerts without `team` and `team!=""` requires it. A list is written
 * `{a="b", c=~"d.*"}` or without braces; routes, silences and remediation routes all use this.
 */

export type MatchType = '=' | '!=' | '=~' | '!~';

export class LabelMatcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  readonly #re: RE2JS | undefined;

  constructor(name: string, type: MatchType, value: string) {
    this.name = name;
    this.type = type;
    this.value = value;
    if (type === '=~' || type === '!~') {
      try {
        this.#re = RE2JS.compile(`^(?:${value})$`);
      } catch (e) {
        throw new VigilError('VIGIL_ERR_MATCHER_INVALID', `invalid regular expression in matcher ${name}${type}${quote(value)}: ${(e as Error).message}`, {
          statusCode: 400,
          cause: e,
        });
      }
    }
  }

  /** Whether a label value (`''` when the label is absent) satisfies the matcher. */
  matchesValue(v: string): boolean {
    switch (this.type) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return this.#re?.matches(v) ?? false;
      case '!~':
        return !(this.#re?.matches(v) ?? false);
    }
  }

  matches(labels: Readonly<Record<string, string>>): boolean {
    return this.matchesValue(labels[this.name] ?? '');
  }

  /** Whether it is an equality matcher on a non-empty value (silences need one). */
  get isEqual(): boolean {
    return this.type === '=' || this.type === '!=';
  }

  get isRegex(): boolean {
    return this.type === '=~' || this.type === '!~';
  }

  toString(): string {
    return `${this.name}${this.type}${quote(this.value)}`;
  }
}

/** All matchers match (an empty list matches everything). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => m.matches(labels));
}

/** `{a="b", c=~"d"}` as Alertmanager prints a matcher list. */
export function formatMatchers(matchers: readonly LabelMatcher[]): string {
  return `{${matchers.map((m) => m.toString()).join(',')}}`;
}

const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/**
 * Double-quotes a value as Go's strconv.Quote does (what Alertmanager prints label values and
 * matchers with: `%q`): `\` and `"` escaped, printable characters (Unicode letters, marks,
 * numbers, punctuation, symbols and the ASCII space, Go's unicode.IsPrint) as they are, `\a \b \f
 * \n \r \t \v`, other characters below U+0080 as `\xHH`, above as `\uHHHH` / `\UHHHHHHHH`.
 */
export function quote(value: string): string {
  let out = '"';
  for (const ch of value) {
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (GO_PRINTABLE.test(ch)) out += ch;
    else {
      const esc = GO_ESCAPES[ch];
      const cp = ch.codePointAt(0) as number;
      out += esc ?? (cp < 0x80 ? `\\x${hex(cp, 2)}` : cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`);
    }
  }
  return `${out}"`;
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const ONE_RE = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*([\s\S]*?)\s*$/;

const invalid = (text: string, why: string): VigilError =>
  new VigilError('VIGIL_ERR_MATCHER_INVALID', `invalid matcher ${JSON.stringify(text)}: ${why} (use e.g. severity="critical" or model=~"fraud.*")`, { statusCode: 400 });

function unquote(raw: string, text: string): string {
  if (!raw.startsWith('"')) {
    if (raw.includes('"')) throw invalid(text, 'unbalanced quotes');
    return raw;
  }
  if (raw.length < 2 || !raw.endsWith('"')) throw invalid(text, 'unterminated quoted value');
  const body = raw.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      const next = body[i + 1];
      if (next === undefined) throw invalid(text, 'dangling backslash');
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      i++;
    } else if (c === '"') {
      throw invalid(text, 'unescaped quote inside the value');
    } else out += c;
  }
  return out;
}

/** Parses one matcher (`severity="critical"`, `model=~fraud.*`). Throws VIGIL_ERR_MATCHER_INVALID. */
export function parseMatcher(text: string): LabelMatcher {
  const m = ONE_RE.exec(text);
  if (m === null) throw invalid(text, 'expected <label><op><value> with op one of =, !=, =~, !~');
  const [, name = '', op = '=', rawValue = ''] = m;
  if (!LABEL_NAME_RE.test(name)) throw invalid(text, `"${name}" is not a valid label name`);
  return new LabelMatcher(name, op as MatchType, unquote(rawValue, text));
}

/** Splits at commas outside double quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (inQuote && c === '\\') {
      cur += c + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    if (c === ',' && !inQuote) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/**
 * Parses a matcher list: `{a="b", c=~"d"}`, `a="b",c=~"d"` or a single matcher. An empty list
 * (`{}`) is allowed. A trailing comma is accepted, as Alertmanager does.
 */
export function parseMatchers(text: string): LabelMatcher[] {
  let t = text.trim();
  if (t.startsWith('{')) {
    if (!t.endsWith('}')) throw invalid(text, 'missing closing "}"');
    t = t.slice(1, -1).trim();
  }
  if (t === '') return [];
  const parts = splitTopLevel(t);
  if (parts.length > 1 && (parts[parts.length - 1] ?? '').trim() === '') parts.pop();
  return parts.map((p) => {
    if (p.trim() === '') throw invalid(text, 'empty matcher between commas');
    return parseMatcher(p);
  });
}

/** Parses each string of a config list (every entry may itself be a list) into one flat list. */
export function parseMatcherList(items: readonly string[]): LabelMatcher[] {
  return items.flatMap((s) => parseMatchers(s));
}

/** A config list of matcher strings; each bad entry is reported at its own index. */
export const matcherListSchema = () =>
  z.array(z.string()).superRefine((items, ctx) => {
    items.forEach((s, i) => {
      try {
        parseMatcherList([s]);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [i], message: errorMessage(e), params: { vigil: 'VALUE' } });
      }
    });
  });
