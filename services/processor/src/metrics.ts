import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What an operator watches on each processor: calls by outcome, latency, 429s and spend. */
export function createProcessorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    qwenCalls: new Counter({ name: 'qwen_calls_total', help: 'DashScope calls by outcome', labelNames: ['outcome'], registers: [registry] }),
    qwenLatency: new Histogram({
      name: 'qwen_call_seconds',
      help: 'DashScope call latency',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 40, 80, 150],
      registers: [registry],
    }),
    qwenThrottled: new Counter({ name: 'qwen_throttled_total', help: '429 answers from DashScope', registers: [registry] }),
    qwenSpend: new Counter({ name: 'qwen_spend_micro_usd_total', help: 'Spend on successful DashScope calls, micro-USD', registers: [registry] }),
    renderSeconds: new Histogram({ name: 'render_seconds', help: 'Render step duration', buckets: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2], registers: [registry] }),
    // Fleet-wide, read from Redis and Postgres when scraped: what an alert should fire on.
    fleetPaused: new Gauge({ name: 'qwen_fleet_paused', help: '1 while calls to DashScope are paused (bad key, unpaid account, spend cap)', registers: [registry] }),
    spendToday: new Gauge({ name: 'qwen_spend_today_micro_usd', help: 'Fleet-wide DashScope spend since 00:00 UTC, micro-USD', registers: [registry] }),
    images: new Counter({ name: 'images_processed_total', help: 'Images finished, by status', labelNames: ['status'], registers: [registry] }),
  };
}
export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>;
