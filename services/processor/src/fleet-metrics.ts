import type { FleetMetricsRepository } from './adapters/fleet-metrics.repository';
import type { ProcessorMetrics } from './metrics';
import type { FleetGate } from './qwen/fleet-gate';
import { ACCOUNT_STATE_CODES } from './qwen/qwen.errors';

/** Every processor answers the same fleet-wide figures; a scrape of each within this long shares one read of PostgreSQL. */
const DATABASE_READ_EVERY_MS = 10_000;

/** The alert's three causes: each asks something else of the operator (docs/operations.md). */
export function pauseCause(pause: { kind: 'provider' | 'spend_cap'; code: string }): 'key' | 'account' | 'spend_cap' {
  if (pause.kind === 'spend_cap') return 'spend_cap';
  return ACCOUNT_STATE_CODES.has(pause.code) ? 'account' : 'key';
}

/**
 * Sets the gauges read when /metrics is scraped: the pause's cause (Redis), the picture backlog
 * and failing webhook endpoints (PostgreSQL). A store that does not answer leaves the last value,
 * as the pause gauge does, rather than holding the scrape.
 */
export function fleetMetricsRefresher(deps: { gate: FleetGate; repo: FleetMetricsRepository; metrics: ProcessorMetrics; redisReady: () => boolean }) {
  let lastRead = 0;
  return async (): Promise<void> => {
    const { metrics } = deps;
    if (deps.redisReady()) {
      const pause = await deps.gate.pauseState().catch(() => undefined);
      if (pause !== undefined) {
        metrics.fleetPausedCause.reset();
        if (pause) metrics.fleetPausedCause.set({ cause: pauseCause(pause), code: pause.code }, 1);
      }
    }
    if (Date.now() - lastRead < DATABASE_READ_EVERY_MS) return;
    lastRead = Date.now();
    const [backlog, endpoints] = await Promise.all([deps.repo.pictureBacklog().catch(() => null), deps.repo.webhookEndpoints().catch(() => null)]);
    if (backlog) {
      metrics.picturesWaiting.set(backlog.waiting);
      metrics.oldestWaiting.set(backlog.oldestSeconds);
    }
    if (endpoints) {
      metrics.webhookEndpointsEnabled.set(endpoints.enabled);
      metrics.webhookEndpointsFailing.set({ for: '1h' }, endpoints.failingOverHour);
      metrics.webhookEndpointsFailing.set({ for: '1d' }, endpoints.failingOverDay);
    }
  };
}
