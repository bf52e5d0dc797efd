import { ConfigError, env, hashTagOf, parseClusterNode, parseConfig, queuePrefixOf, queuePrefixProblems } from './config';
import { clusterOptions } from './redis';

describe('parseConfig', () => {
  const shape = { PORT: env.port(8080), JWT_SECRET: env.secret(32), RATE: env.number(2, 0.1), ADMINS: env.csv('') };

  it('applies defaults and parses values', () => {
    const config = parseConfig('svc', shape, { JWT_SECRET: 'k'.repeat(32), ADMINS: 'a@x.com, b@x.com', PORT: '9000' });
    expect(config).toEqual({ PORT: 9000, JWT_SECRET: 'k'.repeat(32), RATE: 2, ADMINS: ['a@x.com', 'b@x.com'] });
  });

  it('names every bad setting in one error', () => {
    let caught: unknown;
    try {
      parseConfig('gateway', shape, { JWT_SECRET: 'short', PORT: 'eighty', RATE: '0' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    expect(problems).toMatch(/JWT_SECRET: must be at least 32 bytes/);
    expect(problems).toMatch(/PORT:/);
    expect(problems).toMatch(/RATE:/);
    expect((caught as ConfigError).message).toMatch(/^gateway: invalid settings/);
  });

  it('treats an empty variable as unset, so a required secret is reported missing', () => {
    expect(() => parseConfig('svc', shape, { JWT_SECRET: '' })).toThrow(/JWT_SECRET/);
  });
});

describe('Redis Cluster settings', () => {
  const shape = { REDIS_CLUSTER_NODES: env.redisClusterNodes(), QUEUE_PREFIX: env.optionalString() };

  it('takes the hash tag as Redis Cluster does: the first { to the next }, not empty', () => {
    expect(hashTagOf('{masterpost}:images:wait')).toBe('masterpost');
    expect(hashTagOf('mp{eu}:x{y}')).toBe('eu');
    // An empty first tag makes Redis hash the whole key, whatever follows.
    expect(hashTagOf('{}{masterpost}')).toBeNull();
    expect(hashTagOf('masterpost')).toBeNull();
    expect(hashTagOf('masterpost}{')).toBeNull();
  });

  it('refuses a queue prefix without a hash tag on a cluster, naming QUEUE_PREFIX, and accepts any on one server', () => {
    const cluster = parseConfig('gateway', shape, { REDIS_CLUSTER_NODES: '10.0.0.1:6379, 10.0.0.2:6379', QUEUE_PREFIX: 'masterpost' });
    expect(cluster.REDIS_CLUSTER_NODES).toEqual(['10.0.0.1:6379', '10.0.0.2:6379']);
    const [problem, ...others] = queuePrefixProblems(cluster);
    expect(others).toEqual([]);
    expect(problem).toMatch(/^QUEUE_PREFIX: "masterpost" has no hash tag, and REDIS_CLUSTER_NODES is set.*\{masterpost\}/);
    // A tag that does not close inside the prefix would hash by whatever follows it in each key.
    expect(queuePrefixProblems({ ...cluster, QUEUE_PREFIX: 'mp{eu' })).toHaveLength(1);
    expect(queuePrefixProblems({ ...cluster, QUEUE_PREFIX: '{}masterpost' })).toHaveLength(1);
    expect(queuePrefixProblems({ ...cluster, QUEUE_PREFIX: 'prod:{masterpost}' })).toEqual([]);
    expect(queuePrefixProblems({ REDIS_CLUSTER_NODES: [], QUEUE_PREFIX: 'masterpost' })).toEqual([]);
  });

  it('defaults the prefix to {masterpost} on a cluster and masterpost on one server', () => {
    expect(queuePrefixOf({ REDIS_CLUSTER_NODES: ['10.0.0.1:6379'] })).toBe('{masterpost}');
    expect(queuePrefixProblems({ REDIS_CLUSTER_NODES: ['10.0.0.1:6379'] })).toEqual([]);
    expect(queuePrefixOf({ REDIS_CLUSTER_NODES: [] })).toBe('masterpost');
    expect(queuePrefixOf({ REDIS_CLUSTER_NODES: ['10.0.0.1:6379'], QUEUE_PREFIX: '{eu}' })).toBe('{eu}');
  });

  it('names each cluster node that is not host:port', () => {
    expect(() => parseConfig('processor', shape, { REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1,[::1]:7000,redis://x:1,h:70000' })).toThrow(
      /REDIS_CLUSTER_NODES: "redis-1" is not host:port.*REDIS_CLUSTER_NODES: "redis:\/\/x:1" is not host:port.*REDIS_CLUSTER_NODES: "h:70000" is not host:port/,
    );
    expect(parseClusterNode('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(parseClusterNode('redis-0.redis.svc:6379')).toEqual({ host: 'redis-0.redis.svc', port: 6379 });
  });

  it('gives a cluster the role\'s connection options, its offline queue and retries at the cluster level', () => {
    const producer = clusterOptions('producer');
    expect(producer.enableOfflineQueue).toBe(false);
    expect(producer.redisOptions).toMatchObject({ maxRetriesPerRequest: 1 });
    // BullMQ refuses a worker whose connection may give up on a command.
    const worker = clusterOptions('worker');
    expect(worker.enableOfflineQueue).toBe(true);
    expect(worker.redisOptions?.maxRetriesPerRequest).toBeNull();
    // A failover is ridden out longer by workers than by the gateway, which answers 503 instead.
    const ridden = (options: typeof worker) => options.maxRedirections! * options.retryDelayOnFailover!;
    expect(ridden(worker)).toBeGreaterThanOrEqual(20_000);
    expect(ridden(producer)).toBeLessThanOrEqual(5_000);
    expect(clusterOptions('worker', 'rediss://app:s%40cret@ignored:6379').redisOptions).toMatchObject({ username: 'app', password: 's@cret', tls: {} });
    expect(clusterOptions('worker', 'redis://127.0.0.1:6379').redisOptions).not.toHaveProperty('password');
  });
});
