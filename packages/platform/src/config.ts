import { z } from 'zod';

/**
 * Each service describes its environment as a zod object built from these helpers and parses it
 * once at start. On failure every bad key is named in one message, so an operator fixes them all
 * in one go instead of one restart per key.
 */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid settings: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function parseConfig<Shape extends z.ZodRawShape>(
  service: string,
  shape: Shape,
  env: Env = process.env,
): z.infer<z.ZodObject<Shape>> {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    // An empty variable means "not set": docker-compose passes `FOO=` for unset interpolations.
    raw[key] = value === undefined || value.trim() === '' ? undefined : value.trim();
  }
  const result = z.object(shape).safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      return `${key}: ${issue.message}`;
    });
    throw new ConfigError(service, problems);
  }
  return result.data;
}

export const env = {
  string: (fallback?: string) => (fallback === undefined ? z.string() : z.string().default(fallback)),
  optionalString: () => z.string().optional(),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  number: (fallback: number, min = 0, max = Number.MAX_VALUE) =>
    z.coerce.number().min(min).max(max).default(fallback),
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  csv: (fallback = '') =>
    z
      .string()
      .default(fallback)
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0),
      ),
  /** pino's levels: a typo is named at start instead of failing inside the logger. */
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  url: (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback)),
  /** REDIS_CLUSTER_NODES: `host:port` seeds of a Redis Cluster, comma-separated; empty for one server. */
  redisClusterNodes: () =>
    z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0),
      )
      .superRefine((entries, context) => {
        for (const entry of entries) {
          if (!parseClusterNode(entry)) context.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not host:port (a cluster node's address, as [v6]:port for IPv6)` });
        }
      }),
  /** A shared secret: no default, at least `minBytes` long (HS256 wants a key as long as its hash). */
  secret: (minBytes = 32) =>
    z
      .string({ error: 'is required' })
      .refine((value) => Buffer.byteLength(value, 'utf8') >= minBytes, {
        message: `must be at least ${minBytes} bytes`,
      }),
};

export const defaults = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/masterpost',
  redisUrl: 'redis://127.0.0.1:6379',
  queuePrefix: 'masterpost',
  gatewayPort: 8080,
  billingPort: 8081,
  processorPort: 8090,
  simPort: 8082,
  simResultPort: 8083,
  storageDir: '.data/storage',
};

/** `host:port` or `[v6 address]:port`; null when it is neither. */
export function parseClusterNode(entry: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@]+)):(\d{1,5})$/.exec(entry.trim());
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) return null;
  return { host: (match[1] ?? match[2])!, port };
}

/**
 * The hash tag Redis Cluster hashes a key by: the text between the key's first `{` and the
 * first `}` after it, when that text is not empty; null when the whole key is hashed.
 */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

/**
 * QUEUE_PREFIX as it applies: what is set, or by default `masterpost` on one server and
 * `{masterpost}` on a cluster.
 *
 * On a cluster every key we make starts with the prefix (BullMQ's queues, the fleet gate, the
 * spend guard, twin claims, idempotency, rate limits, presence, traces, progress channels), and
 * BullMQ's scripts and ours touch several of them at once, which a cluster allows only within
 * one slot. A prefix whose hash tag closes inside it puts every key in the slot of that tag. A
 * prefix without one is refused rather than wrapped in braces: wrapping would silently rename
 * every key (queues left behind under the old names, dashboards and scalers reading the wrong
 * ones), while an operator who writes the braces knows the names.
 */
export function queuePrefixOf(settings: { QUEUE_PREFIX?: string | undefined; REDIS_CLUSTER_NODES: string[] }): string {
  if (settings.QUEUE_PREFIX !== undefined) return settings.QUEUE_PREFIX;
  return settings.REDIS_CLUSTER_NODES.length > 0 ? `{${defaults.queuePrefix}}` : defaults.queuePrefix;
}

export function queuePrefixProblems(settings: { QUEUE_PREFIX?: string | undefined; REDIS_CLUSTER_NODES: string[] }): string[] {
  if (settings.REDIS_CLUSTER_NODES.length === 0) return [];
  const prefix = queuePrefixOf(settings);
  if (hashTagOf(prefix) !== null) return [];
  return [
    `QUEUE_PREFIX: ${JSON.stringify(prefix)} has no hash tag, and REDIS_CLUSTER_NODES is set: on a Redis Cluster the prefix must contain one, ` +
      `such as {${prefix.replace(/[{}]/g, '') || 'masterpost'}}, so that every key of the queues and the fleet lands in one slot (a tag is the text between the first { and the next }, not empty)`,
  ];
}

/**
 * A service's start: parse its settings or exit with code 2 after logging every bad key, so a
 * misconfigured container stops at once with the reason instead of failing on first use.
 */
export function loadConfigOrExit<Config>(load: () => Config, fatal: (message: string) => void): Config {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      fatal(error.message);
      process.exit(2);
    }
    throw error;
  }
}
