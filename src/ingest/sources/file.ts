import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.js';
import type { IngestKind } from '../ingestor.js';
import { formatFromPath, parseCsv, TabularError, typeColumns, type TabularData, type TabularFormat } from '../tabular.js';
import { commonKeys, int, refineCommon } from './common.js';
import { durationMs } from '../../config/primitives.js';
import { SourceError } from './http.js';
import { ingestAll } from './ingest-batch.js';
import { getPath, LABEL_FIELDS, mappingSchema, PREDICTION_FIELDS } from './mapping.js';
import type { Source, SourceContext, SourceResult } from './source.js';

/**
 * `file`: CSV or NDJSON files of predictions or labels for one model, appearing in a folder. Each
 * file is read once: its name, size and mtime are remembered in the source's state (so a restart
 * does not read it again); a file whose size or mtime changed since the last look is still being
 * written and waits for the next run (unless it is older than `settle_time`). Read files can be
 * moved to a `done` folder.
 */

export const FileSourceSchema = z
  .strictObject({
    type: z.literal('file'),
    ...commonKeys,
    /** The folder to watch. */
    path: z.string().min(1),
    /** File-name glob (`*`, `?`, `[abc]`, `{csv,ndjson}`); dot files never match. */
    pattern: z.string().min(1).default('*.{csv,ndjson,jsonl}'),
    /** `auto`: by extension (.ndjson/.jsonl/.json → NDJSON, else CSV). */
    format: z.enum(['auto', 'csv', 'ndjson']).default('auto'),
    kind: z.enum(['predictions', 'labels']),
    model: z.string().min(1),
    /** Item field → column (CSV) or dot path (NDJSON); unmapped fields use the same-named column. */
    mapping: mappingSchema().default({}),
    /** NDJSON: dot path of an object of features; flat records (no such object) use every other key. */
    features_path: z.string().default('features'),
    /** Columns that are neither item fields nor features. */
    ignore_columns: z.array(z.string().min(1)).default([]),
    /** Folder (relative to `path`, or absolute) read files are moved to; unset: files stay. */
    done_dir: z.string().min(1).optional(),
    /** A file older than this is taken at first sight; a newer one must keep its size for one run. */
    settle_time: durationMs().default(10_000),
    max_files_per_run: int().pipe(z.number().min(1)).default(100),
    max_file_bytes: int().pipe(z.number().min(1)).default(256 * 1024 * 1024),
  })
  .superRefine(refineCommon);

export type FileSourceConfig = z.output<typeof FileSourceSchema>;

interface FileMark {
  size: number;
  mtimeMs: number;
  status: 'pending' | 'read' | 'failed';
}

const STATE_KEY = 'files';

/** A file-name glob as a RegExp: `*`, `?`, `[...]` (`[!...]` negates), `{a,b}`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      inBraces++;
      re += '(?:';
    } else if (c === '}' && inBraces > 0) {
      inBraces--;
      re += ')';
    } else if (c === ',' && inBraces > 0) re += '|';
    else re += c.replace(/[.+^$()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** One record of a file, read by column (CSV) or dot path (NDJSON). */
interface Row {
  get(key: string): unknown;
  keys(): readonly string[];
}

const ITEM_FIELDS = new Set<string>([...PREDICTION_FIELDS, 'features']);

/** Builds a Vigil item from a file row (see the mapping rules in the file source docs). */
export function rowToItem(kind: IngestKind, row: Row, cfg: Pick<FileSourceConfig, 'mapping' | 'features_path' | 'ignore_columns'>): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  const used = new Set<string>();
  const top = (p: string) => p.split('.')[0] as string;
  const fields = kind === 'predictions' ? PREDICTION_FIELDS.filter((f) => f !== 'label') : LABEL_FIELDS;
  for (const f of fields) {
    const src = cfg.mapping[f] ?? f;
    used.add(top(src));
    const v = row.get(src);
    if (v !== undefined && v !== null) item[f] = v;
  }
  if (kind === 'labels') return item;
  // null prototype: a column or key named __proto__ / constructor is an ordinary feature name
  const features = Object.create(null) as Record<string, unknown>;
  let nested = false;
  if (cfg.features_path !== '') {
    const f = row.get(cfg.features_path);
    used.add(top(cfg.features_path));
    if (f !== null && typeof f === 'object' && !Array.isArray(f)) {
      Object.assign(features, f);
      nested = true;
    }
  }
  let score: Record<string, unknown> | undefined;
  for (const [key, src] of Object.entries(cfg.mapping)) {
    used.add(top(src));
    if (key.startsWith('features.')) {
      const v = row.get(src);
      if (v !== undefined) features[key.slice(9)] = v;
    } else if (key.startsWith('score.')) {
      const v = row.get(src);
      if (v !== undefined && v !== null) (score ??= Object.create(null) as Record<string, unknown>)[key.slice(6)] = v;
    }
  }
  const ignore = new Set(cfg.ignore_columns);
  for (const k of row.keys()) {
    if (used.has(k) || ITEM_FIELDS.has(k) || ignore.has(k)) continue;
    if (k.startsWith('score.') && cfg.mapping.score === undefined) {
      const v = row.get(k);
      if (v !== undefined && v !== null) (score ??= Object.create(null) as Record<string, unknown>)[k.slice(6)] = v;
      continue;
    }
    if (nested) continue;
    const v = row.get(k);
    if (v !== undefined && (v === null || typeof v !== 'object')) features[k] = v;
  }
  if (Object.keys(features).length > 0 || nested) item.features = features;
  if (score !== undefined && item.score === undefined) item.score = score;
  return item;
}

/** CSV text → rows with typed values (numbers for numeric columns, null for missing). */
export function csvRows(text: string, file: string, cfg: Pick<FileSourceConfig, 'mapping'>): { rows: Row[]; issues: string[] } {
  const raw = parseCsv(text, file);
  // Ids, versions, segments and errors stay strings even when they look like numbers.
  const asText = ['id', 'model_version', 'segment', 'error'].map((f) => cfg.mapping[f] ?? f).filter((c) => raw.header.includes(c));
  const data: TabularData = typeColumns(raw, { categorical: asText });
  const index = new Map(data.columns.map((c, i) => [c.name, i]));
  // Numeric item fields stay numbers in a column that mixes them with text (ts: RFC 3339 and epoch ms).
  const numericFields = new Set(['ts', 'latency_ms', 'score'].map((f) => cfg.mapping[f] ?? f));
  const rows: Row[] = [];
  for (let r = 0; r < data.rowCount; r++) {
    rows.push({
      keys: () => raw.header,
      get: (key) => {
        const c = index.get(key);
        if (c === undefined) return undefined;
        const col = data.columns[c];
        if (col === undefined) return undefined;
        if (col.type === 'numeric') {
          const v = col.numeric?.[r] ?? NaN;
          return Number.isNaN(v) ? null : v;
        }
        const v = col.labels?.[r] ?? null;
        return v !== null && numericFields.has(key) && /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) ? Number(v) : v;
      },
    });
  }
  return { rows, issues: data.issues.map((i) => `${i.file}:${i.line}: ${i.message}`) };
}

/** NDJSON text → rows keeping JSON types and nesting; bad lines are reported and skipped. */
export function ndjsonRows(text: string, file: string): { rows: Row[]; issues: string[] } {
  const rows: Row[] = [];
  const issues: string[] = [];
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  t.split('\n').forEach((line, k) => {
    const s = line.trim();
    if (s === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(s);
    } catch (e) {
      issues.push(`${file}:${k + 1}: invalid JSON: ${(e as Error).message}`);
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      issues.push(`${file}:${k + 1}: expected a JSON object`);
      return;
    }
    rows.push({ get: (key) => getPath(obj, key), keys: () => Object.keys(obj as object) });
  });
  return { rows, issues };
}

export function createFileSource(cfg: FileSourceConfig): Source {
  const re = globToRegExp(cfg.pattern);
  const dir = resolve(cfg.path);
  const doneDir = cfg.done_dir === undefined ? undefined : isAbsolute(cfg.done_dir) ? cfg.done_dir : join(dir, cfg.done_dir);
  const what = `file ${cfg.name}`;

  async function readOne(name: string, ctx: SourceContext): Promise<{ predictions: number; labels: number; rejected: number }> {
    const full = join(dir, name);
    const text = await readFile(full, { encoding: 'utf8', signal: ctx.signal });
    const format: TabularFormat = cfg.format === 'auto' ? formatFromPath(name) : cfg.format;
    const { rows, issues } = format === 'csv' ? csvRows(text, name, cfg) : ndjsonRows(text, name);
    if (issues.length > 0) ctx.logger.warn({ file: name, issues: issues.length, first: issues[0] }, 'file lines skipped');
    const items = rows.map((r) => rowToItem(cfg.kind, r, cfg));
    const counts = await ingestAll(ctx, cfg.kind, cfg.model, items);
    counts.rejected += issues.length;
    return counts;
  }

  return {
    name: cfg.name,
    type: 'file',
    async collect(ctx: SourceContext): Promise<SourceResult> {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        throw new SourceError('VIGIL_ERR_SOURCE_FILE', `${what}: cannot list folder ${dir}: ${errorMessage(e)}`, { retryable: (e as NodeJS.ErrnoException).code === 'EMFILE' });
      }
      const names = entries.filter((e) => e.isFile() && !e.name.startsWith('.') && re.test(e.name)).map((e) => e.name);
      const stored = await ctx.getState(STATE_KEY);
      let marks: Record<string, FileMark> = {};
      if (stored !== undefined) {
        try {
          marks = JSON.parse(stored) as Record<string, FileMark>;
        } catch {
          ctx.logger.warn({}, 'file source state unreadable: starting afresh');
        }
      }
      // Forget files that are gone (moved or deleted): the state stays as small as the folder.
      const present = new Set(names);
      for (const n of Object.keys(marks)) if (!present.has(n)) delete marks[n];

      const candidates: { name: string; size: number; mtimeMs: number }[] = [];
      for (const name of names) {
        try {
          const st = await stat(join(dir, name));
          candidates.push({ name, size: st.size, mtimeMs: st.mtimeMs });
        } catch {
          // gone between readdir and stat
        }
      }
      candidates.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : 1));

      const total = { predictions: 0, labels: 0, rejected: 0 };
      const failures: string[] = [];
      let read = 0;
      const save = () => ctx.setState(STATE_KEY, JSON.stringify(marks));
      for (const f of candidates) {
        const prev = marks[f.name];
        const same = prev !== undefined && prev.size === f.size && prev.mtimeMs === f.mtimeMs;
        if (same && prev.status !== 'pending') continue; // read (or failed) already
        const settled = same || ctx.now - f.mtimeMs >= cfg.settle_time;
        if (!settled) {
          marks[f.name] = { size: f.size, mtimeMs: f.mtimeMs, status: 'pending' };
          continue;
        }
        if (read >= cfg.max_files_per_run) break;
        read++;
        if (f.size > cfg.max_file_bytes) {
          failures.push(`${f.name}: ${f.size} bytes is more than max_file_bytes (${cfg.max_file_bytes})`);
          marks[f.name] = { size: f.size, mtimeMs: f.mtimeMs, status: 'failed' };
          await save();
          continue;
        }
        try {
          const c = await readOne(f.name, ctx);
          total.predictions += c.predictions;
          total.labels += c.labels;
          total.rejected += c.rejected;
          marks[f.name] = { size: f.size, mtimeMs: f.mtimeMs, status: 'read' };
          ctx.logger.info({ file: f.name, ...c }, 'file read');
        } catch (e) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          // An ingest/store failure is not the file's fault: it stays unread and is tried again next run.
          if (!(e instanceof TabularError) && !(e instanceof Error && 'syscall' in e)) throw e;
          failures.push(e instanceof TabularError ? e.message : `${f.name}: ${errorMessage(e)}`);
          marks[f.name] = { size: f.size, mtimeMs: f.mtimeMs, status: 'failed' };
        }
        await save();
        if (doneDir !== undefined && marks[f.name]?.status === 'read') {
          try {
            await mkdir(doneDir, { recursive: true });
            await rename(join(dir, f.name), join(doneDir, f.name));
          } catch (e) {
            ctx.logger.warn({ file: f.name, err: errorMessage(e) }, 'could not move a read file to done_dir');
          }
        }
      }
      await save();
      if (failures.length > 0) {
        throw new SourceError('VIGIL_ERR_SOURCE_FILE', `${what}: ${failures.length} file(s) could not be read (not retried until they change): ${failures.slice(0, 3).join('; ')}`);
      }
      return { samples: [], ingested: total };
    },
  };
}
