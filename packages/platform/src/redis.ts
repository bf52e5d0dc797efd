import IORedis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseClusterNode } from './config';
import { logConnectionErrors, type Logger } from './logger';

/**
 * Redis connections by role (BullMQ's production guide): producers fail fast so the gateway can
 * answer 503 while Redis is down; workers wait forever (`maxRetriesPerRequest: null`) and
 * resume by themselves when it is back.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

/**
 * A connection to Redis: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). Both
 * take the same commands, scripts and BullMQ queues; code that holds one never needs to know
 * which, as long as every key it names in one command or script shares the queue prefix's hash
 * tag (config.ts, `queuePrefixProblems`).
 */
export type RedisConnection = IORedis | Cluster;

/**
 * The connection type under its earlier name, for code that still imports it (it is a union
 * now: nothing may call what only one server or only a cluster has).
 */
export type { RedisConnection as IORedis };

/** Where Redis is: REDIS_URL, or the cluster's seed nodes when REDIS_CLUSTER_NODES is set. */
export interface RedisSettings {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES: string[];
}

export function redisOptions(role: RedisRole): RedisOptions {
  const base: RedisOptions = {
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  };
  switch (role) {
    case 'producer':
      return { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    case 'worker':
    case 'subscriber':
      return { ...base, maxRetriesPerRequest: null };
  }
}

/**
 * The cluster's options for a role. The role's connection options go to every node
 * (`redisOptions`); what ioredis keeps at the cluster level (the offline queue, the reconnect
 * strategy) moves there. A managed cluster asks for the same user, password and TLS on every
 * node: they come from REDIS_URL when it carries them (`rediss://user:password@...`), its host
 * being ignored.
 *
 * A primary's death is ridden out, not reported: until its replica is promoted, commands for its
 * slots meet a closed connection or a MOVED to the dead node, and ioredis retries them after a
 * delay, up to `maxRedirections` times. Workers and subscribers wait about 30 s (a managed
 * cluster's failover takes its node timeout, often 15 s, plus an election); producers about 3 s,
 * then the gateway answers 503 as it does while a single Redis is down.
 */
export function clusterOptions(role: RedisRole, url?: string): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, ...node } = redisOptions(role);
  const patient = role !== 'producer';
  const delayMs = patient ? 250 : 200;
  return {
    redisOptions: { ...node, ...credentialsOf(url) },
    clusterRetryStrategy: retryStrategy ?? null,
    enableOfflineQueue: enableOfflineQueue ?? true,
    retryDelayOnFailover: delayMs,
    retryDelayOnClusterDown: delayMs,
    retryDelayOnTryAgain: delayMs,
    // Without a delay, a MOVED pointing at the dead primary loops until maxRedirections at once.
    retryDelayOnMoved: 50,
    maxRedirections: patient ? 120 : 16,
  };
}

function credentialsOf(url: string | undefined): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  if (!url) return {};
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * The one way a service connects to Redis: to the cluster when REDIS_CLUSTER_NODES names its
 * nodes, to REDIS_URL otherwise, so no caller branches on which.
 */
export function createRedis(settings: RedisSettings, role: RedisRole, logger?: Logger): RedisConnection {
  let redis: RedisConnection;
  if (settings.REDIS_CLUSTER_NODES.length > 0) {
    const nodes = settings.REDIS_CLUSTER_NODES.map((entry) => {
      const node = parseClusterNode(entry);
      if (!node) throw new Error(`REDIS_CLUSTER_NODES: ${JSON.stringify(entry)} is not host:port`);
      return node;
    });
    redis = new Cluster(nodes, clusterOptions(role, settings.REDIS_URL));
  } else {
    redis = new IORedis(settings.REDIS_URL, redisOptions(role));
  }
  // Without a listener ioredis prints every reconnect attempt as an unhandled error event.
  redis.on('error', logger ? logConnectionErrors(logger, `redis (${role})`) : () => undefined);
  return redis;
}

/** The primaries of a cluster, or the one server: what a KEYS/SCAN over every key must visit. */
export function primariesOf(redis: RedisConnection): IORedis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * A `(command, ...args)` sender for libraries that load their Lua scripts with SCRIPT LOAD and
 * run them with EVALSHA (rate-limit-redis). On a cluster, SCRIPT LOAD names no key, so ioredis
 * would send it to any primary, and the EVALSHA on the key's primary would find no script: the
 * script goes to every primary instead (a primary promoted later has it not, and the library
 * loads it again on NOSCRIPT).
 */
export function scriptCommandSender(redis: RedisConnection): (command: string, ...args: string[]) => Promise<unknown> {
  return async (command, ...args) => {
    if (!(redis instanceof Cluster) || command.toUpperCase() !== 'SCRIPT' || args[0]?.toUpperCase() !== 'LOAD') return redis.call(command, ...args);
    const loads = await Promise.allSettled(primariesOf(redis).map((node) => node.call(command, ...args)));
    const loaded = loads.find((load) => load.status === 'fulfilled');
    if (!loaded) throw (loads[0] as PromiseRejectedResult | undefined)?.reason ?? new Error('no primary of the cluster answered SCRIPT LOAD');
    // The digest is the script's SHA-1, the same on every node.
    return loaded.value;
  };
}
