import { createHash } from 'node:crypto';

/**
 * Prometheus' label-set fingerprint (`model.LabelSet.Fingerprint`): FNV-1a 64 over the label names
 * and values sorted by name, each followed by the 0xff separator byte; printed as 16 hex digits —
 * the `fingerprint` Alertmanager puts in its webhook payload and API.
 */

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  let h = OFFSET;
  const eat = (bytes: Uint8Array): void => {
    for (const b of bytes) {
      h ^= BigInt(b);
      h = (h * PRIME) & MASK;
    }
  };
  const enc = new TextEncoder();
  const sep = new Uint8Array([0xff]);
  for (const n of names) {
    eat(enc.encode(n));
    eat(sep);
    eat(enc.encode(labels[n] ?? ''));
    eat(sep);
  }
  return h.toString(16).padStart(16, '0');
}

/** Alertmanager's `GroupKey.Hash()`: hex SHA-256 of the group key (PagerDuty dedup keys). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
