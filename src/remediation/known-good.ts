/**
 * Vigil's own record of the versions it saw serving while the model was healthy: the rollback's
 * first choice of target (MLflow keeps no alias history). Read-only view for the actions; the
 * runner keeps it up to date from the `mlflow` sources and successful rollbacks.
 */
export interface KnownGoodVersions {
  /**
   * Versions of a Vigil model that served healthy, most recently healthy first. Versions are the
   * registry's (MLflow version strings), for the serving alias (mode alias) or the Production
   * stage (mode stage).
   */
  candidates(model: string, slot: string): readonly string[];
}

interface Entry {
  version: string;
  /** Last time it held the slot while the model had no open incident. */
  lastHealthyAt: number;
}

interface HistoryJson {
  /** model → slot → entries (most recently healthy first) */
  good: Record<string, Record<string, Entry[]>>;
  /** model → versions Vigil rolled back (never a target again) */
  bad: Record<string, string[]>;
}

const MAX_ENTRIES = 20;

/**
 * The record behind {@link KnownGoodVersions}: `observe()` is called every cycle with what holds
 * each serving slot (alias or Production stage) of each model and whether the model is healthy
 * (no open incident); a version Vigil rolled back is marked bad and never offered again.
 * Persisted as one JSON value in the store's state table (written only when it changes
 * materially: a new version, or a minute since the last write).
 */
export class KnownGoodHistory implements KnownGoodVersions {
  private data: HistoryJson = { good: {}, bad: {} };
  /** Something changed since the last save … */
  private dirty = false;
  /** … and it was a new fact (a new version, a rollback), saved at once. */
  private urgent = false;
  private savedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly persist: { load(): Promise<string | undefined>; save(json: string, now: number): Promise<void> }) {}

  async load(): Promise<void> {
    const text = await this.persist.load();
    if (text === undefined) return;
    try {
      const j = JSON.parse(text) as Partial<HistoryJson>;
      this.data = { good: j.good ?? {}, bad: j.bad ?? {} };
    } catch {
      this.data = { good: {}, bad: {} };
    }
  }

  candidates(model: string, slot: string): readonly string[] {
    const bad = new Set(this.data.bad[model] ?? []);
    return (this.data.good[model]?.[slot] ?? []).filter((e) => !bad.has(e.version)).map((e) => e.version);
  }

  /** `version` held `slot` of `model` at `now` while the model was healthy. */
  observe(model: string, slot: string, version: string, now: number): void {
    const slots = (this.data.good[model] ??= {});
    const list = (slots[slot] ??= []);
    const i = list.findIndex((e) => e.version === version);
    if (i === -1) this.urgent = true;
    const entry = i === -1 ? { version, lastHealthyAt: now } : (list.splice(i, 1)[0] as Entry);
    entry.lastHealthyAt = now;
    list.unshift(entry);
    if (list.length > MAX_ENTRIES) list.length = MAX_ENTRIES;
    this.dirty = true;
  }

  /** Vigil rolled `version` back: never a target again. */
  markBad(model: string, version: string): void {
    const list = (this.data.bad[model] ??= []);
    if (!list.includes(version)) list.push(version);
    if (list.length > MAX_ENTRIES) list.shift();
    this.dirty = this.urgent = true;
  }

  async flush(now: number): Promise<void> {
    if (!this.dirty || (!this.urgent && now - this.savedAt < 60_000)) return;
    await this.persist.save(JSON.stringify(this.data), now);
    this.savedAt = now;
    this.dirty = this.urgent = false;
  }
}
