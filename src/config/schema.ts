import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { VigilError } from '../core/errors.js';
import { readTls } from './tls.js';
import { parseRfc3339 } from '../core/rfc3339.js';
import { asRecord, bool, durationMs, httpUrl, int, num, positiveDuration } from './primitives.js';
import { checkSources, SourceConfigSchema } from '../ingest/sources/config.js';
import { AlertmanagersConfigSchema } from '../alerting/notifiers/alertmanager.js';
import { NotificationsConfigSchema } from '../alerting/notifiers/dispatcher.js';
import { parseMatcherList } from '../alerting/notifiers/matchers.js';
import { RemediationConfigSchema } from '../remediation/config.js';
import { checkSlos, SloConfigSchema } from '../slo/config.js';
import { BudgetsSchema, checkBudgets } from '../monitors/budgets.js';

/**
 * The configuration schema: the single source of truth for Vigil's configuration types.
 * YAML keys are snake_case and so are the inferred types. Durations are Prometheus-style
 * strings in the file and milliseconds after parsing. Every default here is documented in the
 * README's configuration reference (a test checks that every key, at any depth, is named there).
 */

/** Label names as Prometheus accepts them. */
export { durationMs };

export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Model names appear in URLs and label values: keep them URL-safe. */
export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const token = z.string().min(16, 'tokens must be at least 16 characters long');

/** Token lists per role (see src/http/auth.ts for what each role may do). */
const TokensSchema = z
  .strictObject({
    read: z.array(token).default([]),
    ingest: z.array(token).default([]),
    admin: z.array(token).default([]),
  })
  .prefault({});

/**
 * A file holding one token (surrounding whitespace ignored), read when the configuration is
 * loaded — at start-up and on every reload, so a rotated file takes effect on SIGHUP. The same
 * file can be Prometheus's `credentials_file`. Relative paths are from the working directory.
 */
const tokenFile = z.string().min(1).transform((path, ctx) => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `cannot read the token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, params: { vigil: 'VALUE' } });
    return z.NEVER;
  }
  const t = text.trim();
  if (t.length < 16 || /\s/.test(t)) {
    ctx.addIssue({ code: 'custom', message: `the token file ${path} must hold one token of at least 16 characters`, params: { vigil: 'VALUE' } });
    return z.NEVER;
  }
  return t;
});

export const ServerSchema = z
  .strictObject({
    address: z.string().min(1).default('127.0.0.1'),
    port: int().pipe(z.number().min(0).max(65535)).default(9470),
    external_url: z.url().optional(),
    tokens: TokensSchema,
    /** Tokens read from files, added to `tokens` of the same role. */
    token_files: z
      .strictObject({
        read: z.array(tokenFile).default([]),
        ingest: z.array(tokenFile).default([]),
        admin: z.array(tokenFile).default([]),
      })
      .prefault({}),
    max_batch_items: int().pipe(z.number().min(1).max(1_000_000)).default(10_000),
    max_body_bytes: int().pipe(z.number().min(1024)).default(64 * 1024 * 1024),
    max_future_skew: durationMs().default(3_600_000),
    shutdown_timeout: positiveDuration().default(10_000),
    /**
     * Slow clients. `headers`: the request line and headers must arrive within this (from the
     * connection's or the request's first byte); `body`: the whole request, headers and body,
     * within this; both answer 408 and close the connection. `idle`: how long a keep-alive
     * connection may wait for its next request.
     */
    timeouts: z
      .strictObject({
        headers: positiveDuration().default(10_000),
        body: positiveDuration().default(30_000),
        idle: positiveDuration().default(72_000),
      })
      .prefault({})
      .refine((t) => t.headers <= t.body, { message: 'headers must not be longer than body (the body timeout counts from the first byte of the request)', path: ['headers'], params: { vigil: 'VALUE' } }),
    /** Open connections at most; more are closed as they arrive (0: no limit). */
    max_connections: int().pipe(z.number().min(0)).default(1024),
    /** HTTPS with this PEM certificate (chain) and key; the files are re-read on reload. */
    tls: z
      .strictObject({ cert_file: z.string().min(1), key_file: z.string().min(1) })
      .superRefine((tls, ctx) => {
        try {
          readTls(tls);
        } catch (e) {
          const err = e as VigilError;
          ctx.addIssue({ code: 'custom', path: [String(err.details?.field ?? 'cert_file')], message: err.message, params: { vigil: 'VALUE' } });
        }
      })
      .optional(),
  })
  .transform(({ token_files: files, ...s }) => ({
    ...s,
    tokens: {
      read: [...s.tokens.read, ...files.read],
      ingest: [...s.tokens.ingest, ...files.ingest],
      admin: [...s.tokens.admin, ...files.admin],
    },
  }));

/** A file holding a password (surrounding whitespace ignored: a trailing newline is not part of it), read at load. */
const passwordFile = z.string().min(1).transform((path, ctx) => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `cannot read the password file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, params: { vigil: 'VALUE' } });
    return z.NEVER;
  }
  const t = text.trim();
  if (t === '') {
    ctx.addIssue({ code: 'custom', message: `the password file ${path} is empty`, params: { vigil: 'VALUE' } });
    return z.NEVER;
  }
  return t;
});

/** A PostgreSQL URL (postgres:// or postgresql://), checked without ever repeating its password. */
const postgresUrl = z.string().transform((text, ctx) => {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a URL such as postgres://vigil@db.example:5432/vigil', params: { vigil: 'VALUE' } });
    return z.NEVER;
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    ctx.addIssue({ code: 'custom', message: `must be a postgres:// or postgresql:// URL, not ${u.protocol}//`, params: { vigil: 'VALUE' } });
    return z.NEVER;
  }
  if (u.hostname === '' || u.pathname.length <= 1) {
    ctx.addIssue({ code: 'custom', message: 'must name a host and a database (postgres://USER@HOST:PORT/DATABASE)', params: { vigil: 'VALUE' } });
    return z.NEVER;
  }
  return text;
});

export const StorageSchema = z.strictObject({
  /** `sqlite` (one process, one file) or `postgres` (a shared database: replicas, a leader that acts). */
  backend: z.enum(['sqlite', 'postgres']).default('sqlite'),
  /** backend postgres: where (the password may be in it, in password_file, or in PGPASSWORD). */
  url: postgresUrl.optional(),
  password_file: passwordFile.optional(),
  /** backend postgres: the schema Vigil's tables live in (created if missing). */
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)').default('vigil'),
  /** backend postgres: connections in the pool. */
  pool_size: int().pipe(z.number().min(2).max(100)).default(10),
  /** backend postgres: how long `vigil serve` waits at start-up for a database that does not answer yet. */
  startup_retry: durationMs().default(30_000),
  path: z.string().min(1).default('./data/vigil.db'),
  retention: positiveDuration().default(30 * 86_400_000),
  prune_interval: positiveDuration().default(3_600_000),
  synchronous: z.enum(['normal', 'full']).default('normal'),
  /** SQLite's page cache, MiB (held in the process; the OS caches the file as well). */
  cache_mb: z.number().int().min(1).max(4096).default(4),
  /** Resolved remediation incidents and their action records are deleted after this. */
  audit_retention: positiveDuration().default(365 * 86_400_000),
}).superRefine((st, ctx) => {
  if (st.backend === 'postgres' && st.url === undefined) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: 'backend postgres needs storage.url (postgres://USER@HOST:PORT/DATABASE)', params: { vigil: 'VALUE' } });
  }
  if (st.backend === 'sqlite') {
    for (const key of ['url', 'password_file'] as const) {
      if (st[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `storage.${key} is for backend postgres; set storage.backend: postgres (the backend is sqlite)`, params: { vigil: 'VALUE' } });
    }
  }
});

/** Replicas sharing a PostgreSQL store (storage.backend: postgres). */
export const ClusterSchema = z.strictObject({
  /**
   * The leader lease: how long a leader that stops renewing (dead, paused, cut off) is waited for
   * before another replica takes over; renewed every third of it.
   */
  lease: durationMs().pipe(z.number().min(1000, 'at least 1s').max(300_000, 'at most 5m')).default(15_000),
  /**
   * Sharding by model (src/cluster/shard.ts): this process monitors the models whose
   * Prometheus-`hashmod` of the name by `count` is `index`. Default: one shard, every model.
   */
  shard: z
    .strictObject({
      count: int().pipe(z.number().min(1, 'at least 1')),
      index: int().pipe(z.number().min(0, 'at least 0')),
    })
    .superRefine((s, ctx) => {
      // a count below 1 is reported by itself
      if (s.count >= 1 && s.index >= s.count) {
        ctx.addIssue({ code: 'custom', path: ['index'], message: `must be less than count (${s.count}): the shards are numbered 0 to ${s.count - 1}`, params: { vigil: 'VALUE' } });
      }
    })
    .default({ count: 1, index: 0 }),
});

/**
 * Traces of Vigil's own work (src/core/tracing.ts), exported over OTLP/HTTP (JSON) to a collector:
 * off unless `otlp.endpoint` is set.
 */
export const TracingSchema = z.strictObject({
  otlp: z
    .strictObject({
      /** The collector's traces URL, e.g. http://otel-collector:4318/v1/traces. */
      endpoint: httpUrl().optional(),
      /** Headers sent with every export (an API key of a hosted collector). */
      headers: z.record(z.string(), z.string()).default({}),
      /** One export's timeout. */
      timeout: positiveDuration().default(10_000),
    })
    .prefault({}),
  /** The share of traces kept (a trace started by a caller's sampled traceparent is always kept). */
  sample_ratio: num().pipe(z.number().min(0).max(1)).default(1),
});

export const FeatureSchema = z.strictObject({
  name: z.string().min(1).max(256),
  type: z.enum(['numeric', 'categorical']),
});

export const TaskSchema = z.enum(['binary', 'multiclass', 'regression']);

const classValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const DRIFT_TESTS = ['ks', 'psi', 'chi2', 'jsd', 'wasserstein'] as const;

/** Numeric reference values a loaded baseline keeps in memory per feature, by default (drift.reference_points). */
export const DEFAULT_REFERENCE_POINTS = 10_000;

export const DriftConfigSchema = z.strictObject({
  /** Tests for numeric features (and the binary score / regression prediction). */
  numeric_tests: z.array(z.enum(DRIFT_TESTS)).min(1).default(['ks', 'psi']),
  /** Tests for categorical features (and multiclass predictions / class labels). */
  categorical_tests: z.array(z.enum(DRIFT_TESTS)).min(1).default(['chi2', 'psi']),
  /** Significance level after Benjamini–Hochberg correction across the model's features. */
  alpha: num().pipe(z.number().gt(0).lt(1)).default(0.05),
  /**
   * Numeric reference values held in memory per feature at most: a baseline's stored values when
   * there are no more, else their quantile sketch of this many (KS within 1/(2·this) of the full
   * reference's statistic). Memory: 8 bytes per value per numeric feature and baseline.
   */
  reference_points: int().pipe(z.number().min(100).max(1_000_000)).default(DEFAULT_REFERENCE_POINTS),
  /**
   * KS p-values: `auto` exact while the exact computation stays within a budget (a cycle's cost
   * grows smoothly with the window), else asymptotic; `scipy` SciPy's own `auto` (exact up to
   * 10,000 values a side, whatever it costs: O(n·m) per feature just below that).
   */
  ks_method: z.enum(['auto', 'scipy']).default('auto'),
});

export const BusinessConfigSchema = z.strictObject({
  /** Value of each outcome of a binary prediction (negative for a loss). */
  tp: num().default(0),
  fp: num().default(0),
  tn: num().default(0),
  fn: num().default(0),
  /** Multiclass: value of a correct / an incorrect prediction. */
  correct: num().default(0),
  incorrect: num().default(0),
  /** Regression: value per prediction, plus this per unit of absolute error (usually negative). */
  per_prediction: num().default(0),
  per_unit_error: num().default(0),
  /** Serving cost per prediction, for ROI. */
  cost_per_prediction: num().pipe(z.number().min(0)).default(0),
  currency: z.string().optional(),
});

export const ExperimentSchema = z.strictObject({
  control: z.string().min(1).optional(),
  variants: z.array(z.string().min(1)).min(1).optional(),
  alpha: num().pipe(z.number().gt(0).lt(1)).default(0.05),
  /** Correction for the comparisons of one window (every metric of every variant): Benjamini–Hochberg, Bonferroni, Holm, or none. */
  correction: z.enum(['bh', 'bonferroni', 'holm', 'none']).default('bh'),
});

/**
 * KServe inference logger (src/http/routes/kserve.ts, src/ingest/kserve-join.ts): how the
 * CloudEvents of an InferenceService map to this model's predictions. Every key is optional.
 */
export const ModelKserveSchema = z.strictObject({
  /** The InferenceService whose events are this model's (the `inferenceservicename` attribute); default: the model's name. */
  inference_service: z.string().min(1).max(253).optional(),
  /** Only the events of this endpoint (the `endpoint` attribute: `default`, `canary`, …); default: any. */
  endpoint: z.string().min(1).max(253).optional(),
  /** Feature names of positional columns (V1 `instances` rows, V2 [N, F] inputs); default: models[].features in order. */
  features: z.array(z.string().min(1).max(256)).optional(),
  /** Which part of the response is the prediction: V2 an output name or index (default 0); V1 a column index or key of the rows. */
  prediction: z.union([z.string().min(1).max(256), z.number().int().min(0)]).optional(),
  /** Which part of the response is the score: V2 an output name or index; V1 a column index (the probability column) or key. */
  score: z.union([z.string().min(1).max(256), z.number().int().min(0)]).optional(),
  /** Where model_version comes from: `auto` (V2 `model_version`, else the endpoint), `model_version`, `endpoint`, `component`, `none`. */
  version_from: z.enum(['auto', 'model_version', 'endpoint', 'component', 'none']).default('auto'),
});

/** The KServe request/response join (top-level `kserve`). */
export const KserveSchema = z.strictObject({
  /** A request or response half waits this long for its other half, then is dropped and counted (vigil_kserve_unmatched_total). */
  join_timeout: positiveDuration().default(30_000),
  /** Halves held at most, all models together; past it the oldest is dropped and counted. */
  max_pending: int().pipe(z.number().min(1).max(10_000_000)).default(100_000),
  /** Their bodies' JSON size at most, all together (bytes): large inference bodies are bounded too. */
  max_pending_bytes: int().pipe(z.number().min(1024)).default(64 * 1024 * 1024),
});

/** The highest models[].segments.max: each segment multiplies the model's per-window series. */
export const SEGMENTS_MAX = 100;

export const ModelSchema = z.strictObject({
  name: z.string().regex(MODEL_NAME_RE, 'must be 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit'),
  task: TaskSchema,
  /** Binary only: the class counted as positive (compared as a string). */
  positive_class: classValue.optional(),
  /** Multiclass: the known classes (optional; learned from data when absent). */
  classes: z.array(classValue).optional(),
  description: z.string().optional(),
  /** Labels copied onto this model's alerts (team, owner, …). */
  labels: z.record(z.string().regex(LABEL_NAME_RE, 'must be a Prometheus label name'), z.string()).default({}),
  features: z.array(FeatureSchema).default([]),
  /** Accept (and ignore) feature names the config does not list, instead of rejecting the item. */
  allow_unknown_features: bool().default(false),
  windows: z.array(positiveDuration()).min(1).default([3_600_000, 86_400_000]),
  min_samples: int().pipe(z.number().min(1)).default(100),
  /** Overrides the global evaluation interval for this model. */
  evaluation_interval: positiveDuration().optional(),
  /** Binary: score at or above which the positive class is predicted (label-free estimate). */
  decision_threshold: num().pipe(z.number().min(0).max(1)).default(0.5),
  /** Binary: the label-free estimate is trusted (ml_model_estimate_reliable = 1) while the baseline's expected calibration error is at most this. */
  estimate_max_calibration_error: num().pipe(z.number().min(0).max(1)).default(0.05),
  /**
   * Binary: the scores the label-free estimate (CBPE) reads. `auto` (NannyML's CBPE): calibrated by
   * the baseline's isotonic fit when its calibration check says they gain from it, else as posted;
   * `isotonic`: always calibrated when the baseline has a fit; `none`: as posted.
   */
  estimate_calibration: z.enum(['auto', 'isotonic', 'none']).default('auto'),
  drift: DriftConfigSchema.prefault({}),
  business: BusinessConfigSchema.optional(),
  experiment: ExperimentSchema.optional(),
  /** Performance budgets (src/monitors/budgets.ts): ml_model_budget_* series and MLPerformanceBudgetViolated. */
  budgets: BudgetsSchema.optional(),
  /**
   * Segment monitoring (src/monitors/segments.ts): quality, drift, data quality and latency per
   * value of the predictions' `segment`, for the `max` most frequent values of the hot window; the
   * rest pooled as `other`.
   */
  segments: z.strictObject({ max: int().pipe(z.number().min(1).max(SEGMENTS_MAX)) }).optional(),
  /** KServe inference logger events (src/http/routes/kserve.ts): the mapping to this model's predictions. */
  kserve: ModelKserveSchema.optional(),
});

export const AlertingSchema = z.strictObject({
  /** Load the bundled ML rules (rules/vigil-ml.rules.yml) besides `rule_files`. */
  bundled_rules: bool().default(true),
  /** Labels added to every alert Vigil sends (as Prometheus's external_labels). */
  external_labels: z.record(z.string().regex(LABEL_NAME_RE, 'must be a Prometheus label name'), z.string()).default({}),
  /** Minimum time between re-sends of a still-firing alert (Prometheus --rules.alert.resend-delay). */
  resend_delay: durationMs().default(60_000),
  /** `for` is restored after a restart only for rules with `for` at least this long. */
  for_grace_period: durationMs().default(600_000),
  /** Alert state older than this is not restored after a restart. */
  for_outage_tolerance: durationMs().default(3_600_000),
  /**
   * The sample history rules read (range selectors, offset, @, subqueries): how long it reaches
   * back, and at most how many samples it keeps (about 17 bytes a slot, up to two slots a sample, plus ~200 bytes a series);
   * past the cap the oldest evaluations are dropped first.
   */
  history: z
    .strictObject({
      retention: durationMs().default(3_600_000),
      max_samples: int().pipe(z.number().min(1000)).default(5_000_000),
      /** Keep the history in the store across restarts (12 bytes a sample on disk, pruned at the retention). */
      persist: z.boolean().default(true),
    })
    .prefault({}),
});

/** A time: RFC 3339 checked against the calendar (2026-02-30 is an error, not 2 March), or epoch ms. */
const timestamp = () =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      ctx.addIssue({ code: 'custom', message: 'not a valid time (epoch milliseconds)', params: { vigil: 'VALUE' } });
      return z.NEVER;
    }
    const parsed = parseRfc3339(v);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: `"${v}" ${parsed.error}`, params: { vigil: 'VALUE' } });
      return z.NEVER;
    }
    return parsed.ms;
  });

const matcherList = () =>
  z.array(z.string().min(1)).min(1).superRefine((list, ctx) => {
    try {
      parseMatcherList(list);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message, params: { vigil: 'VALUE' } });
    }
  });

/** A scheduled maintenance window: suppresses notifications and remediation of matching alerts. */
export const MaintenanceWindowSchema = z
  .strictObject({
    name: z.string().min(1),
    matchers: matcherList(),
    starts_at: timestamp(),
    ends_at: timestamp(),
  })
  .refine((w) => w.ends_at > w.starts_at, { message: 'ends_at must be after starts_at', path: ['ends_at'], params: { vigil: 'VALUE' } });

export const LogSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: lines for people on a terminal, JSON lines otherwise (a file, a pipe, a container's log). */
  format: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

export const ConfigSchema = z
  .strictObject({
    server: ServerSchema.prefault({}),
    storage: StorageSchema.prefault({}),
    log: LogSchema.prefault({}),
    evaluation_interval: positiveDuration().default(30_000),
    /** Worker threads computing the cycle (src/monitors/compute-pool.ts): auto = one per core but the main thread's; 0 = on the main thread. */
    compute_workers: z.union([z.literal('auto'), z.number().int().min(0).max(256)]).default('auto'),
    models: z.array(ModelSchema).default([]),
    /** Prometheus rule files (globs relative to this file); the bundled rules load unless alerting.bundled_rules is false. */
    rule_files: z.array(z.string().min(1)).default([]),
    alerting: AlertingSchema.prefault({}),
    /** Alertmanagers Vigil sends its alerts to (API v2), as Prometheus does. */
    alertmanagers: AlertmanagersConfigSchema,
    /** Direct notifiers and their routes (src/alerting/notifiers). */
    notifications: NotificationsConfigSchema.prefault({}),
    maintenance_windows: z.array(MaintenanceWindowSchema).default([]),
    /** Pull sources (src/ingest/sources). */
    sources: z.array(SourceConfigSchema).default([]),
    /** Actions, routes from alerts to actions, and guardrails (src/remediation). */
    remediation: RemediationConfigSchema.prefault({}),
    /** Service level objectives on the models' data (src/slo). */
    slos: z.array(SloConfigSchema).default([]),
    cluster: ClusterSchema.prefault({}),
    /** KServe inference logger ingestion: the request/response join (src/ingest/kserve-join.ts). */
    kserve: KserveSchema.prefault({}),
    tracing: TracingSchema.prefault({}),
  })
  // Checks across keys. The model checks run even when other parts of the file have problems, so
  // a duplicate model name is reported with them (`when`), and so read the value defensively: an
  // entry that failed its own schema is still its raw input here. The source checks need valid sources.
  .superRefine((cfg, ctx) => checkModels(cfg as unknown, ctx), { when: () => true })
  .superRefine((cfg, ctx) => checkSources(cfg.sources, ctx, { models: cfg.models.map((m) => m.name) }))
  .superRefine((cfg, ctx) => checkSlos(cfg as unknown, ctx), { when: () => true })
  .superRefine((cfg, ctx) => checkBudgets(cfg as unknown, ctx), { when: () => true })
  .superRefine((cfg, ctx) => checkKserve(cfg.models, ctx));

/** Duplicate model, feature and window names, and settings that do not fit the model's task. */
function checkModels(cfg: unknown, ctx: z.RefinementCtx): void {
  const rec = asRecord;
  const c = rec(cfg);
  if (c === undefined || !Array.isArray(c.models)) return;
  const retention = rec(c.storage)?.retention;
  const seen = new Map<string, number>();
  (c.models as unknown[]).forEach((raw, i) => {
    const m = rec(raw);
    if (m === undefined) return;
    if (typeof m.name === 'string') {
      const first = seen.get(m.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'name'], message: `duplicate model name "${m.name}" (first at models[${first}])`, params: { vigil: 'DUPLICATE' } });
      } else seen.set(m.name, i);
    }
    if (Array.isArray(m.features)) {
      const features = new Map<string, number>();
      (m.features as unknown[]).forEach((f, j) => {
        const name = rec(f)?.name;
        if (typeof name !== 'string') return;
        const firstF = features.get(name);
        if (firstF !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'features', j, 'name'], message: `duplicate feature name "${name}" (first at features[${firstF}])`, params: { vigil: 'DUPLICATE' } });
        } else features.set(name, j);
      });
    }
    const task = m.task;
    if (typeof task === 'string' && (TaskSchema.options as readonly string[]).includes(task)) {
      if (task !== 'binary' && m.positive_class !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'positive_class'], message: `positive_class applies to binary models only (task is ${task})`, params: { vigil: 'VALUE' } });
      }
      if (task !== 'multiclass' && m.classes !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'classes'], message: `classes applies to multiclass models only (task is ${task})`, params: { vigil: 'VALUE' } });
      }
    }
    if (Array.isArray(m.windows)) {
      const windows = new Set<number>();
      (m.windows as unknown[]).forEach((w, j) => {
        if (typeof w !== 'number') return; // not a valid duration: reported by the schema
        if (windows.has(w)) ctx.addIssue({ code: 'custom', path: ['models', i, 'windows', j], message: 'duplicate window', params: { vigil: 'DUPLICATE' } });
        windows.add(w);
        if (typeof retention === 'number' && w > retention) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'windows', j], message: 'window is longer than storage.retention: its data would be pruned before the window is full', params: { vigil: 'VALUE' } });
        }
      });
    }
  });
}

/**
 * models[].kserve across models: positional feature names the model knows (once each), a score
 * only where the task has one, and one model per InferenceService and endpoint.
 */
function checkKserve(models: readonly z.output<typeof ModelSchema>[], ctx: z.RefinementCtx): void {
  const claimed = new Map<string, number>();
  models.forEach((m, i) => {
    const k = m.kserve;
    if (k === undefined) return;
    const path = (...rest: (string | number)[]) => ['models', i, 'kserve', ...rest];
    if (k.features !== undefined) {
      const known = new Set(m.features.map((f) => f.name));
      const seen = new Map<string, number>();
      k.features.forEach((name, j) => {
        const first = seen.get(name);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: path('features', j), message: `duplicate feature name "${name}" (first at kserve.features[${first}])`, params: { vigil: 'DUPLICATE' } });
        } else seen.set(name, j);
        if (!known.has(name) && !m.allow_unknown_features) {
          ctx.addIssue({ code: 'custom', path: path('features', j), message: `"${name}" is not one of the model's features (models[].features)`, params: { vigil: 'VALUE' } });
        }
      });
    }
    if (k.score !== undefined && m.task === 'regression') {
      ctx.addIssue({ code: 'custom', path: path('score'), message: 'score applies to binary and multiclass models only (task is regression)', params: { vigil: 'VALUE' } });
    }
    const service = k.inference_service ?? m.name;
    const key = `${service}\u0000${k.endpoint ?? '*'}`;
    const first = claimed.get(key);
    if (first !== undefined) {
      const what = `InferenceService "${service}"${k.endpoint === undefined ? '' : ` endpoint "${k.endpoint}"`}`;
      ctx.addIssue({ code: 'custom', path: path(k.inference_service === undefined ? 'endpoint' : 'inference_service'), message: `${what} is already mapped to models[${first}]: give each model its own endpoint`, params: { vigil: 'DUPLICATE' } });
    } else claimed.set(key, i);
  });
}

export type VigilConfig = z.output<typeof ConfigSchema>;
export type ServerConfig = VigilConfig['server'];
export type StorageConfig = VigilConfig['storage'];
export type ModelConfig = VigilConfig['models'][number];
export type FeatureConfig = ModelConfig['features'][number];
export type ModelKserveConfig = NonNullable<ModelConfig['kserve']>;
export type KserveConfig = VigilConfig['kserve'];
export type Task = z.output<typeof TaskSchema>;

/** The positive class of a binary model ("1" unless configured). */
export const positiveClassOf = (m: ModelConfig): string => m.positive_class ?? '1';
