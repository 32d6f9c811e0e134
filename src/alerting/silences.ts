import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { VigilError } from '../core/errors.js';
import { parseRfc3339 } from '../core/rfc3339.js';
import type { SilenceRecord, Store } from '../store/store.js';
import { LabelMatcher, matchesAll, parseMatcherList } from './notifiers/matchers.js';

export type SilenceState = 'pending' | 'active' | 'expired';

export interface SilenceInput {
  /** Alertmanager matchers as text (`model="fraud"`, `severity=~"warn|crit"`) or API objects. */
  matchers: (string | { name: string; value: string; isRegex?: boolean; isEqual?: boolean })[];
  startsAt?: string | number;
  endsAt: string | number;
  createdBy: string;
  comment: string;
}

/** A scheduled maintenance window from the configuration (e.g. during a model's deploys). */
export interface MaintenanceWindow {
  name: string;
  matchers: string[];
  starts_at: number;
  ends_at: number;
}

interface Live {
  record: SilenceRecord;
  matchers: LabelMatcher[];
}

/** A time of the API: epoch ms, or an RFC 3339 string checked against the calendar (2026-02-30 is refused, not rolled over). */
const toMs = (v: unknown, field: string): number => {
  const invalid = (why: string): VigilError => new VigilError('VIGIL_ERR_SILENCE_INVALID', `${field}: ${why}`, { statusCode: 400, details: { field } });
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid('not a valid time (RFC 3339 or epoch ms)');
    return v;
  }
  if (typeof v !== 'string') throw invalid('not a valid time (RFC 3339 or epoch ms)');
  const parsed = parseRfc3339(v);
  if ('error' in parsed) throw invalid(parsed.error.startsWith('must') ? 'not a valid time (RFC 3339 or epoch ms)' : `"${v}" ${parsed.error}`);
  return parsed.ms;
};

const matcherText = (m: SilenceInput['matchers'][number]): string => {
  if (typeof m === 'string') return m;
  const op = `${m.isEqual === false ? '!' : '='}${m.isRegex ? '~' : ''}`;
  return `${m.name}${op === '=' ? '=' : op}${JSON.stringify(m.value)}`;
};

/**
 * Silences and maintenance windows: Alertmanager-style matchers over a time range. They suppress
 * notifications and remediation, never evaluation. Silences are stored (they survive restarts)
 * and expire rather than disappear, as in Alertmanager.
 */
export class Silences {
  private live: Live[] = [];

  constructor(
    private readonly deps: { store: Store; clock: Clock; windows: () => readonly MaintenanceWindow[] },
  ) {}

  async load(): Promise<void> {
    this.live = (await this.deps.store.listSilences()).map((record) => ({ record, matchers: parseMatcherList(record.matchers) }));
  }

  async create(input: SilenceInput): Promise<SilenceRecord> {
    const now = this.deps.clock.now();
    if (!Array.isArray(input.matchers) || input.matchers.length === 0) {
      throw new VigilError('VIGIL_ERR_SILENCE_INVALID', 'matchers: at least one matcher is required', { statusCode: 400 });
    }
    let matchers: LabelMatcher[];
    const badIndex = input.matchers.findIndex(
      (m: unknown) => typeof m !== 'string' && (m === null || typeof m !== 'object' || typeof (m as { name?: unknown }).name !== 'string' || typeof (m as { value?: unknown }).value !== 'string'),
    );
    if (badIndex >= 0) {
      throw new VigilError('VIGIL_ERR_SILENCE_INVALID', `matchers[${badIndex}]: must be a matcher string or {name, value, isRegex?, isEqual?}`, { statusCode: 400 });
    }
    const texts = input.matchers.map(matcherText);
    try {
      matchers = parseMatcherList(texts);
    } catch (e) {
      throw new VigilError('VIGIL_ERR_SILENCE_INVALID', `matchers: ${(e as Error).message}`, { statusCode: 400 });
    }
    if (matchers.every((m) => m.matches({}))) {
      throw new VigilError('VIGIL_ERR_SILENCE_INVALID', 'matchers: at least one matcher must not match the empty string (it would silence everything)', { statusCode: 400 });
    }
    const startsAt = input.startsAt === undefined ? now : toMs(input.startsAt, 'startsAt');
    const endsAt = toMs(input.endsAt, 'endsAt');
    if (endsAt <= startsAt) throw new VigilError('VIGIL_ERR_SILENCE_INVALID', 'endsAt must be after startsAt', { statusCode: 400 });
    if (endsAt <= now) throw new VigilError('VIGIL_ERR_SILENCE_INVALID', 'endsAt is in the past', { statusCode: 400 });
    if (typeof input.createdBy !== 'string' || input.createdBy === '') throw new VigilError('VIGIL_ERR_SILENCE_INVALID', 'createdBy is required', { statusCode: 400 });
    if (typeof input.comment !== 'string' || input.comment === '') throw new VigilError('VIGIL_ERR_SILENCE_INVALID', 'comment is required', { statusCode: 400 });
    const record: SilenceRecord = { id: randomUUID(), matchers: matchers.map((m) => m.toString()), startsAt, endsAt, createdBy: input.createdBy, comment: input.comment, createdAt: now };
    await this.deps.store.saveSilence(record);
    this.live.push({ record, matchers });
    return record;
  }

  async expire(id: string): Promise<void> {
    const now = this.deps.clock.now();
    const s = this.live.find((l) => l.record.id === id);
    if (s === undefined || !(await this.deps.store.expireSilence(id, now))) {
      throw new VigilError('VIGIL_ERR_SILENCE_UNKNOWN', `no silence "${id}"`, { statusCode: 404 });
    }
    if (s.record.endsAt <= now) throw new VigilError('VIGIL_ERR_SILENCE_EXPIRED', `silence "${id}" already expired`, { statusCode: 400 });
    s.record = { ...s.record, endsAt: now, startsAt: Math.min(s.record.startsAt, now) };
  }

  static state(r: { startsAt: number; endsAt: number }, now: number): SilenceState {
    return now < r.startsAt ? 'pending' : now < r.endsAt ? 'active' : 'expired';
  }

  list(): { record: SilenceRecord; state: SilenceState }[] {
    const now = this.deps.clock.now();
    return this.live.map((l) => ({ record: l.record, state: Silences.state(l.record, now) }));
  }

  /** Ids of the active silences (and `maintenance:<name>` windows) matching these labels. */
  silencedBy(labels: Readonly<Record<string, string>>, now: number): string[] {
    const out: string[] = [];
    for (const l of this.live) if (Silences.state(l.record, now) === 'active' && matchesAll(l.matchers, labels)) out.push(l.record.id);
    for (const w of this.deps.windows()) {
      if (now >= w.starts_at && now < w.ends_at && matchesAll(parseMatcherList(w.matchers), labels)) out.push(`maintenance:${w.name}`);
    }
    return out;
  }
}
