/**
 * The packed layouts a PostgreSQL store's rows were written with, so a row needs no features JSON
 * when its packed form holds the features exactly (packsExactly): the JSON text was most of a
 * row's bytes, and writing it to prediction_features (a second table, its index and foreign key)
 * and reading it back for every replica's follower cost more than everything else a batch does.
 *
 * A writer registers its layout once (pack_layouts: key → definition) before the first row packed
 * with it, so every reader that meets such a row finds the layout committed. The key is 32 bits of
 * FNV-1a: two definitions could share one. The first registered keeps the key; a writer whose own
 * definition differs from the one stored keeps writing the JSON of every row (nothing is lost, it
 * is only slower). A reader loads the table when it meets a key it does not know (another replica,
 * another configuration) and makes each row's features from the layout, equal to the JSON's parse.
 */
import { VigilError } from '../../core/errors.js';
import { layoutDefinition, packedFeatures, packedKey, packLayout, type LayoutDefinition, type PackLayout } from '../packed.js';
import type { PredictionRecord } from '../store.js';

type Query = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<{ rows: R[] }>;

/** A row's features as read: the JSON when stored, else the packed bytes (hex) when its JSON was left out. */
export interface FeaturesColumns {
  features: string | null;
  features_packed: string | null;
}

export class PackedLayouts {
  /** Layouts read from the table, by key. */
  private readonly known = new Map<number, PackLayout>();
  /** The first 8 bytes (format and key) of the known layouts' rows, as the hex text a row is read as. */
  private readonly heads = new Set<string>();
  /** A row's bytes are decoded into this buffer (their values copied out): no buffer per row. */
  private scratch = Buffer.alloc(4096);
  /** Per layout key this process writes with: whether its rows may leave their JSON out. */
  private readonly writable = new Map<number, Promise<boolean>>();

  constructor(
    private readonly s: string,
    private readonly write: Query,
    private readonly read: Query,
  ) {}

  /**
   * Whether rows packed with `layout` may leave out their JSON: registers it on first use (once per
   * process, unless that fails) and answers whether the definition stored under its key is its own.
   */
  exact(layout: PackLayout): Promise<boolean> {
    let p = this.writable.get(layout.key);
    if (p === undefined) {
      p = this.register(layout);
      this.writable.set(layout.key, p);
      p.catch(() => this.writable.delete(layout.key)); // tried again by the next batch
    }
    return p;
  }

  private async register(layout: PackLayout): Promise<boolean> {
    const definition = JSON.stringify(layoutDefinition(layout));
    await this.write(`INSERT INTO ${this.s}.pack_layouts (key, definition) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [layout.key, definition]);
    const stored = (await this.read<{ definition: string }>(`SELECT definition FROM ${this.s}.pack_layouts WHERE key = $1`, [layout.key])).rows[0];
    if (stored?.definition !== definition) return false;
    this.know(layout);
    return true;
  }

  /** Makes sure the layouts of these rows' packed features are known (loads the table when one is not). */
  async prepare(rows: readonly FeaturesColumns[]): Promise<void> {
    let head = '\u0000'; // the last head found known: most rows of a page share it
    for (const r of rows) {
      const hex = r.features_packed;
      if (r.features !== null || hex === null || hex.startsWith(head)) continue;
      const h = hex.slice(0, 16);
      if (this.heads.has(h)) {
        head = h;
        continue;
      }
      await this.load();
      return;
    }
  }

  private async load(): Promise<void> {
    const rows = (await this.read<{ key: number; definition: string }>(`SELECT key, definition FROM ${this.s}.pack_layouts`)).rows;
    for (const r of rows) {
      const d = JSON.parse(r.definition) as LayoutDefinition;
      const layout = packLayout(d.features, { classScores: d.classScores });
      if (layout.key === Number(r.key)) this.know(layout);
    }
  }

  private know(layout: PackLayout): void {
    this.known.set(layout.key, layout);
    this.heads.add(Buffer.from(layout.head).toString('hex'));
  }

  /** A row's features (after prepare): its JSON parsed, or made from its packed form. */
  features(r: FeaturesColumns): PredictionRecord['features'] {
    if (r.features !== null) return JSON.parse(r.features) as PredictionRecord['features'];
    if (r.features_packed === null) return {};
    const hex = r.features_packed;
    if (this.scratch.length < hex.length / 2) this.scratch = Buffer.alloc(Math.max(hex.length / 2, 2 * this.scratch.length));
    const bytes = this.scratch.subarray(0, this.scratch.write(hex, 0, 'hex'));
    const key = packedKey(bytes);
    const layout = key === undefined ? undefined : this.known.get(key);
    if (layout === undefined) throw new VigilError('VIGIL_ERR_STORE_OPEN', `a stored prediction's packed layout ${String(key)} is not in pack_layouts: the table was changed by hand`);
    return packedFeatures(layout, bytes);
  }
}
