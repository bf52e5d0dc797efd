import { ConfigError } from '@masterpost/platform';
import { loadGatewayConfig } from './config';

/** On a Redis Cluster every key of ours must share the queue prefix's slot, or the scripts fail with CROSSSLOT. */
describe('the gateway on a Redis Cluster', () => {
  const secrets = { JWT_SECRET: 'j'.repeat(32), BILLING_SERVICE_TOKEN: 't'.repeat(32) };
  const cluster = { ...secrets, REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1:6379' };

  it('stops at start on a queue prefix without a hash tag, naming QUEUE_PREFIX, with every other problem in the same message', () => {
    let caught: unknown;
    try {
      loadGatewayConfig({ ...cluster, QUEUE_PREFIX: 'masterpost', STORAGE_REQUIRE_SHARED: 'true' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toMatch(/^gateway: invalid settings: .*QUEUE_PREFIX: "masterpost" has no hash tag/);
    expect((caught as ConfigError).message).toMatch(/STORAGE_REQUIRE_SHARED: /);
  });

  it('runs with a tagged prefix, by default {masterpost}, and with any prefix on one server', () => {
    expect(loadGatewayConfig({ ...cluster, QUEUE_PREFIX: '{shop-eu}' })).toMatchObject({ QUEUE_PREFIX: '{shop-eu}', REDIS_CLUSTER_NODES: ['redis-0:6379', 'redis-1:6379'] });
    expect(loadGatewayConfig(cluster).QUEUE_PREFIX).toBe('{masterpost}');
    expect(loadGatewayConfig({ ...secrets, QUEUE_PREFIX: 'masterpost' })).toMatchObject({ QUEUE_PREFIX: 'masterpost', REDIS_CLUSTER_NODES: [] });
    expect(loadGatewayConfig(secrets).QUEUE_PREFIX).toBe('masterpost');
  });
});
