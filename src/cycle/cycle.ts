import type { Tracing } from '../core/tracing.js';
import type { VigilConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { VigilMetrics } from '../metrics/registry.js';

/** What every stage of one evaluation cycle sees: one `now`, one configuration. */
export interface CycleContext {
  readonly now: number;
  readonly config: VigilConfig;
}

/** One stage of the evaluation cycle (collect → compute → publish → evaluate → dispatch → persist). */
export interface CycleStage {
  readonly name: string;
  run(ctx: CycleContext): Promise<void>;
}

export interface StageHealth {
  name: string;
  lastRunAt: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
}

/**
 * The evaluation cycle. Stages run in order; each is a fault boundary: a stage that throws is
 * logged, counted (`vigil_cycle_stage_errors_total`) and recorded in its health, and the next
 * stage still runs. Nothing a cycle does can crash the process.
 */
export class Cycle {
  private readonly health = new Map<string, StageHealth>();
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      stages: readonly CycleStage[];
      logger: Logger;
      metrics: VigilMetrics;
      clock: Clock;
      config: () => VigilConfig;
      /** A span per cycle, with a child per stage; none when absent. */
      tracing?: Tracing;
    },
  ) {
    this.log = deps.logger.child({ component: 'cycle' });
    for (const s of deps.stages) this.health.set(s.name, { name: s.name, lastRunAt: null, lastError: null, lastDurationMs: null });
  }

  async run(): Promise<{ now: number; failed: string[] }> {
    const tracing = this.deps.tracing;
    if (tracing === undefined || !tracing.enabled) return this.stagesOnce(undefined);
    return tracing.span('cycle', {}, async (span, parent) => {
      const r = await this.stagesOnce((name, fn) => tracing.span(`cycle ${name}`, { parent }, fn));
      span.setAttribute('vigil.failed_stages', r.failed.length);
      return r;
    });
  }

  private async stagesOnce(traced: ((stage: string, fn: () => Promise<void>) => Promise<void>) | undefined): Promise<{ now: number; failed: string[] }> {
    const now = this.deps.clock.now();
    const ctx: CycleContext = { now, config: this.deps.config() };
    const failed: string[] = [];
    const end = this.deps.metrics.cycleDuration.startTimer();
    for (const stage of this.deps.stages) {
      const h = this.health.get(stage.name) as StageHealth;
      const t0 = performance.now();
      try {
        if (traced === undefined) await stage.run(ctx);
        else await traced(stage.name, () => stage.run(ctx));
        h.lastError = null;
      } catch (e) {
        failed.push(stage.name);
        h.lastError = errorMessage(e);
        this.deps.metrics.cycleStageErrors.inc({ stage: stage.name });
        this.log.error({ stage: stage.name, err: h.lastError }, 'cycle stage failed');
      }
      h.lastRunAt = now;
      h.lastDurationMs = performance.now() - t0;
    }
    end();
    return { now, failed };
  }

  stages(): StageHealth[] {
    return [...this.health.values()].map((h) => ({ ...h }));
  }
}
