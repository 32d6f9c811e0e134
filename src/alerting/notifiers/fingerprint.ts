import { createHash } from 'node:crypto';

/**
 * Prometheus' label-set fingerprint (`model.LabelSet.Fingerprint`): FNV-1a 64 over the label names
 * and values sorted by name, each followed by the 0xff separator byte; printed as 16 hex digits —
 * the `fingerprint` Alertmanager puts in its webhook payload and API. Computed in four 16-bit
 * words (little-endian) instead of BigInt per byte: the prime is 2^40 + 0x1b3, i.e. words
 * (0x1b3, 0, 0x100, 0). That is much faster, which matters when an evaluation hands thousands of
 * alerts to the Alertmanager outbox.
 */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  const eat = (b: number): void => {
    h0 ^= b;
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + h0 * 0x100 + (t1 >>> 16);
    h3 = (h3 * 0x1b3 + h1 * 0x100 + (t2 >>> 16)) & 0xffff;
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
  };
  const eatString = (s: string): void => {
    for (const b of Buffer.from(s, 'utf8')) eat(b);
    eat(0xff);
  };
  for (const n of names) {
    eatString(n);
    eatString(labels[n] ?? '');
  }
  const hex = (w: number) => w.toString(16).padStart(4, '0');
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}

/** Alertmanager's `GroupKey.Hash()`: hex SHA-256 of the group key (PagerDuty dedup keys). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
