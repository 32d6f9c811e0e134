/**
 * A model window's drift report (GET /v1/models/:model/report): the decisions of the drift
 * monitor on the window's rows against the baseline the cycle uses, and each feature's
 * distributions — numeric ones on the reference's quantile bins, counted exactly from the
 * window's codes (no raw value is kept: stats/coded.ts), categorical ones per category.
 */
import { countCodes, quantileBinCountsFromCodes } from '../stats/coded.js';
import type { NumericReferenceSummary } from '../stats/reference.js';
import type { DriftReport } from '../stats/drift-decision.js';
import { categoryCounts, driftReportOf } from '../monitors/drift.js';
import type { WindowView } from '../monitors/view.js';
import { categoricalFromCounts, quantileDistribution, type Distribution } from './distributions.js';
import { featuresByDrift, statusOf } from './html.js';

export interface WindowReport {
  report: DriftReport;
  distributions: Map<string, Distribution | null>;
}

/** The report of a window view, or null without a baseline or below min_samples rows. */
export function windowReport(v: WindowView): WindowReport | null {
  const report = driftReportOf(v);
  const b = v.baseline;
  if (report === null || b === undefined) return null;
  const distributions = new Map<string, Distribution | null>();
  for (const [name, col] of v.w.features) {
    const ref = b.features.get(name);
    if (ref === undefined || ref.kind !== col.kind) {
      distributions.set(name, null);
      continue;
    }
    if (col.kind === 'numeric') {
      const coded = v.w.codedFor(col, b.record.id, v.segmentRef);
      if (coded === undefined) throw new Error(`window of ${v.model.name} is not coded against baseline ${b.record.id}`);
      const r = ref as NumericReferenceSummary;
      const counts = countCodes(coded.codes, v.rows, new Int32Array(coded.grid.codes), coded.grid.codes);
      distributions.set(name, quantileDistribution(r.quantileEdges, r.quantileRefCounts, quantileBinCountsFromCodes(r, counts, true)));
    } else {
      const refCounts = new Map(Object.entries((ref as { counts: Record<string, number> }).counts));
      distributions.set(name, categoricalFromCounts(refCounts, categoryCounts(col.codes, v.rows, col.dict.values)));
    }
  }
  return { report, distributions };
}

const finite = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : x);

/** The report as JSON (the web UI's model page): features most drifted first, each with its tests and distribution. */
export function windowReportJson(r: WindowReport) {
  const s = r.report.summary;
  return {
    summary: {
      features_tested: s.featuresTested,
      features_drifted: s.featuresDrifted,
      features_moderate: s.featuresModerate,
      features_insufficient: s.featuresInsufficient,
      drifted_features: s.driftedFeatures,
      severity: s.severity,
      drift_detected: s.driftDetected,
    },
    features: featuresByDrift(r.report).map(([feature, tests]) => {
      const d = r.distributions.get(feature) ?? null;
      return {
        feature,
        type: tests[0]?.featureType ?? null,
        status: statusOf(tests),
        tests: tests.map((t) => ({
          test: t.test,
          statistic: finite(t.statistic),
          p_value: finite(t.pValue),
          adjusted_p_value: finite(t.adjustedPValue),
          effect: t.effectName,
          effect_size: finite(t.effectSize),
          n_reference: t.nReference,
          n_current: t.nCurrent,
          ...(t.unseenShare === undefined ? {} : { unseen_share: t.unseenShare }),
          status: t.status,
          severity: t.severity,
          reason: t.reason,
          action: t.action,
        })),
        distribution:
          d === null
            ? null
            : {
                kind: d.kind,
                ...(d.binning === undefined ? {} : { binning: d.binning }),
                n_reference: d.nReference,
                n_current: d.nCurrent,
                ...(d.pooled === undefined ? {} : { pooled: d.pooled }),
                bins: d.bins.map((b) => ({ label: b.label, reference: b.reference, current: b.current, ...(b.outside === true ? { outside: true } : {}) })),
              },
      };
    }),
  };
}
