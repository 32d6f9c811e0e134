import { describe, expect, it } from 'vitest';
import { SampleHistory } from './history.js';
import { instantQuery, parseQueryDuration, parseQueryTime, QueryApiError, rangeQuery } from './query.js';
import { SeriesIndex } from './series.js';

const T0 = Date.UTC(2026, 11, 6);
const MIN = 60_000;

/** Three snapshots a minute apart: a{i="1"} always, a{i="2"} from the second. */
function index(): SeriesIndex {
  const h = new SampleHistory({ retentionMs: 3_600_000, maxSamples: 10_000 });
  let idx = new SeriesIndex([]);
  for (let k = 0; k < 3; k++) {
    const samples = [{ name: 'a', labels: { i: '1' }, value: k }, ...(k > 0 ? [{ name: 'a', labels: { i: '2' }, value: 10 * k }] : [])];
    idx = new SeriesIndex(samples).recordIn(h, T0 + k * MIN);
  }
  return idx;
}

describe('the query API over the history', () => {
  it("parses times and durations as Prometheus's parseTime and parseDuration", () => {
    expect(parseQueryTime('1796558400.123', 'time')).toBe(1796558400123);
    expect(parseQueryTime('2026-12-06T00:00:00.5Z', 'time')).toBe(T0 + 500);
    expect(() => parseQueryTime('', 'start')).toThrow('invalid parameter "start": cannot parse "" to a valid timestamp');
    expect(parseQueryDuration('15', 'step')).toBe(15_000);
    expect(parseQueryDuration('0.5', 'step')).toBe(500);
    expect(parseQueryDuration('1h30m', 'step')).toBe(5_400_000);
    expect(parseQueryDuration('250ms', 'step')).toBe(250);
    expect(() => parseQueryDuration('1x', 'step')).toThrow('invalid parameter "step": cannot parse "1x" to a valid duration');
  });

  it("an answer over the points limit is refused, as Prometheus's --query.max-samples", () => {
    const idx = index();
    // a{i="1"} at three steps, a{i="2"} at two: five points
    const ok = rangeQuery(idx, 'a', T0, T0 + 2 * MIN, MIN, MIN, { maxPoints: 5 });
    expect(ok.resultType === 'matrix' && ok.result.map((r) => r.values.length)).toEqual([3, 2]);
    const refused = (() => {
      try {
        rangeQuery(idx, 'a', T0, T0 + 2 * MIN, MIN, MIN, { maxPoints: 4 });
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(QueryApiError);
    expect(refused).toMatchObject({ errorType: 'execution', statusCode: 422, message: 'query processing would load too many samples into memory in query execution' });
  });

  it('a query past its timeout stops (503 timeout), in a range query and inside a subquery', () => {
    // a deadline already past: no dependence on the machine's speed
    const idx = index();
    for (const run of [() => rangeQuery(idx, 'a', T0, T0 + 2 * MIN, 15_000, MIN, { timeoutMs: -1 }), () => instantQuery(idx, 'max_over_time(a[1h:1ms])', T0 + 2 * MIN, MIN, -1)]) {
      expect(run).toThrow(QueryApiError);
      try {
        run();
      } catch (e) {
        expect(e).toMatchObject({ errorType: 'timeout', statusCode: 503, message: 'query timed out in expression evaluation' });
      }
    }
  });
});
