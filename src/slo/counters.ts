/**
 * Good and total events of one SLO, per minute, bounded: the last 3 days and an hour per minute
 * (every burn-rate window, 5m … 3d, is exact to the minute) and the period per hour (28 or 30 days:
 * its start is counted to the hour). About 130 KB an SLO whatever the traffic.
 */
export const MINUTE_MS = 60_000;
const FINE_MINUTES = 3 * 24 * 60 + 60;

export interface Counts {
  good: number;
  total: number;
}

class Ring {
  readonly id: Float64Array;
  readonly good: Float64Array;
  readonly total: Float64Array;
  constructor(readonly size: number) {
    this.id = new Float64Array(size).fill(-Infinity);
    this.good = new Float64Array(size);
    this.total = new Float64Array(size);
  }

  add(key: number, good: number, total: number): void {
    const slot = ((key % this.size) + this.size) % this.size;
    const at = this.id[slot] as number;
    if (at > key) return; // older than what the ring holds
    if (at < key) {
      this.id[slot] = key;
      this.good[slot] = 0;
      this.total[slot] = 0;
    }
    this.good[slot] = (this.good[slot] as number) + good;
    this.total[slot] = (this.total[slot] as number) + total;
  }

  /** Sums of the keys in [from, to]. */
  sum(from: number, to: number): Counts {
    let good = 0;
    let total = 0;
    if (to - from + 1 >= this.size) {
      for (let s = 0; s < this.size; s++) {
        const k = this.id[s] as number;
        if (k >= from && k <= to) {
          good += this.good[s] as number;
          total += this.total[s] as number;
        }
      }
      return { good, total };
    }
    for (let k = from; k <= to; k++) {
      const s = ((k % this.size) + this.size) % this.size;
      if (this.id[s] !== k) continue;
      good += this.good[s] as number;
      total += this.total[s] as number;
    }
    return { good, total };
  }
}

export class SliCounters {
  private readonly minutes = new Ring(FINE_MINUTES);
  private readonly hours: Ring;

  constructor(readonly periodDays: number) {
    this.hours = new Ring(periodDays * 24 + 2);
  }

  /** Counts events of minute `minute` (minutes since the epoch). */
  add(minute: number, good: number, total: number): void {
    this.minutes.add(minute, good, total);
    this.hours.add(Math.floor(minute / 60), good, total);
  }

  /** Counts events of a whole hour (hours since the epoch) older than the minute counts reach: the period only. */
  addHour(hour: number, good: number, total: number): void {
    this.hours.add(hour, good, total);
  }

  /** How many minutes back the minute counts reach. */
  static readonly MINUTES = FINE_MINUTES;

  /** Events of the `minutes` minutes ending with minute `to` (included). At most 3 days. */
  window(to: number, minutes: number): Counts {
    if (minutes > FINE_MINUTES) throw new Error(`a window of ${minutes} minutes is longer than the minute counts`);
    return this.minutes.sum(to - minutes + 1, to);
  }

  /** Events of the period ending with minute `to`: its hours, the first one whole. */
  period(to: number): Counts {
    const h = Math.floor(to / 60);
    return this.hours.sum(h - this.periodDays * 24 + 1, h);
  }
}
