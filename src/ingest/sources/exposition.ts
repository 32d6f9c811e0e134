/**
 * A parser for the Prometheus text exposition format (0.0.4), the subset a scrape of one exporter
 * needs: `# HELP` / `# TYPE` lines, other comments, samples `name{label="value",…} value [timestamp]`
 * with label-value escapes (`\\`, `\"`, `\n`) and the special values NaN, +Inf, -Inf. OpenMetrics
 * extras (`# EOF`, exemplars after ` # `) are tolerated. A malformed line is an error with its line
 * number — a scrape that does not parse is garbage, not a partial truth.
 */

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** ms since the epoch, when the line carried one. */
  timestampMs?: number;
}

export interface Exposition {
  samples: ExpositionSample[];
  /** family name → counter | gauge | histogram | summary | untyped … */
  types: Map<string, string>;
  help: Map<string, string>;
}

export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ExpositionError';
  }
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses a sample value as Prometheus does (Go ParseFloat plus the special spellings). */
export function parseExpositionValue(s: string): number | undefined {
  switch (s) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) && !/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return undefined;
  return Number(s);
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

export function parseExposition(text: string): Exposition {
  const samples: ExpositionSample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const line = (lines[n] as string).replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (m === null) continue; // a plain comment (or # EOF)
      if (m[1] === 'HELP') help.set(m[2] as string, unescapeHelp(m[3] ?? ''));
      else {
        const t = (m[3] ?? '').trim();
        if (!/^(counter|gauge|histogram|summary|untyped|info|stateset|gaugehistogram|unknown)$/.test(t)) throw new ExpositionError(lineNo, `unknown metric type "${t}"`);
        types.set(m[2] as string, t);
      }
      continue;
    }
    samples.push(parseSampleLine(line, lineNo));
  }
  return { samples, types, help };
}

function parseSampleLine(line: string, lineNo: number): ExpositionSample {
  let i = 0;
  const nm = NAME_RE.exec(line);
  if (nm === null) throw new ExpositionError(lineNo, `expected a metric name, got ${JSON.stringify(line.slice(0, 40))}`);
  const name = nm[0];
  i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const lm = LABEL_RE.exec(line.slice(i));
      if (lm === null) throw new ExpositionError(lineNo, `expected a label name at column ${i + 1}`);
      const label = lm[0];
      i += label.length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=') throw new ExpositionError(lineNo, `expected "=" after label ${label}`);
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') throw new ExpositionError(lineNo, `expected a quoted value for label ${label}`);
      i++;
      let value = '';
      let closed = false;
      while (i < line.length) {
        const c = line[i] as string;
        if (c === '\\') {
          const next = line[i + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new ExpositionError(lineNo, `invalid escape "\\${next ?? ''}" in label ${label}`);
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) throw new ExpositionError(lineNo, `unterminated value of label ${label}`);
      if (label in labels) throw new ExpositionError(lineNo, `duplicate label ${label}`);
      labels[label] = value;
      while (line[i] === ' ') i++;
      if (line[i] === ',') {
        i++;
        continue;
      }
      if (line[i] === '}') {
        i++;
        break;
      }
      throw new ExpositionError(lineNo, `expected "," or "}" after label ${label}`);
    }
  }
  // Exemplars (OpenMetrics) follow " # ": not needed here.
  const rest = line.slice(i).split(' # ')[0] as string;
  const parts = rest.trim().split(/[ \t]+/);
  if (parts.length < 1 || parts[0] === '' || parts.length > 2) throw new ExpositionError(lineNo, `expected "value [timestamp]" after ${name}`);
  const value = parseExpositionValue(parts[0] as string);
  if (value === undefined) throw new ExpositionError(lineNo, `invalid value ${JSON.stringify(parts[0])} for ${name}`);
  const sample: ExpositionSample = { name, labels, value };
  if (parts.length === 2) {
    const ts = Number(parts[1]);
    if (!Number.isFinite(ts)) throw new ExpositionError(lineNo, `invalid timestamp ${JSON.stringify(parts[1])} for ${name}`);
    sample.timestampMs = ts;
  }
  return sample;
}
