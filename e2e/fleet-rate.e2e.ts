import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, metricValue, Seller } from './seller';

/**
 * Four processor processes share one DashScope account that answers 429 above 2 requests a
 * second and is asked to keep at most 2 calls open: together they stay under both limits,
 * every picture is made, and each is paid for exactly once.
 */
jest.setTimeout(240_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    processors: 4,
    sim: { ratePerSecond: 2, latencyMs: 700, jitterMs: 300 },
    env: { SIGNUP_CREDITS: '100', QWEN_MAX_PER_SECOND: '2', QWEN_MAX_IN_FLIGHT: '2', WORKER_CONCURRENCY: '3' },
  });
});
cleanUpAfter(() => stack);
test('four processors never send more than the account allows, and every picture is made and paid for once', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'fleet@example.com');
  const photos = await distinctPhotos(16);
  const jobId = await seller.upload(photos);
  await seller.process(jobId, 'ebay');
  const progress = await seller.waitUntilFinished(jobId, 180_000);

  expect(progress).toMatchObject({ status: 'completed', completed: 16, failed: 0, credits_charged: 48 });
  expect(await seller.balance()).toEqual({ balance: 52, reserved: 0, available: 52 });

  const { stats } = stack.sim;
  expect(stats.throttled).toBe(0);
  expect(stats.maxPerSecond).toBeLessThanOrEqual(2);
  expect(stats.maxInFlight).toBeLessThanOrEqual(2);
  expect(stats.succeeded).toBe(16);
  expect(Object.values(stats.billedByImage).sort()).toEqual(Array(16).fill(1));

  // The work was shared, and each processor's /metrics counts its own calls.
  const processors = stack.services.filter((service) => service.name.startsWith('processor'));
  const calls = await Promise.all(
    processors.map(async (service) => metricValue(await (await fetch(`${service.url}/metrics`)).text(), 'qwen_calls_total', 'outcome="success"')),
  );
  expect(calls.reduce((sum, value) => sum + value, 0)).toBe(16);
  expect(calls.filter((value) => value > 0).length).toBeGreaterThanOrEqual(2);
});
