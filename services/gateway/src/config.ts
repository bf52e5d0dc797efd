import { jobCatalog, JobName } from '@masterpost/contracts';
import { ConfigError, defaults, env, parseConfig, queuePrefixOf, queuePrefixProblems, sharedStorageProblems } from '@masterpost/platform';

export function loadGatewayConfig(source: Record<string, string | undefined> = process.env) {
  const config = parseConfig(
    'gateway',
    {
      LOG_LEVEL: env.logLevel(),
      PORT: env.port(defaults.gatewayPort),
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
      JWT_SECRET: env.secret(32),
      JWT_TTL_SECONDS: env.int(24 * 3600, 60, 30 * 24 * 3600),
      BILLING_URL: env.url(`http://127.0.0.1:${defaults.billingPort}`),
      BILLING_SERVICE_TOKEN: env.secret(32),
      CREDITS_PER_IMAGE: env.int(3, 1),
      SIGNUP_CREDITS: env.int(10, 0),
      HOLD_TTL_SECONDS: env.int(48 * 3600, 60),
      MAX_IMAGES_PER_JOB: env.int(500, 1),
      // A file of the upload (a ZIP of a whole shoot can be large: it is streamed to disk and read entry by entry).
      UPLOAD_MAX_FILE_BYTES: env.int(2 * 1024 * 1024 * 1024, 1024),
      // One picture, on its own or inside a ZIP.
      IMAGE_MAX_BYTES: env.int(50 * 1024 * 1024, 1024),
      UPLOAD_MAX_FILES: env.int(100, 1),
      IMAGE_MAX_PIXELS: env.int(100_000_000, 1),
      ZIP_MAX_ENTRIES: env.int(2000, 1),
      ZIP_MAX_UNPACKED_BYTES: env.int(4 * 1024 * 1024 * 1024, 1024),
      ZIP_MAX_RATIO: env.int(100, 2),
      QWEN_MAX_PER_SECOND: env.number(2, 0.01),
      // Retries of a picture after a transient failure (500, timeout, network): how many tries
      // in all and the first backoff delay, doubled at each try, with jitter.
      // The catalog's are the defaults; tests and operators may change them.
      IMAGE_ATTEMPTS: env.int(jobCatalog[JobName.ImageProcess].options.attempts, 1, 20),
      IMAGE_RETRY_DELAY_MS: env.int(jobCatalog[JobName.ImageProcess].options.backoff.delay, 10),
      // How long a finished picture's queue record stays in Redis (Bull Board shows it meanwhile);
      // what the seller sees lives in PostgreSQL, so Redis holds only recent and unfinished work.
      FINISHED_JOBS_KEEP_SECONDS: env.int(3600, 1),
      // Who may set X-Forwarded-For: 'loopback' with no proxy in front, the proxy's hop count (1)
      // or addresses behind one. Rate limits count the client address this yields.
      TRUST_PROXY: env.string('loopback'),
      /** Tests: check every JSON answer against the OpenAPI document and log what breaks it. */
      CONTRACT_CHECK: env.bool(false),
      /** Hosts webhooks may reach although they resolve inside a network (the tests' loopback receiver). */
      WEBHOOK_ALLOWED_HOSTS: env.csv(''),
      RATE_LIMIT_AUTH_PER_MINUTE: env.int(20, 1),
      RATE_LIMIT_UPLOADS_PER_MINUTE: env.int(30, 1),
      RATE_LIMIT_PROCESS_PER_MINUTE: env.int(60, 1),
      RATE_LIMIT_EDITS_PER_MINUTE: env.int(60, 1),
      RATE_LIMIT_MAILS_PER_CLIENT_PER_HOUR: env.int(20, 1),
      RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR: env.int(5, 1),
      /** The web app's public address: the links in mails lead there. */
      PUBLIC_URL: env.url(`http://localhost:${defaults.gatewayPort}`),
      /** Set where the processors send mail; it turns email verification on unless EMAIL_VERIFICATION says otherwise. */
      SMTP_URL: env.optionalString(),
      /** `required`: signup credits and spending wait for the verification link. Default: required when SMTP_URL is set. */
      EMAIL_VERIFICATION: env.optionalString(),
      VERIFY_LINK_SECONDS: env.int(48 * 3600, 60),
      RESET_LINK_SECONDS: env.int(3600, 60),
      EMAIL_CHANGE_LINK_SECONDS: env.int(24 * 3600, 60),
    },
    source,
  );
  const startProblems = [...sharedStorageProblems(config), ...queuePrefixProblems(config)];
  if (startProblems.length > 0) throw new ConfigError('gateway', startProblems);
  // Without a mail server nobody could follow a verification link, so nothing would be spendable.
  const verification = config.EMAIL_VERIFICATION ?? (config.SMTP_URL ? 'required' : 'off');
  if (verification !== 'required' && verification !== 'off') throw new ConfigError('gateway', [`EMAIL_VERIFICATION: must be required or off, not ${JSON.stringify(verification)}`]);
  const emailVerificationRequired = verification === 'required';
  return { ...config, QUEUE_PREFIX: queuePrefixOf(config), emailVerificationRequired };
}
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
