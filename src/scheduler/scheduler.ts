import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { VigilMetrics } from '../metrics/registry.js';

export type Schedule = { everyMs: number } | { cron: string };

export interface Job {
  name: string;
  schedule: Schedule;
  run: () => Promise<void>;
}

interface Entry {
  job: Job;
  running: Promise<void> | null;
  cancel: (() => void) | null;
}

/**
 * Runs jobs on intervals (`everyMs`) or cron expressions (node-cron). Two runs of the same job
 * never overlap: a tick that finds the previous run still going is skipped, logged and counted
 * (`vigil_job_overruns_total`). A job that throws is logged and counted; it never stops the
 * scheduler or the process.
 */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private started = false;
  private readonly log: Logger;

  constructor(private readonly deps: { logger: Logger; metrics: VigilMetrics; clock: Clock }) {
    this.log = deps.logger.child({ component: 'scheduler' });
  }

  add(job: Job): void {
    if (this.entries.has(job.name)) throw new Error(`job ${job.name} is already scheduled`);
    const entry: Entry = { job, running: null, cancel: null };
    this.entries.set(job.name, entry);
    if (this.started) this.arm(entry);
  }

  /** Unschedules a job (a run in progress finishes). */
  remove(name: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    entry.cancel?.();
    entry.cancel = null;
    this.entries.delete(name);
  }

  /** Changes a job's schedule (after a reload); a run in progress finishes undisturbed. */
  reschedule(name: string, schedule: Schedule): void {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new Error(`no job ${name}`);
    const same = JSON.stringify(entry.job.schedule) === JSON.stringify(schedule);
    if (same) return;
    entry.cancel?.();
    entry.job = { ...entry.job, schedule };
    if (this.started) this.arm(entry);
    this.log.info({ job: name, schedule }, 'job rescheduled');
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const e of this.entries.values()) this.arm(e);
  }

  /** Runs a job now (unless it is running), as a tick would. Resolves when that run ends. */
  async trigger(name: string): Promise<'ran' | 'overrun'> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new Error(`no job ${name}`);
    return this.tick(entry);
  }

  private arm(entry: Entry): void {
    const s = entry.job.schedule;
    if ('everyMs' in s) {
      const timer = setInterval(() => void this.tick(entry), s.everyMs);
      timer.unref();
      entry.cancel = () => clearInterval(timer);
    } else {
      const task: ScheduledTask = cron.createTask(s.cron, () => void this.tick(entry), { name: entry.job.name, noOverlap: false });
      void task.start();
      entry.cancel = () => void task.destroy();
    }
  }

  private async tick(entry: Entry): Promise<'ran' | 'overrun'> {
    const name = entry.job.name;
    if (entry.running !== null) {
      this.deps.metrics.jobOverruns.inc({ job: name });
      this.log.warn({ job: name }, 'job overrun: previous run still in progress, tick skipped');
      return 'overrun';
    }
    const started = this.deps.clock.now();
    const run = (async () => {
      try {
        await entry.job.run();
        this.deps.metrics.jobRuns.inc({ job: name, outcome: 'success' });
        this.deps.metrics.jobLastSuccess.set({ job: name }, this.deps.clock.now() / 1000);
      } catch (e) {
        this.deps.metrics.jobRuns.inc({ job: name, outcome: 'error' });
        this.log.error({ job: name, err: errorMessage(e), ms: this.deps.clock.now() - started }, 'job failed');
      }
    })();
    entry.running = run;
    try {
      await run;
    } finally {
      entry.running = null;
    }
    return 'ran';
  }

  /** Stops every timer and waits for the runs in progress. */
  async stop(): Promise<void> {
    this.started = false;
    for (const e of this.entries.values()) {
      e.cancel?.();
      e.cancel = null;
    }
    await Promise.all([...this.entries.values()].map((e) => e.running ?? Promise.resolve()));
  }
}
