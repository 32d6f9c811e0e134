import { VigilError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Parses a Prometheus duration (`30s`, `5m`, `1h30m`, `7d`, `2w`, `250ms`) into milliseconds.
 * Units must appear from largest to smallest, each at most once, as in Prometheus.
 */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text);
  if (text === '' || m === null || m.slice(1).every((g) => g === undefined)) {
    throw new VigilError('VIGIL_ERR_DURATION_INVALID', `not a valid duration: "${text}" (use e.g. 30s, 5m, 1h30m, 7d)`, {
      statusCode: 400,
    });
  }
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;
  let ms = 0;
  units.forEach((u, i) => {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * (UNIT_MS[u] ?? 0);
  });
  if (!Number.isSafeInteger(ms)) {
    throw new VigilError('VIGIL_ERR_DURATION_INVALID', `duration out of range: "${text}"`, { statusCode: 400 });
  }
  return ms;
}

/** Formats milliseconds as a Prometheus duration (`1h30m`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const u of ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[u] ?? 1;
    if (rest >= size) {
      const n = Math.floor(rest / size);
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}
