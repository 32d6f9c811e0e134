import { dirname } from 'node:path';
import type { VigilConfig } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { packageRoot } from '../core/paths.js';
import type { Sample } from '../metrics/snapshot.js';
import type { Store } from '../store/store.js';
import {
  buildAlertsResponse,
  buildRulesResponse,
  groupKey,
  restoreForState,
  RuleManager,
  vectorOf,
  type Alert,
  type PersistedAlert,
  type RulesQuery,
} from './engine/index.js';
import { HistoryPersistence } from './history-store.js';
import { SampleHistory } from './promql/history.js';
import { evaluate, parsePromql, SeriesIndex, type PromqlExpr } from './promql/index.js';
import { instantQuery, rangeQuery, type QueryData } from './promql/query.js';
import { formatRuleFileError, loadRuleFiles, parseRuleFile, type RuleFileError } from './rules/index.js';
import { sloRulesYaml } from '../slo/rules.js';
import { isRecordRule, type AlertPayload, type PromqlValue, type RuleGroupDef } from './types.js';

/** The bundled ML rules (rules/*.rules.yml in the package). */
export const BUNDLED_RULES_GLOB = 'rules/*.rules.yml';
const STATE_KEY = 'alerting.state';

export interface RulesLoad {
  groups: RuleGroupDef[];
  errors: RuleFileError[];
}

/** Loads the configured rule files (relative to the config file) and, unless disabled, the bundled ones. */
export async function loadConfiguredRules(config: VigilConfig, configFile: string): Promise<RulesLoad> {
  const a = config.alerting;
  const parts = await Promise.all([
    a.bundled_rules ? loadRuleFiles([BUNDLED_RULES_GLOB], { baseDir: packageRoot(), defaultIntervalMs: config.evaluation_interval }) : { groups: [], errors: [] },
    loadRuleFiles(config.rule_files, { baseDir: dirname(configFile), defaultIntervalMs: config.evaluation_interval }),
  ]);
  const groups = parts.flatMap((p) => p.groups);
  const errors = parts.flatMap((p) => p.errors);
  // The SLOs' burn-rate alerts (slo/rules.ts), unless a rule file holds a group of the same name
  // (e.g. the output of `vigil slo rules` loaded as a rule file).
  if (config.slos.length > 0) {
    const generated = parseRuleFile(sloRulesYaml(config.slos), SLO_RULES_FILE, { defaultIntervalMs: config.evaluation_interval });
    const names = new Set(groups.map((g) => g.name));
    groups.push(...generated.groups.filter((g) => !names.has(g.name)));
    errors.push(...generated.errors);
  }
  return { groups, errors };
}

/** The `file` of the generated SLO rule groups (/api/v1/rules). */
/**
 * Series the history keeps whether or not a rule reads them: what the web UI's model page charts
 * over time (quality per window and version, drift, volume). A few series a model window.
 */
export const CHARTED: ReadonlySet<string> = new Set([
  'ml_model_accuracy',
  'ml_model_f1_score',
  'ml_model_roc_auc',
  'ml_model_estimated_accuracy',
  'ml_model_r2',
  'ml_model_mae',
  'ml_model_rmse',
  'ml_features_drifted',
  'ml_window_samples',
]);

export const SLO_RULES_FILE = 'slos (generated: vigil slo rules)';

/**
 * Vigil's own Prometheus-style rule evaluation: rule groups over the cycle's samples, Prometheus's
 * alert state machine, state persisted in the store and restored at start-up as Prometheus does.
 */
export class AlertingService {
  private manager: RuleManager;
  private index = new SeriesIndex([]);
  /** What range selectors, offsets and subqueries read: each evaluation's samples (alerting.history). */
  private history: SampleHistory;
  /** Keeps the history across restarts (alerting.history.persist). */
  private readonly persistence: HistoryPersistence | undefined;
  private readonly parsed = new Map<string, PromqlExpr>();
  private readonly lastEval = new Map<string, number>();
  private readonly log: Logger;
  /** The alerts firing after the last evaluation (undefined before the first): transitions are logged. */
  private firing: Map<string, Alert> | undefined;
  private groups: RuleGroupDef[] = [];
  private exprTexts: string[] = [];
  private readsAnyName = false;
  private readonly readNames = new Map<string, boolean>();
  /** Every loaded rule's history writer key (outputs of others are retired). */
  private ruleWriters = new Set<string>();

  constructor(
    private readonly deps: {
      store: Store;
      logger: Logger;
      config: () => VigilConfig;
      onRuleFailure?: (group: string, rule: string) => void;
    },
  ) {
    this.log = deps.logger.child({ component: 'alerting' });
    const h = deps.config().alerting.history;
    this.history = new SampleHistory({ retentionMs: h.retention, maxSamples: h.max_samples, journal: h.persist });
    // Replicas sharing a store each keep their own history in memory: the persisted one is one
    // process's (its series ids are its own), so a shared store keeps none — a restarted replica's
    // range rules fill again over their range.
    this.persistence = h.persist && !deps.store.shared ? new HistoryPersistence(deps.store, this.log) : undefined;
    this.manager = this.newManager();
  }

  private newManager(): RuleManager {
    const a = this.deps.config().alerting;
    return new RuleManager({
      evaluate: (rule, ts) => {
        let expr = this.parsed.get(rule.expr);
        if (expr === undefined) {
          expr = parsePromql(rule.expr);
          this.parsed.set(rule.expr, expr);
        }
        try {
          return vectorOf(evaluate(expr, { series: this.index, timeMs: ts, defaultStepMs: this.deps.config().evaluation_interval }));
        } catch (e) {
          this.deps.onRuleFailure?.(rule.file, rule.name);
          throw e;
        }
      },
      append: (writer, samples) => this.index.write(writer, samples, (name) => this.mayBeRead(name)),
      externalLabels: a.external_labels,
      ...(this.deps.config().server.external_url ? { externalURL: this.deps.config().server.external_url as string } : {}),
      resendDelayMs: a.resend_delay,
      forGracePeriodMs: a.for_grace_period,
      outageToleranceMs: a.for_outage_tolerance,
      onRestore: (group, ts, outcomes) => {
        const restored = outcomes.filter((o) => o === 'restored').length;
        if (restored > 0) this.log.info({ group, at: new Date(ts).toISOString(), rules: restored }, 'alert `for` state restored');
      },
    });
  }

  /** Start-up: restore the rule history and persisted alert state (Prometheus semantics), and apply the rules. */
  async start(groups: RuleGroupDef[], now: number = Date.now()): Promise<void> {
    if (this.persistence !== undefined) {
      const r = await this.persistence.restore(this.history, now, this.deps.config().alerting.history.retention);
      if (r.evaluations > 0) this.log.info({ series: r.series, samples: r.samples, evaluations: r.evaluations }, 'rule history restored');
    }
    const raw = await this.deps.store.getState(STATE_KEY);
    if (raw !== undefined) {
      try {
        this.manager.setRestoreSource(JSON.parse(raw) as PersistedAlert[]);
      } catch (e) {
        this.log.error({ err: errorMessage(e) }, 'persisted alert state cannot be read; starting fresh');
      }
    }
    this.apply(groups);
  }

  /**
   * Whether a rule may read series of this name (then a rule output of that name invalidates the
   * evaluation's cached selections): its name appears in a rule's expression, or some expression
   * selects without a metric name. Conservative: a substring match counts.
   */
  private mayBeRead(name: string): boolean {
    if (this.readsAnyName || CHARTED.has(name)) return true;
    let known = this.readNames.get(name);
    if (known === undefined) {
      known = this.exprTexts.some((e) => e.includes(name));
      this.readNames.set(name, known);
    }
    return known;
  }

  /** Applies a new rule set (reload): alert state carries over by rule and labels, as Prometheus. */
  apply(groups: RuleGroupDef[]): void {
    this.groups = groups;
    this.exprTexts = groups.flatMap((g) => g.rules.map((r) => r.expr));
    // `{job="x"}` or `{__name__=~"…"}`: a selector without a plain metric name may read any series
    this.readsAnyName = this.exprTexts.some((e) => e.includes('__name__') || /(^|[^a-zA-Z0-9_:\]\s])\s*\{/.test(e));
    this.readNames.clear();
    this.manager.update(groups);
    this.ruleWriters = this.manager.writers();
    const recording = groups.reduce((n, g) => n + g.rules.filter(isRecordRule).length, 0);
    const rules = groups.reduce((n, g) => n + g.rules.length, 0);
    this.log.info({ groups: groups.length, alerting: rules - recording, recording }, 'rules loaded');
  }

  ruleGroups(): readonly RuleGroupDef[] {
    return this.groups;
  }

  /**
   * Evaluates every group whose interval has elapsed over these samples, persists the state and
   * returns the ALERTS series, the recording rules' series and the alerts to send now. `handOver` gets the alerts to send
   * before the state is persisted, so a crash between the two re-sends rather than loses them.
   */
  async evaluate(
    samples: readonly Sample[],
    now: number,
    handOver?: (toSend: AlertPayload[]) => Promise<void>,
  ): Promise<{ samples: Sample[]; recorded: Sample[]; toSend: AlertPayload[] }> {
    this.index = new SeriesIndex(samples).recordIn(this.history, now, this.ruleWriters, (name) => this.mayBeRead(name));
    // what fired before this evaluation (after a restart: the restored state, not logged again)
    this.firing ??= this.firingAlerts();
    const toSend: AlertPayload[] = [];
    for (const g of this.groups) {
      const key = groupKey(g.file, g.name);
      const last = this.lastEval.get(key);
      // A group runs at most once per its interval (and at most once per cycle).
      if (last !== undefined && now - last < g.intervalMs - 1000) continue;
      this.lastEval.set(key, now);
      const r = this.manager.evalGroup(key, now);
      toSend.push(...r.toSend);
    }
    this.logTransitions(now);
    await handOver?.(toSend);
    await this.deps.store.setState(STATE_KEY, JSON.stringify(this.manager.persistedState()), now);
    await this.persistence?.persist(this.history);
    const h = this.history.stats();
    const history: Sample[] = [
      { name: 'vigil_rule_history_series', labels: {}, value: h.series },
      { name: 'vigil_rule_history_samples', labels: {}, value: h.samples },
      { name: 'vigil_rule_history_bytes', labels: {}, value: h.bytes },
      { name: 'vigil_rule_history_dropped_samples_total', labels: {}, value: h.droppedSamples },
      ...(h.oldestMs === undefined ? [] : [{ name: 'vigil_rule_history_oldest_timestamp_seconds', labels: {}, value: h.oldestMs / 1000 }]),
    ];
    return { samples: [...this.manager.samples(), ...history], recorded: this.manager.recorded(), toSend };
  }

  rulesResponse(q: RulesQuery) {
    return buildRulesResponse(this.manager.ruleGroups(), q);
  }

  alertsResponse() {
    return buildAlertsResponse(this.manager.ruleGroups());
  }

  /**
   * An instant query over what the rules last saw — the last evaluation's snapshot, the rule
   * outputs of that evaluation (and the earlier ones rules read) and the history — at that
   * evaluation's time (or `timeMs`).
   */
  query(expr: string, timeMs?: number): PromqlValue {
    const t = timeMs ?? (Number.isNaN(this.index.snapshotTimeMs) ? Date.now() : this.index.snapshotTimeMs);
    return evaluate(parsePromql(expr), { series: this.index, timeMs: t, defaultStepMs: this.deps.config().evaluation_interval });
  }

  /** `GET /api/v1/query`: Prometheus's instant query over the history (at `timeMs`, else now). Throws QueryApiError. */
  queryApi(expr: string | undefined, timeMs: number, timeoutMs?: number): QueryData {
    return instantQuery(this.index, expr, timeMs, this.deps.config().evaluation_interval, timeoutMs);
  }

  /** `GET /api/v1/query_range`: Prometheus's range query over the history. Throws QueryApiError. */
  queryRangeApi(expr: string | undefined, startMs: number, endMs: number, stepMs: number, timeoutMs?: number): QueryData {
    return rangeQuery(this.index, expr, startMs, endMs, stepMs, this.deps.config().evaluation_interval, timeoutMs === undefined ? {} : { timeoutMs });
  }

  /** The history's size, for vigil_rule_history_* on /metrics. */
  historyStats() {
    return this.history.stats();
  }

  /** The firing alerts by fingerprint (of their labels, alertname included). */
  private firingAlerts(): Map<string, Alert> {
    const out = new Map<string, Alert>();
    for (const r of this.manager.alertingRules()) for (const a of r.activeAlerts()) if (a.state === 'firing') out.set(a.fingerprint, a);
    return out;
  }

  /** Logs (info) each alert that started firing and each that stopped since the last evaluation. */
  private logTransitions(now: number): void {
    const before = this.firing ?? new Map<string, Alert>();
    const after = this.firingAlerts();
    for (const [key, a] of after) {
      if (!before.has(key)) this.log.info({ alertname: a.labels.alertname, labels: a.labels, value: a.value, activeSince: new Date(a.activeAt).toISOString() }, 'alert firing');
    }
    for (const [key, a] of before) {
      if (!after.has(key)) this.log.info({ alertname: a.labels.alertname, labels: a.labels, firedForSeconds: a.firedAt === undefined ? undefined : Math.round((now - a.firedAt) / 1000) }, 'alert resolved');
    }
    this.firing = after;
  }

  /** Active (pending or firing) alerts, for silences and remediation. */
  activeAlerts() {
    return this.manager.alertingRules().flatMap((r) => r.activeAlerts().map((a) => ({ rule: r, alert: a })));
  }
}

export { formatRuleFileError, restoreForState };
