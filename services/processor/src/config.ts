import { ConfigError, defaults, env, parseConfig, queuePrefixOf, queuePrefixProblems, sharedStorageProblems } from '@masterpost/platform';
import { z } from 'zod';
import type { DriftThresholds } from './fidelity/drift';
import { DEFAULT_PROMPTS_FILE } from './qwen/prompts';
import { DEFAULT_RESULT_HOSTS, hostPatternProblems, parseResolveRules } from './qwen/result-hosts';

/** A list setting whose every problem is reported, each naming the entry it is about. */
function checkedList(fallback: string, problemsOf: (entries: string[]) => string[]) {
  return env.csv(fallback).superRefine((entries, context) => {
    for (const message of problemsOf(entries)) context.addIssue({ code: 'custom', message });
  });
}

/** The DashScope stand-in is the default: with no key set, nothing real is ever called. */
export function loadProcessorConfig(source: Record<string, string | undefined> = process.env) {
  const config = parseConfig(
    'processor',
    {
      LOG_LEVEL: env.logLevel(),
      PORT: env.port(defaults.processorPort),
      DATABASE_URL: env.string(defaults.databaseUrl),
      REDIS_URL: env.string(defaults.redisUrl),
      // A Redis Cluster's seed nodes (host:port, comma-separated): set, every connection is a
      // cluster client and QUEUE_PREFIX must hold a hash tag ({masterpost} unless set; see queuePrefixOf).
      REDIS_CLUSTER_NODES: env.redisClusterNodes(),
      QUEUE_PREFIX: env.optionalString(),
      STORAGE_DIR: env.string(defaults.storageDir),
      // Files go to this Supabase project's Storage bucket when SUPABASE_URL is set, to STORAGE_DIR otherwise.
      SUPABASE_URL: env.optionalString(),
      SUPABASE_SERVICE_ROLE_KEY: env.optionalString(),
      SUPABASE_BUCKET: env.string('masterpost'),
      // Several nodes (Kubernetes): the local folder is refused, files must go to the Supabase bucket.
      STORAGE_REQUIRE_SHARED: env.bool(false),
      BILLING_URL: env.url(`http://127.0.0.1:${defaults.billingPort}`),
      BILLING_SERVICE_TOKEN: env.secret(32),
      DASHSCOPE_API_KEY: env.optionalString(),
      DASHSCOPE_BASE_URL: env.url(`http://127.0.0.1:${defaults.simPort}/api/v1`),
      QWEN_MODEL: z.enum(['qwen-image-edit', 'qwen-image-edit-plus', 'qwen-image-edit-max']).default('qwen-image-edit-plus'),
      // Hosts result pictures may be fetched from (see qwen/result-hosts.ts); `*` is part of one label.
      QWEN_RESULT_HOSTS: checkedList(DEFAULT_RESULT_HOSTS.join(','), hostPatternProblems),
      // Tests and the local stack only: `host:address[:port]` connects to a result host of the
      // real shape at a local address (curl's --resolve); refused with Alibaba's endpoint.
      QWEN_RESULT_RESOLVE: checkedList('', (entries) => parseResolveRules(entries).problems),
      QWEN_MAX_PER_SECOND: env.number(2, 0.01, 1000),
      QWEN_MAX_IN_FLIGHT: env.int(2, 1, 1000),
      // Slack, in ms added to each rate window, for the provider's clock only: the gate counts
      // real send times, so our own stalls need none (see FleetGate).
      QWEN_RATE_MARGIN_MS: env.int(20, 0, 1000),
      QWEN_TIMEOUT_MS: env.int(120_000, 1000),
      QWEN_RESULT_MAX_BYTES: env.int(40 * 1024 * 1024, 1024),
      QWEN_PROMPTS_FILE: env.string(DEFAULT_PROMPTS_FILE),
      QWEN_PRICES_MICRO_USD: env.string('{"qwen-image-edit":45000,"qwen-image-edit-plus":30000,"qwen-image-edit-max":75000}'),
      QWEN_MAX_THROTTLED_TRIES: env.int(200, 1),
      // A call's slot in the fleet's in-flight count is renewed while it runs and freed this
      // long after its process dies.
      QWEN_LEASE_MS: env.int(15_000, 1000),
      // Spend on DashScope per UTC day, in micro-USD (1 USD = 1000000); 0 means no cap.
      QWEN_DAILY_SPEND_CAP_MICRO_USD: env.int(0, 0),
      QWEN_PAUSE_RECHECK_MS: env.int(30_000, 100),
      // An unpaid bill or used-up quota pauses the fleet this long; then one call checks again.
      QWEN_ACCOUNT_PAUSE_MS: env.int(300_000, 1000),
      // A job whose process died is taken over once its lock lapses (lock) and the next stall
      // check runs (interval).
      WORKER_LOCK_MS: env.int(30_000, 1000),
      WORKER_STALLED_INTERVAL_MS: env.int(30_000, 500),
      /** Hosts webhooks may reach although they resolve inside a network (the tests' loopback receiver). */
      WEBHOOK_ALLOWED_HOSTS: env.csv(''),
      WEBHOOK_TIMEOUT_MS: env.int(10_000, 100, 60_000),
      /** The first retry's delay; each next one doubles (15 tries: about 3 days with 8 s). */
      WEBHOOK_RETRY_BASE_MS: env.int(8_000, 10),
      /** An endpoint failing this long, whose delivery then fails for good, is turned off. */
      WEBHOOK_DISABLE_AFTER_MS: env.int(3 * 24 * 3600 * 1000, 0),
      CREDITS_LOW_THRESHOLD: env.int(9, 0),
      /** Where mails go out (smtp://user:pass@host:port, smtps://...); unset, mails are logged and not sent. */
      SMTP_URL: env.optionalString(),
      MAIL_FROM: env.string('Masterpost <no-reply@masterpost.local>'),
      /** The web app's public address, for the links in mails. */
      PUBLIC_URL: env.url(`http://localhost:${defaults.gatewayPort}`),
      /** How often the outbox is swept for mails no one queued (billing's receipts). */
      MAIL_SWEEP_EVERY_MS: env.int(2_000, 200),
      /** How long a gateway-written seller's 'your credits are low' mail waits before another (per seller). */
      LOW_BALANCE_MAIL_EVERY_SECONDS: env.int(24 * 3600, 1),
      /** How long a completed webhook job's record stays in Redis (the gateway's setting of the same name does it for pictures and jobs). */
      FINISHED_JOBS_KEEP_SECONDS: env.int(3600, 1),
      // Pictures one processor works on at once. Unset: ceil(QWEN_MAX_IN_FLIGHT / processors running)
      // + WORKER_CONCURRENCY_SPARE, at most WORKER_CONCURRENCY_MAX (workers/image-slots.ts); set: fixed.
      WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).optional(),
      WORKER_CONCURRENCY_MAX: env.int(64, 1, 1000),
      WORKER_CONCURRENCY_SPARE: env.int(2, 0, 100),
      // Worker threads that render pictures (the CPU-heavy step); about one per core.
      RENDER_THREADS: env.int(2, 1, 64),
      // Uploads and results are deleted this long after their job was created (7 days).
      RETENTION_SECONDS: env.int(7 * 24 * 3600, 1),
      RETENTION_SWEEP_EVERY_MS: env.int(3600_000, 500),
      SHUTDOWN_BOUND_MS: env.int(25_000, 1000),
      // Product fidelity (fidelity/drift.ts): a picture's drift is `major` past any MAJOR limit,
      // `minor` past any MINOR one. ΔE is CIEDE2000 (about 1 is just visible, 2-3 a glance
      // notices); SSIM is 1 for the same structure; DETAIL is the largest |change| of gradient energy.
      DRIFT_MINOR_DELTA_E_MEAN: env.number(3, 0),
      DRIFT_MINOR_DELTA_E_P95: env.number(8, 0),
      DRIFT_MINOR_SSIM: env.number(0.9, 0, 1),
      DRIFT_MINOR_DETAIL: env.number(0.2, 0),
      DRIFT_MAJOR_DELTA_E_MEAN: env.number(6, 0),
      DRIFT_MAJOR_DELTA_E_P95: env.number(15, 0),
      DRIFT_MAJOR_SSIM: env.number(0.8, 0, 1),
      DRIFT_MAJOR_DETAIL: env.number(0.35, 0),
      // Below this registration confidence (a correlation, 0..1) the seller's pixels are not used.
      DRIFT_MIN_CONFIDENCE: env.number(0.75, 0, 1),
      // A region of the photo inside the product's outline that the AI whitened, larger than this
      // share of the product, is taken for a prop in front of it: that picture uses the AI's pixels.
      DRIFT_OCCLUDER_SHARE: env.number(0.02, 0, 1),
    },
    source,
  );
  const startProblems = [...sharedStorageProblems(config), ...queuePrefixProblems(config)];
  if (startProblems.length > 0) throw new ConfigError('processor', startProblems);
  if (config.QWEN_RESULT_RESOLVE.length > 0 && /(^|\.)aliyuncs\.com$/i.test(new URL(config.DASHSCOPE_BASE_URL).hostname)) {
    throw new ConfigError('processor', ['QWEN_RESULT_RESOLVE: is for the local stand-in only; unset it when DASHSCOPE_BASE_URL is Alibaba\'s']);
  }
  // Only the stand-in runs without a key; a real DashScope URL without one is a config error.
  const usingStandIn = !config.DASHSCOPE_API_KEY;
  return {
    ...config,
    QUEUE_PREFIX: queuePrefixOf(config),
    driftThresholds: driftThresholdsOf(config),
    QWEN_RESULT_RESOLVE: parseResolveRules(config.QWEN_RESULT_RESOLVE).rules,
    DASHSCOPE_API_KEY: config.DASHSCOPE_API_KEY ?? 'sk-local-stand-in',
    usingStandIn,
  };
}
function driftThresholdsOf(config: Record<`DRIFT_${string}`, number>): DriftThresholds {
  return {
    minor: { deltaEMean: config.DRIFT_MINOR_DELTA_E_MEAN!, deltaEP95: config.DRIFT_MINOR_DELTA_E_P95!, ssim: config.DRIFT_MINOR_SSIM!, detail: config.DRIFT_MINOR_DETAIL! },
    major: { deltaEMean: config.DRIFT_MAJOR_DELTA_E_MEAN!, deltaEP95: config.DRIFT_MAJOR_DELTA_E_P95!, ssim: config.DRIFT_MAJOR_SSIM!, detail: config.DRIFT_MAJOR_DETAIL! },
    minConfidence: config.DRIFT_MIN_CONFIDENCE!,
    occluderShare: config.DRIFT_OCCLUDER_SHARE!,
  };
}

export type ProcessorConfig = ReturnType<typeof loadProcessorConfig>;
