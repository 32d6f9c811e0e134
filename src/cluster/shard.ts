/**
 * Sharding by model (issue 14, `cluster.shard: {count, index}`): N groups of replicas split the
 * models between them, each group monitoring the models whose shard is its index. The shard of a
 * model is Prometheus's `hashmod` relabel action over the model's name, so an operator reproduces
 * the split with a relabel rule (docs/operations.md, "Sharding"), and Prometheus or Thanos, which
 * scrape every group, see the union: each model's series come from exactly one group.
 *
 * Prometheus, model/relabel/relabel.go (prometheus/prometheus at d15adb9ad7, lines 339–343):
 *
 *   case HashMod:
 *       hash := md5.Sum([]byte(val))
 *       // Use only the last 8 bytes of the hash to give the same result as earlier versions of this code.
 *       mod := binary.BigEndian.Uint64(hash[8:]) % cfg.Modulus
 *       lb.Set(cfg.TargetLabel, strconv.FormatUint(mod, 10))
 *
 * `val` is the source labels' values joined by the separator: with the one source label `model`,
 * the model's name itself.
 */
import { createHash } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { VigilError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SourceConfig } from '../ingest/sources/config.js';
import type { Store } from '../store/store.js';

/** `cluster.shard`: this process is shard `index` of `count` (0 ≤ index < count). */
export interface ShardConfig {
  readonly count: number;
  readonly index: number;
}

/** The shard of a model name among `count`: Prometheus's `hashmod` with `modulus: count` (see above). */
export function shardOf(name: string, count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, got ${count}`);
  const sum = createHash('md5').update(name, 'utf8').digest();
  return Number(sum.readBigUInt64BE(8) % BigInt(count));
}

/** A list of model names split into this shard's (`mine`) and the other shards' (`others`), each in list order. */
export function splitByShard(names: readonly string[], shard: ShardConfig): { mine: string[]; others: string[] } {
  const mine: string[] = [];
  const others: string[] = [];
  for (const n of names) (shardOf(n, shard.count) === shard.index ? mine : others).push(n);
  return { mine, others };
}

/** `shard 1 of 3`: how messages and logs name a shard. */
export const describeShard = (s: ShardConfig): string => `shard ${s.index} of ${s.count}`;

/**
 * This shard's part of a configuration: its models, the SLOs on them, and the sources that ingest
 * for them (`file`, `http_json` with a `model`); an `mlflow` source's `models` list keeps the
 * registered models whose Vigil name (after `model_map`) is this shard's, and the source goes when
 * none is. Sources tied to no model (samples from `http_json`, `prometheus`, `feast`, an `mlflow`
 * search) run in every shard. `elsewhere`: the configured models of the other shards, with theirs.
 */
export function shardPart(config: VigilConfig, shard: ShardConfig): { config: VigilConfig; elsewhere: ReadonlyMap<string, number> } {
  if (shard.count === 1) return { config, elsewhere: new Map() };
  const elsewhere = new Map<string, number>();
  for (const m of config.models) {
    const s = shardOf(m.name, shard.count);
    if (s !== shard.index) elsewhere.set(m.name, s);
  }
  const mine = (name: string): boolean => shardOf(name, shard.count) === shard.index;
  const sources: SourceConfig[] = [];
  for (const s of config.sources) {
    if ((s.type === 'file' || s.type === 'http_json') && s.model !== undefined) {
      if (mine(s.model)) sources.push(s);
    } else if (s.type === 'mlflow' && s.models.length > 0) {
      const models = s.models.filter((n) => mine(s.model_map[n] ?? n));
      if (models.length === s.models.length) sources.push(s);
      else if (models.length > 0) sources.push({ ...s, models });
    } else sources.push(s);
  }
  const part: VigilConfig = {
    ...config,
    models: config.models.filter((m) => !elsewhere.has(m.name)),
    slos: config.slos.filter((s) => mine(s.model)),
    sources,
  };
  return { config: Object.freeze(part), elsewhere };
}

/** The state key a shard group's store is marked with (the first start of a sharded process writes it). */
export const SHARD_STATE_KEY = 'cluster.shard';

/**
 * The models of this process's shard. The split is the one of the start-up configuration
 * (`cluster.shard` is a restart-only key): a reload that changes it still filters by the start-up
 * shard, and the daemon says a restart is required.
 */
export class ModelShard {
  readonly shard: ShardConfig;
  /** The other shards' models of each configuration this shard filtered (the daemon's current one is looked up). */
  private readonly elsewhere = new WeakMap<VigilConfig, ReadonlyMap<string, number>>();

  constructor(shard: ShardConfig) {
    this.shard = { count: shard.count, index: shard.index };
  }

  get sharded(): boolean {
    return this.shard.count > 1;
  }

  /** The loaded configuration as this shard monitors it (unchanged without sharding). */
  apply(loaded: LoadedConfig): LoadedConfig {
    if (!this.sharded) return loaded;
    const { config, elsewhere } = shardPart(loaded.config, this.shard);
    this.elsewhere.set(config, elsewhere);
    return { ...loaded, config };
  }

  /**
   * The answer to a request about a model this process does not monitor because the
   * configuration (one `apply` returned) puts it in another shard: 421 Misdirected Request, naming
   * the model, its shard and this one. Undefined for a model configured nowhere.
   */
  misdirected(config: VigilConfig, model: string): VigilError | undefined {
    const other = this.elsewhere.get(config)?.get(model);
    if (other === undefined) return undefined;
    const { count, index } = this.shard;
    return new VigilError(
      'VIGIL_ERR_MODEL_OTHER_SHARD',
      `model "${model}" is monitored by shard ${other} of ${count}, not by this process (shard ${index} of ${count}): send it to shard ${other}'s replicas`,
      { statusCode: 421, details: { model, shard: other, this_shard: index, shard_count: count } },
    );
  }

  /**
   * Start-up, sharded: the store must be this shard group's. A store marked by another shard of
   * the same count is refused (two shard groups on one store would share its leader lease,
   * persisted alert state and rule history); one marked with another count (resharding) or not at
   * all is taken, with a warning for the former. Then logs which models this shard monitors.
   */
  async claimStore(store: Store, config: VigilConfig, now: number, logger: Logger): Promise<void> {
    if (!this.sharded) return;
    const log = logger.child({ component: 'shard' });
    const { count, index } = this.shard;
    const raw = await store.getState(SHARD_STATE_KEY);
    const before = raw === undefined ? undefined : parseMark(raw);
    if (before !== undefined && before.count === count && before.index !== index) {
      throw new VigilError(
        'VIGIL_ERR_CLUSTER_SHARD_STORE',
        `this store belongs to ${describeShard(before)}, and this process is ${describeShard(this.shard)}: each shard group needs a store of its own (storage.schema on PostgreSQL, storage.path on SQLite)`,
        { details: { store_shard: before, shard: this.shard } },
      );
    }
    if (before !== undefined && before.count !== count) {
      log.warn({ was: describeShard(before), now: describeShard(this.shard) }, 'resharded: this store held another split of the models; a model that moved has its history in the store of its former shard');
    }
    if (raw === undefined || before === undefined || before.count !== count) await store.setState(SHARD_STATE_KEY, JSON.stringify({ count, index }), now);
    const names = config.models.map((m) => m.name);
    log.info({ shard: index, shard_count: count, models: names, other_shards: this.elsewhere.get(config)?.size ?? 0 }, 'this shard monitors these models');
  }
}

function parseMark(raw: string): ShardConfig | undefined {
  try {
    const v = JSON.parse(raw) as { count?: unknown; index?: unknown };
    if (Number.isSafeInteger(v.count) && Number.isSafeInteger(v.index)) return { count: v.count as number, index: v.index as number };
  } catch {
    /* not a mark this version wrote: taken over */
  }
  return undefined;
}
