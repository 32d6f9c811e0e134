/**
 * Strict RFC 3339 date-times (`2026-01-31T12:00:00Z`, `2026-01-31 12:00:00.250+02:00`).
 * Date.parse rolls impossible dates over (`2026-02-30` → 2 March) and its accepted forms vary;
 * here every field is checked against the calendar, so an impossible date or time is an error
 * that says which part is wrong.
 */

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The example the error messages show. */
export const RFC3339_EXAMPLE = '2026-01-31T12:00:00Z';

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** Epoch milliseconds of an RFC 3339 date-time, or why it is not one. Fractions finer than 1 ms are truncated. */
export function parseRfc3339(s: string): { ms: number } | { error: string } {
  const m = RFC3339_RE.exec(s);
  if (m === null) return { error: `must be an RFC 3339 time (${RFC3339_EXAMPLE})` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return { error: `has no month ${m[2]}` };
  if (day < 1 || day > daysIn(year, month)) return { error: `has no day ${m[3]} in ${m[1]}-${m[2]}` };
  if (hour > 23) return { error: `has no hour ${m[4]}` };
  if (minute > 59) return { error: `has no minute ${m[5]}` };
  if (second > 59) return { error: `has no second ${m[6]} (leap seconds are not supported)` };
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return { error: `has no UTC offset ${m[9]}${m[10]}:${m[11]}` };
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = m[7] === undefined ? 0 : Number(`${m[7].slice(1)}00`.slice(0, 3));
  // setUTCFullYear: Date.UTC would map years 0-99 to 1900-1999
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return { ms: d.getTime() - offset };
}
