/**
 * Rule groups and the manager, ported from Prometheus's rules/group.go and manager.go:
 * sequential evaluation of a group's rules at one timestamp, sending after each rule, state copy
 * on reload, and the `for` state restoration after the second evaluation at start-up.
 */
import type { Sample } from '../../metrics/snapshot.js';
import { isRecordRule, type AlertPayload, type Labels, type PromqlValue, type RuleDef, type RuleGroupDef, type VectorSample } from '../types.js';
import { AlertingRule, toAlertPayload } from './alerting-rule.js';
import { RecordingRule } from './recording-rule.js';
import { restoreForState, type PersistedAlert, type RestoreOptions, type RestoreOutcome } from './restore.js';

/**
 * Evaluates a rule's expression at `ts` (epoch ms). Throws on an evaluation error (the rule
 * keeps its alerts and records health 'err'). Inject the PromQL evaluator here.
 */
export type RuleEvaluator = (rule: RuleDef, ts: number) => readonly VectorSample[];

export type Rule = AlertingRule | RecordingRule;

/** Prometheus's EngineQueryFunc: a vector as is, a scalar as one label-less sample, else an error. */
export function vectorOf(v: PromqlValue): readonly VectorSample[] {
  if (v.type === 'vector') return v.samples;
  if (v.type === 'scalar') return [{ labels: {}, value: v.value }];
  throw new Error('rule result is not a vector or scalar');
}

export interface EngineOptions {
  readonly evaluate: RuleEvaluator;
  readonly externalLabels?: Labels;
  /** Vigil's external URL (generatorURL prefix, `$externalURL`). */
  readonly externalURL?: string;
  /** Minimum time between re-sends of a firing alert (Prometheus --rules.alert.resend-delay, 1m). */
  readonly resendDelayMs?: number;
  /** `for` restoration (--rules.alert.for-grace-period 10m, --rules.alert.for-outage-tolerance 1h). */
  readonly forGracePeriodMs?: number;
  readonly outageToleranceMs?: number;
  /** Told when a group has restored its `for` state at start-up (at `ts`: its second evaluation). */
  readonly onRestore?: (group: string, ts: number, outcomes: readonly RestoreOutcome[]) => void;
  /** Measures evaluation durations (ms); defaults to performance.now. */
  readonly clock?: () => number;
  /**
   * Stores a rule's output at `ts` — a recording rule's series, an alerting rule's ALERTS and
   * ALERTS_FOR_STATE — so later rules and range selectors see it (Prometheus appends them to its
   * TSDB). `writer` identifies the rule across evaluations and reloads: the writer's series that
   * are not in `samples` are stale from `ts`. Not called when the rule fails.
   */
  readonly append?: (writer: string, samples: readonly VectorSample[], ts: number) => void;
}

export interface GroupEvalResult {
  /** ALERTS / ALERTS_FOR_STATE samples produced by this evaluation. */
  readonly samples: readonly Sample[];
  /** What to POST to Alertmanager / hand to the notifiers now. */
  readonly toSend: readonly AlertPayload[];
}

export const DEFAULT_RESEND_DELAY_MS = 60_000;
export const DEFAULT_FOR_GRACE_PERIOD_MS = 10 * 60_000;
export const DEFAULT_OUTAGE_TOLERANCE_MS = 60 * 60_000;

export function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

export class RuleGroup {
  /** In evaluation order. */
  readonly rules: Rule[];
  /** Each rule's writer key (EngineOptions.append): the group, the rule's kind, name and labels, and its rank among identical rules. */
  readonly writers: string[];
  /** Wall time of the last evaluation (ms) and its duration (ms). */
  lastEvaluation: number | undefined;
  evaluationTimeMs = 0;
  /** Samples of the last evaluation of each rule (ALERTS…), for the snapshot. */
  private lastSamples: Sample[][];
  private evalCount = 0;
  /** Set on start-up: restore `for` state after the second evaluation. */
  private pendingRestore: readonly PersistedAlert[] | undefined;

  constructor(
    readonly def: RuleGroupDef,
    private readonly opts: EngineOptions,
    restoreFrom?: readonly PersistedAlert[],
  ) {
    const restored = restoreFrom === undefined;
    this.rules = def.rules.map((r) =>
      isRecordRule(r)
        ? new RecordingRule(r)
        : new AlertingRule(r, {
            ...(opts.externalLabels !== undefined ? { externalLabels: opts.externalLabels } : {}),
            ...(opts.externalURL !== undefined ? { externalURL: opts.externalURL } : {}),
            restored,
          }),
    );
    const rank = new Map<string, number>();
    this.writers = def.rules.map((r) => {
      const id = ruleIdentity(r);
      const n = rank.get(id) ?? 0;
      rank.set(id, n + 1);
      return `${groupKey(def.file, def.name)};${id}#${n}`;
    });
    this.lastSamples = this.rules.map(() => []);
    this.pendingRestore = restoreFrom;
  }

  get key(): string {
    return groupKey(this.def.file, this.def.name);
  }

  /** The alerting rules, in order. */
  get alerting(): AlertingRule[] {
    return this.rules.filter((r): r is AlertingRule => r instanceof AlertingRule);
  }

  /** True while the group still waits for its `for` state restoration. */
  get restoring(): boolean {
    return this.pendingRestore !== undefined;
  }

  /** Evaluates every rule at `ts` (Prometheus's Group.Eval + sendAlerts). */
  eval(ts: number): GroupEvalResult {
    const clock = this.opts.clock ?? (() => performance.now());
    const start = clock();
    const toSend: AlertPayload[] = [];
    const resendDelay = this.opts.resendDelayMs ?? DEFAULT_RESEND_DELAY_MS;
    this.rules.forEach((rule, i) => {
      const t0 = clock();
      rule.evaluationTimestamp = ts;
      try {
        const result = this.opts.evaluate(rule.def, ts);
        let output: readonly VectorSample[];
        if (rule instanceof RecordingRule) {
          output = rule.eval(result, this.def.limit);
          this.lastSamples[i] = rule.samples();
        } else {
          const alerts = rule.eval(result, ts, this.def.limit);
          this.lastSamples[i] = alerts;
          const generatorURL = rule.generatorURL();
          for (const a of rule.alertsToSend(ts, resendDelay, this.def.intervalMs)) {
            toSend.push(toAlertPayload(a, generatorURL, this.opts.externalLabels ?? {}));
          }
          output = alerts.map((a) => ({ labels: { ...a.labels, __name__: a.name }, value: a.value }));
        }
        rule.health = 'ok';
        rule.lastError = undefined;
        this.opts.append?.(this.writers[i] as string, output, ts);
      } catch (e) {
        rule.health = 'err';
        rule.lastError = e instanceof Error ? e.message : String(e);
        this.lastSamples[i] = [];
        if (rule instanceof RecordingRule) rule.clear();
      } finally {
        rule.evaluationDurationMs = clock() - t0;
      }
    });
    this.evaluationTimeMs = clock() - start;
    this.lastEvaluation = ts;
    this.evalCount++;
    if (this.pendingRestore !== undefined && this.evalCount >= 2) {
      this.restoreForState(ts, this.pendingRestore);
      this.pendingRestore = undefined;
    }
    return { samples: this.samples(), toSend };
  }

  /** RestoreForState at `ts` from persisted state; marks every rule restored. */
  restoreForState(ts: number, persisted: readonly PersistedAlert[]): void {
    const ro: RestoreOptions = {
      forGracePeriodMs: this.opts.forGracePeriodMs ?? DEFAULT_FOR_GRACE_PERIOD_MS,
      outageToleranceMs: this.opts.outageToleranceMs ?? DEFAULT_OUTAGE_TOLERANCE_MS,
    };
    const outcomes = this.alerting.map((rule) => restoreForState(rule, ts, persisted, ro));
    this.opts.onRestore?.(this.key, ts, outcomes);
  }

  /** The ALERTS / ALERTS_FOR_STATE samples of the last evaluation. */
  samples(): Sample[] {
    return this.lastSamples.filter((_, i) => this.rules[i] instanceof AlertingRule).flat();
  }

  /** The recording rules' series of their last evaluation (for /metrics). */
  recorded(): Sample[] {
    return this.lastSamples.filter((_, i) => this.rules[i] instanceof RecordingRule).flat();
  }

  /**
   * Prometheus's CopyState on reload: rules matched by name and labels (duplicates in order)
   * take over the old rule's alerts, health and timings.
   */
  copyState(from: RuleGroup): void {
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationTimeMs = from.evaluationTimeMs;
    this.evalCount = from.evalCount;
    this.pendingRestore = from.pendingRestore;
    const byKey = new Map<string, number[]>();
    from.rules.forEach((r, i) => {
      const k = ruleIdentity(r.def);
      byKey.set(k, [...(byKey.get(k) ?? []), i]);
    });
    this.rules.forEach((rule, i) => {
      const k = ruleIdentity(rule.def);
      const idx = byKey.get(k);
      if (idx === undefined || idx.length === 0) return;
      const fi = idx[0] as number;
      byKey.set(k, idx.slice(1));
      const old = from.rules[fi] as Rule;
      this.lastSamples[i] = from.lastSamples[fi] ?? [];
      if (rule instanceof AlertingRule && old instanceof AlertingRule) {
        for (const [fp, a] of old.active) rule.active.set(fp, a);
        rule.restored = old.restored;
      } else if (rule instanceof RecordingRule && old instanceof RecordingRule) rule.copyLast(old);
      rule.health = old.health;
      rule.lastError = old.lastError;
      rule.evaluationTimestamp = old.evaluationTimestamp;
      rule.evaluationDurationMs = old.evaluationDurationMs;
    });
  }
}

function ruleIdentity(r: RuleDef): string {
  return (isRecordRule(r) ? 'record:' : 'alert:') + r.name + JSON.stringify(Object.entries(r.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Holds the groups; `update` applies a (re)load, keeping state of unchanged rules. Scheduling is
 * the caller's: call `evalGroup(key, now)` every group interval.
 */
export class RuleManager {
  private groups = new Map<string, RuleGroup>();
  private loadedOnce = false;
  /** Persisted state read at start-up; kept for rules not yet restored. */
  private restoreSource: readonly PersistedAlert[] | undefined;

  constructor(private readonly opts: EngineOptions) {}

  /** Call before the first update() with what the AlertStateStore loaded. */
  setRestoreSource(persisted: readonly PersistedAlert[]): void {
    this.restoreSource = persisted;
  }

  /**
   * Replaces the rule groups (load or reload). On the first load, groups restore their `for`
   * state after their second evaluation (if a restore source was set); groups added by a later
   * reload start fresh, as in Prometheus.
   */
  update(defs: readonly RuleGroupDef[]): void {
    const next = new Map<string, RuleGroup>();
    const restoreFrom = this.loadedOnce ? undefined : this.restoreSource;
    for (const def of defs) {
      const g = new RuleGroup(def, this.opts, restoreFrom);
      const old = this.groups.get(g.key);
      if (old !== undefined) g.copyState(old);
      next.set(g.key, g);
    }
    this.groups = next;
    this.loadedOnce = true;
  }

  /** Groups sorted by file then name (as Prometheus's RuleGroups()). */
  ruleGroups(): RuleGroup[] {
    return [...this.groups.values()].sort((a, b) =>
      a.def.file !== b.def.file ? (a.def.file < b.def.file ? -1 : 1) : a.def.name < b.def.name ? -1 : a.def.name > b.def.name ? 1 : 0,
    );
  }

  group(key: string): RuleGroup | undefined {
    return this.groups.get(key);
  }

  evalGroup(key: string, ts: number): GroupEvalResult {
    const g = this.groups.get(key);
    if (g === undefined) throw new Error(`no rule group ${key}`);
    return g.eval(ts);
  }

  /** Evaluates every group at `ts` (tests and one-shot runs). */
  evalAll(ts: number): GroupEvalResult {
    const samples: Sample[] = [];
    const toSend: AlertPayload[] = [];
    for (const g of this.ruleGroups()) {
      const r = g.eval(ts);
      samples.push(...r.samples);
      toSend.push(...r.toSend);
    }
    return { samples, toSend };
  }

  alertingRules(): AlertingRule[] {
    return this.ruleGroups().flatMap((g) => g.alerting);
  }

  /** ALERTS / ALERTS_FOR_STATE of every group, for the metrics snapshot. */
  samples(): Sample[] {
    return this.ruleGroups().flatMap((g) => g.samples());
  }

  /** Every recording rule's last series, for /metrics. */
  recorded(): Sample[] {
    return this.ruleGroups().flatMap((g) => g.recorded());
  }

  /** Every rule's writer key (EngineOptions.append). */
  writers(): Set<string> {
    return new Set(this.ruleGroups().flatMap((g) => g.writers));
  }

  /**
   * The state to persist (AlertStateStore.save). Rules whose state is not yet restored carry the
   * loaded entries over unchanged, as Prometheus's old ALERTS_FOR_STATE series stay in its TSDB.
   */
  persistedState(): PersistedAlert[] {
    const out: PersistedAlert[] = [];
    for (const g of this.ruleGroups()) {
      for (const rule of g.alerting) {
        const ruleKey = { file: g.def.file, group: g.def.name, rule: rule.name };
        if (!rule.restored) {
          out.push(...(this.restoreSource ?? []).filter((p) => p.labels['alertname'] === rule.name && p.ruleKey.file === g.def.file && p.ruleKey.group === g.def.name));
          continue;
        }
        for (const a of rule.active.values()) {
          out.push({
            ruleKey,
            fingerprint: a.fingerprint,
            labels: { ...a.labels },
            annotations: { ...a.annotations },
            state: a.state,
            activeAt: a.activeAt,
            firedAt: a.firedAt ?? null,
            resolvedAt: a.resolvedAt ?? null,
            lastSentAt: a.lastSentAt ?? null,
            validUntil: a.validUntil ?? null,
            keepFiringSince: a.keepFiringSince ?? null,
            value: a.value,
            evaluatedAt: rule.evaluationTimestamp ?? a.activeAt,
          });
        }
      }
    }
    return out;
  }
}
