import IORedis, { type RedisOptions } from 'ioredis';
import { logConnectionErrors, type Logger } from './logger';

/**
 * Redis connections by role (BullMQ's production guide): producers fail fast so the gateway can
 * answer 503 while Redis is down; workers wait forever (`maxRetriesPerRequest: null`) and
 * resume by themselves when it is back.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

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

export function createRedis(url: string, role: RedisRole, logger?: Logger): IORedis {
  const redis = new IORedis(url, redisOptions(role));
  // Without a listener ioredis prints every reconnect attempt as an unhandled error event.
  redis.on('error', logger ? logConnectionErrors(logger, `redis (${role})`) : () => undefined);
  return redis;
}

export type { IORedis };
