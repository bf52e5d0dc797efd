import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { dependencyGauge } from '@masterpost/platform';
import type { ImagesRepository } from './adapters/images.repository';

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
    // Paid calls made again because the first output drifted `major`ly (our cost, never the seller's), and verdicts.
    driftRetries: new Counter({ name: 'qwen_drift_retries_total', help: 'DashScope calls made again because the output drifted from the photo', registers: [registry] }),
    driftVerdicts: new Counter({ name: 'product_drift_total', help: 'Pictures by product drift verdict and whose pixels were delivered', labelNames: ['verdict', 'product_pixels'], registers: [registry] }),
    // The fleet's adaptive rate (read from Redis when scraped) and what holds this processor back.
    qwenRate: new Gauge({ name: 'qwen_rate_per_second', help: 'The fleet\'s current rate of calls to DashScope: adapted under the configured one after 429s', registers: [registry] }),
    qwenRateConfigured: new Gauge({ name: 'qwen_rate_configured_per_second', help: 'This processor\'s QWEN_MAX_PER_SECOND: the ceiling of the adaptive rate', registers: [registry] }),
    qwenRateKnownLimit: new Gauge({ name: 'qwen_rate_known_limit_per_second', help: 'The rate last refused with a 429 that the fleet has not passed since (0: none known)', registers: [registry] }),
    qwenRateCuts: new Gauge({ name: 'qwen_rate_cuts', help: 'Times the fleet\'s rate was cut after a 429, fleet-wide, since the rate state began', registers: [registry] }),
    qwenInFlight: new Gauge({ name: 'qwen_in_flight', help: 'Calls to DashScope open now, fleet-wide', registers: [registry] }),
    qwenInFlightCap: new Gauge({ name: 'qwen_in_flight_cap', help: 'QWEN_MAX_IN_FLIGHT: calls open at once across the fleet', registers: [registry] }),
    imageSlots: new Gauge({ name: 'worker_image_slots', help: 'Pictures this processor works on at once (its image worker\'s concurrency)', registers: [registry] }),
    imageSlotsBusy: new Gauge({ name: 'worker_image_slots_busy', help: 'Image worker slots busy now', registers: [registry] }),
    processorsLive: new Gauge({ name: 'processors_live', help: 'Processors running, by their heartbeats in Redis', registers: [registry] }),
    bindingLimit: new Gauge({
      name: 'qwen_binding_limit',
      help: '1 for the limit that held this processor\'s pictures back most of the last 10 s: rate, in_flight, worker_slots, cpu (none: not enough work)',
      labelNames: ['limit'],
      registers: [registry],
    }),
    bindingLimitSeconds: new Counter({ name: 'qwen_binding_limit_seconds_total', help: 'Seconds each limit held this processor\'s pictures back', labelNames: ['limit'], registers: [registry] }),
    images: new Counter({ name: 'images_processed_total', help: 'Images finished, by status', labelNames: ['status'], registers: [registry] }),
    // Every picture's end, delivered or failed (with its reason), counted once across the fleet (countPictureEndings).
    picturesEnded: picturesEndedCounter(registry),
    // What /ready shows, as a gauge the alerts read (DependencyHealth, fed in main.ts).
    dependencyUp: new Gauge({ ...dependencyGauge, registers: [registry] }),
    // What the alerts in deploy/prometheus act on, read when scraped like the two above.
    fleetPausedCause: new Gauge({
      name: 'qwen_fleet_paused_cause',
      help: '1 for the cause of the current pause: key (key, model or result host refused), account (unpaid bill, quota), spend_cap',
      labelNames: ['cause', 'code'],
      registers: [registry],
    }),
    spendCap: new Gauge({ name: 'qwen_daily_spend_cap_micro_usd', help: 'This processor\'s QWEN_DAILY_SPEND_CAP_MICRO_USD (0: no cap), micro-USD', registers: [registry] }),
    picturesWaiting: new Gauge({ name: 'pictures_waiting', help: 'Pictures of queued jobs not finished yet (waiting, retrying, paused or in work), fleet-wide', registers: [registry] }),
    oldestWaiting: new Gauge({
      name: 'pictures_oldest_waiting_seconds',
      help: 'Seconds since the job of the oldest unfinished picture was queued (0: none), fleet-wide',
      registers: [registry],
    }),
    webhookEndpointsEnabled: new Gauge({ name: 'webhook_endpoints_enabled', help: 'Webhook endpoints turned on, fleet-wide', registers: [registry] }),
    webhookEndpointsFailing: new Gauge({
      name: 'webhook_endpoints_failing',
      help: 'Webhook endpoints turned on whose deliveries have been failing for longer than the label says, fleet-wide',
      labelNames: ['for'],
      registers: [registry],
    }),
  };
}
export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>;

/**
 * The reasons a picture fails (the images table's error_code), started at 0 so that a rate over
 * the first failure of a kind sees it: a counter that appears at 1 reads as no increase. The
 * seller's own (content_refused, no_product_found, unusable_image, invalid_settings,
 * product_drift) are told apart by the alert, not here. A reason missing from this list is still
 * counted, from its first failure on.
 */
export const PICTURE_FAILURE_REASONS = [
  'processing_failed', 'not_processed', 'throttled', 'provider_refused', 'reservation_expired', 'not_charged',
  'content_refused', 'no_product_found', 'unusable_image', 'invalid_settings', 'product_drift',
] as const;

function picturesEndedCounter(registry: Registry) {
  const counter = new Counter({
    name: 'pictures_ended_total',
    help: 'Pictures that ended: delivered, or failed with the reason the seller is shown (each counted once, by the processor that ended it)',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
  });
  counter.inc({ outcome: 'delivered' }, 0);
  for (const reason of PICTURE_FAILURE_REASONS) counter.inc({ outcome: 'failed', reason }, 0);
  return counter;
}

/** The repository calls that end a picture; each says whether this very call ended it. */
type PictureEndings = Pick<ImagesRepository, 'markDone' | 'markFailed' | 'markUndelivered'>;

/**
 * Counts pictures as they end, where they end: the repository's transitions out of pending or
 * processing (markDone, markFailed) and a delivered one taken back (markUndelivered). Each
 * reports whether this call changed the row, so a picture settled by two attempts, or failed by
 * its worker and its job's finalizer both, is counted once across every processor. Every code
 * path that ends a picture goes through these three, whichever handler calls them.
 */
export function countPictureEndings(repo: PictureEndings, metrics: Pick<ProcessorMetrics, 'picturesEnded'>): void {
  const markDone = repo.markDone.bind(repo);
  const markFailed = repo.markFailed.bind(repo);
  const markUndelivered = repo.markUndelivered.bind(repo);
  repo.markDone = async (imageId, finished) => {
    const ended = await markDone(imageId, finished);
    if (ended) metrics.picturesEnded.inc({ outcome: 'delivered' });
    return ended;
  };
  repo.markFailed = async (imageId, code, message) => {
    const ended = await markFailed(imageId, code, message);
    if (ended) metrics.picturesEnded.inc({ outcome: 'failed', reason: code });
    return ended;
  };
  // Counted delivered when it was marked done, and failed now: rare (a reservation that expired
  // during a long pause), and the failure is what the seller sees.
  repo.markUndelivered = async (imageId, code, message) => {
    const resultKey = await markUndelivered(imageId, code, message);
    if (resultKey !== null) metrics.picturesEnded.inc({ outcome: 'failed', reason: code });
    return resultKey;
  };
}
