/**
 * The figures the manifests are made of, each from where it was measured or configured. Change
 * them here and run `npx --yes pnpm@10 run manifests`; deploy/deploy.spec.ts fails while the
 * YAML and this source disagree.
 */

/** The one image every service runs (Dockerfile), each with its own command. */
export const IMAGE = 'masterpost';

/** The images the overlays deploy. Building and pushing them is not part of these manifests. */
export const overlayImages = {
  dev: { newTag: 'dev' },
  production: { newName: 'ghcr.io/masterpost/masterpost', newTag: '0.1.0' },
} as const;

/** BullMQ's key prefix (QUEUE_PREFIX, platform's defaults.queuePrefix): KEDA reads `<prefix>:<queue>:wait`. */
export const QUEUE_PREFIX = 'masterpost';

export const ports = { gateway: 8080, billing: 8081, processor: 8090, simulator: 8082, simulatorResults: 8083 } as const;

/** Every secret the services read, each a key of the Secret `masterpost` (docs/operations.md makes it). */
export const SECRET_NAME = 'masterpost';
export const secretKeys = [
  'DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'BILLING_SERVICE_TOKEN', 'DASHSCOPE_API_KEY', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET',
  'SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY',
  // KEDA's Redis scaler takes host:port and a password, not a URL: the same Redis as REDIS_URL.
  'REDIS_ADDRESS', 'REDIS_PASSWORD',
] as const;
export type SecretKey = (typeof secretKeys)[number];

/**
 * Shutdown: the processor waits for its active jobs up to SHUTDOWN_BOUND_MS (its config default,
 * 25 s); the gateway and billing use handleShutdown's default bound, 20 s. Kubernetes waits
 * terminationGracePeriodSeconds before SIGKILL, so each is the bound plus the preStop pause plus
 * slack for the process to exit.
 */
export const shutdown = {
  processorBoundMs: 25_000,
  httpBoundMs: 20_000,
  /** The gateway and billing keep serving this long after SIGTERM is decided, while their endpoints leave the Service. */
  preStopSeconds: 5,
  slackSeconds: 10,
} as const;

/**
 * The fleet's AI rate. QWEN_MAX_PER_SECOND=2 is docker-compose's default and the fleet benchmark's
 * (BENCHMARKS.md, "Fleet efficiency": the stand-in answers in 6 s ± 1 s, so 7 s is the longest
 * call planned for). Calls in flight at that rate: 2 × 7 = 14 (the benchmark's "6 s calls at 2 a
 * second need 12 open", plus the second of spread).
 */
export const qwen = { maxPerSecond: 2, callSecondsMax: 7 } as const;
export const qwenMaxInFlight = Math.ceil(qwen.maxPerSecond * qwen.callSecondsMax);

/**
 * A processor takes WORKER_CONCURRENCY pictures at once (the catalog's default, 4), each holding
 * its slot for the call, the render (p95 at most 553 ms, 2048 px input: BENCHMARKS.md "Render cost
 * per picture") and the rest of the picture's work (p95 105 ms: "Overhead on one picture"). Past
 * the processors needed to hold every call the rate allows, more only wait at the fleet's gate.
 */
export const workerConcurrency = 4;
export const renderThreads = 2;
const secondsPerPicture = qwen.callSecondsMax + 0.553 + 0.105;
export const processorsForRate = Math.ceil((qwen.maxPerSecond * secondsPerPicture) / workerConcurrency);

/**
 * Requests and limits, from BENCHMARKS.md (2 × AMD EPYC, Node 20):
 * - processor memory, "Processor memory with phone-sized photos" (1000 12 MP photos, concurrency 4,
 *   RENDER_THREADS 2, MALLOC_ARENA_MAX=1): mean RSS late in the run 458 MiB, peak 540 MiB, runs of
 *   the same code 529-561 MiB, with two malloc arenas 599-603 MiB. Request the mean rounded up
 *   (512Mi); limit 768Mi, a quarter above the worst peak measured (603 MiB × 1.25 = 754 MiB).
 * - processor CPU, "Fleet efficiency": one processor used 90 s of CPU in 132.6 s at 2 calls a
 *   second (0.68 of a core), so request one core; RENDER_THREADS=2 renders on two at once, the limit.
 * - gateway memory, "Upload and download through the gateway": peak RSS 178 MiB through a 1.4 GiB,
 *   500-picture upload and flat through downloads; request 256Mi, limit twice that for several at once.
 * - gateway CPU: verifying a 12 MP picture at upload takes 35 ms (p95 58) of one core; half a core
 *   requested, one the limit (the HPA adds gateways at 70% of the request).
 * - billing: not measured by BENCHMARKS.md; a ledger API over HTTP and PostgreSQL, sized as a small
 *   Express service. Measure it before trusting these.
 */
export const resources = {
  processor: { requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '2', memory: '768Mi' } },
  gateway: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  billing: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  migrate: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  simulator: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
} as const;

/**
 * The gateway's uploads go to disk before they are stored (multer, STORAGE_DIR/tmp, also with the
 * Supabase bucket): a ZIP may be 2 GiB (UPLOAD_MAX_FILE_BYTES), the benchmark's 500 pictures were
 * 1.4 GiB. Room for a few at once.
 */
export const scratchSize = { gateway: '8Gi', processor: '2Gi' } as const;
