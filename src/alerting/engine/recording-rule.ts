/**
 * A recording rule, ported from Prometheus 2.42's rules/recording.go: the query result renamed to
 * the rule's name with the rule's labels set (an empty value removes the label), refused when two
 * elements then collide or when the group's `limit` is exceeded. Pure: the caller passes the result.
 */
import type { Sample } from '../../metrics/snapshot.js';
import type { Labels, RecordRuleDef, VectorSample } from '../types.js';
import { RuleEvalError, sortLabels, type RuleHealth } from './alerting-rule.js';

export class RecordingRule {
  health: RuleHealth = 'unknown';
  lastError: string | undefined;
  evaluationTimestamp: number | undefined;
  evaluationDurationMs = 0;
  /** The last successful evaluation's series (with `__name__`). */
  private last: readonly VectorSample[] = [];

  constructor(readonly def: RecordRuleDef) {}

  get name(): string {
    return this.def.name;
  }

  /** The recorded series of one evaluation result; throws RuleEvalError (nothing recorded) as Prometheus does. */
  eval(result: readonly VectorSample[], limit = 0): readonly VectorSample[] {
    const out: VectorSample[] = [];
    const seen = new Set<string>();
    for (const s of result) {
      const lb: Record<string, string> = { ...s.labels, __name__: this.def.name };
      for (const [k, v] of Object.entries(this.def.labels)) {
        if (v === '') delete lb[k];
        else lb[k] = v;
      }
      const labels: Labels = sortLabels(lb);
      const key = JSON.stringify(labels);
      if (seen.has(key)) throw new RuleEvalError('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      out.push({ labels, value: s.value });
    }
    if (limit > 0 && out.length > limit) throw new RuleEvalError(`exceeded limit of ${limit} with ${out.length} series`);
    this.last = out;
    return out;
  }

  /** The last recorded series, for /metrics (the name as the sample's name). */
  samples(): Sample[] {
    return this.last.map((s) => {
      const labels: Record<string, string> = { ...s.labels };
      delete labels['__name__'];
      return { name: this.def.name, labels, value: s.value };
    });
  }

  /** Takes over another rule's last series (a reload keeping this rule). */
  copyLast(from: RecordingRule): void {
    this.last = from.last;
  }

  /** Forgets the last series (the rule failed: Prometheus records nothing at this evaluation). */
  clear(): void {
    this.last = [];
  }
}
