import type { Logger } from './logger';

/**
 * The gauge every service exports beside /ready, so an alert can read what /ready shows: one
 * series a check, 1 while it answers 'ok', 0 otherwise. Declared once here so that the three
 * services export the same name and label; each makes it in its own prom-client registry (this
 * package does not depend on prom-client).
 */
export const dependencyGauge = {
  name: 'masterpost_dependency_up',
  help: "1 while this service's /ready check of the dependency answers ok, 0 while it does not (postgres, redis, billing, storage, worker, ai_provider)",
  labelNames: ['dependency'] as const,
};

/** What of a prom-client Gauge the checks need. */
export interface DependencyGauge {
  set(labels: { dependency: string }, value: number): void;
  reset(): void;
}

type Checks = () => Promise<Record<string, string>>;

/**
 * How often the checks run on their own. Short enough that a 20 s outage shows on most scrapes;
 * long enough that a storage probe (a write) every 5 s per pod costs nothing worth counting.
 */
export const DEPENDENCY_CHECK_EVERY_MS = 5_000;

/**
 * Keeps the dependency gauge fed by /ready's own checks: every /ready answer sets it, and a timer
 * runs the checks every few seconds meanwhile, so the gauge is fresh even when nothing probes /ready.
 *
 * Why a timer rather than checking when /metrics is scraped: a probe of a dependency that does not
 * answer takes its whole bound (1 to 2 s), and a scrape that waits for it would time out, so a
 * frozen billing would turn the gateway's own `up` to 0 as well and page for the wrong service.
 * The scrape reads the last result instead, at most `everyMs` plus one probe bound old. It also
 * keeps the cost (a storage write per run) one per pod however many Prometheus servers scrape.
 */
export class DependencyHealth {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly gauge: DependencyGauge,
    private readonly options: { logger: Logger; everyMs?: number },
  ) {}

  /**
   * The checks for /ready, each run of them also setting the gauge, and the timer started.
   * `leaveOut` names checks that report a figure rather than a state (the processor's `ai_rate`).
   */
  watch(checks: Checks, leaveOut: readonly string[] = []): Checks {
    const skipped = new Set(leaveOut);
    const recorded: Checks = async () => {
      const states = await checks();
      // Reset and set in one tick: no scrape sees the gauge empty, and a check that is gone
      // (the processor's ai_provider once a pause ends) leaves no stale 0 behind.
      this.gauge.reset();
      for (const [dependency, state] of Object.entries(states)) {
        if (!skipped.has(dependency)) this.gauge.set({ dependency }, state === 'ok' ? 1 : 0);
      }
      return states;
    };
    this.stop();
    const tick = () => {
      // A run still waiting on its probes' bounds is not doubled.
      if (this.running) return;
      this.running = true;
      recorded()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'dependency checks failed'))
        .finally(() => {
          this.running = false;
        });
    };
    this.timer = setInterval(tick, this.options.everyMs ?? DEPENDENCY_CHECK_EVERY_MS);
    this.timer.unref();
    tick();
    return recorded;
  }

  /** At shutdown: no more probes of connections being closed. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
