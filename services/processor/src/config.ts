import { defaults, env, parseConfig } from '@masterpost/shared';
import { z } from 'zod';
import { DEFAULT_PROMPTS_FILE } from './qwen/prompts';

/** The DashScope stand-in is the default: with no key set, nothing real is ever called. */
export function loadProcessorConfig(source: Record<string, string | undefined> = process.env) {
  const config = parseConfig(
    'processor',
    {
      PORT: env.port(defaults.processorPort),
      DATABASE_URL: env.string(defaults.databaseUrl),
      REDIS_URL: env.string(defaults.redisUrl),
      QUEUE_PREFIX: env.string(defaults.queuePrefix),
      STORAGE_DIR: env.string(defaults.storageDir),
      // Files go to this Supabase project's Storage bucket when SUPABASE_URL is set, to STORAGE_DIR otherwise.
      SUPABASE_URL: env.optionalString(),
      SUPABASE_SERVICE_ROLE_KEY: env.optionalString(),
      SUPABASE_BUCKET: env.string('masterpost'),
      BILLING_URL: env.url(`http://127.0.0.1:${defaults.billingPort}`),
      BILLING_SERVICE_TOKEN: env.secret(32),
      DASHSCOPE_API_KEY: env.optionalString(),
      DASHSCOPE_BASE_URL: env.url(`http://127.0.0.1:${defaults.simPort}/api/v1`),
      QWEN_MODEL: z.enum(['qwen-image-edit', 'qwen-image-edit-plus', 'qwen-image-edit-max']).default('qwen-image-edit-plus'),
      QWEN_RESULT_HOSTS: env.csv('dashscope-result-*.aliyuncs.com,localhost,127.0.0.1'),
      QWEN_MAX_PER_SECOND: env.number(2, 0.01, 1000),
      QWEN_MAX_IN_FLIGHT: env.int(2, 1, 1000),
      // Slack, in ms a second, between our rate gate and the provider's count (see FleetGate).
      QWEN_RATE_MARGIN_MS: env.int(250, 0, 1000),
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
      // A job whose process died is taken over once its lock lapses (lock) and the next stall
      // check runs (interval).
      WORKER_LOCK_MS: env.int(30_000, 1000),
      WORKER_STALLED_INTERVAL_MS: env.int(30_000, 500),
      WORKER_CONCURRENCY: env.int(4, 1, 64),
      // Worker threads that render pictures (the CPU-heavy step); about one per core.
      RENDER_THREADS: env.int(2, 1, 64),
      CREDITS_PER_IMAGE: env.int(3, 1),
      // Uploads and results are deleted this long after their job was created (7 days).
      RETENTION_SECONDS: env.int(7 * 24 * 3600, 1),
      RETENTION_SWEEP_EVERY_MS: env.int(3600_000, 500),
      SHUTDOWN_BOUND_MS: env.int(25_000, 1000),
    },
    source,
  );
  // Only the stand-in runs without a key; a real DashScope URL without one is a config error.
  const usingStandIn = !config.DASHSCOPE_API_KEY;
  return { ...config, DASHSCOPE_API_KEY: config.DASHSCOPE_API_KEY ?? 'sk-local-stand-in', usingStandIn };
}
export type ProcessorConfig = ReturnType<typeof loadProcessorConfig>;
