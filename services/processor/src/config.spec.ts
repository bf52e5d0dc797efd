import { ConfigError } from '@masterpost/platform';
import { loadProcessorConfig } from './config';

/** The processors' fleet gate and spend guard run multi-key scripts: on a cluster their keys must share a slot. */
describe('the processor on a Redis Cluster', () => {
  const secrets = { BILLING_SERVICE_TOKEN: 't'.repeat(32) };

  it('stops at start on a queue prefix without a hash tag, naming QUEUE_PREFIX', () => {
    expect(() => loadProcessorConfig({ ...secrets, REDIS_CLUSTER_NODES: '10.0.0.5:7000', QUEUE_PREFIX: 'mp{' })).toThrow(ConfigError);
    expect(() => loadProcessorConfig({ ...secrets, REDIS_CLUSTER_NODES: '10.0.0.5:7000', QUEUE_PREFIX: 'mp{' })).toThrow(/^processor: invalid settings: QUEUE_PREFIX: "mp\{" has no hash tag/);
    expect(() => loadProcessorConfig({ ...secrets, REDIS_CLUSTER_NODES: '10.0.0.5' })).toThrow(/REDIS_CLUSTER_NODES: "10.0.0.5" is not host:port/);
  });

  it('takes the same default prefix as the gateway, so both meet on the same queues', () => {
    expect(loadProcessorConfig({ ...secrets, REDIS_CLUSTER_NODES: '10.0.0.5:7000' }).QUEUE_PREFIX).toBe('{masterpost}');
    expect(loadProcessorConfig(secrets).QUEUE_PREFIX).toBe('masterpost');
  });
});
