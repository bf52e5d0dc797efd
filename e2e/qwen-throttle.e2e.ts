import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, metricValue, Seller } from './seller';

/**
 * DashScope's 429 (reliability 15): a throttled call waits for the fleet's cool-down and is sent
 * again without using one of the picture's attempts; a provider that never stops throttling
 * ends the picture after a capped number of tries, with a message and nothing charged.
 * One attempt a picture here, so a throttle that used one would fail the picture at once.
 */
jest.setTimeout(120_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '30', IMAGE_ATTEMPTS: '1', QWEN_MAX_THROTTLED_TRIES: '3' } });
});
cleanUpAfter(() => stack);
afterEach(() => {
  stack.sim.configure({ fault: 'none', throttleNext: 0 });
});

async function throttledTotal(): Promise<number> {
  const processor = stack.services.find((service) => service.name.startsWith('processor'))!;
  return metricValue(await (await fetch(`${processor.url}/metrics`)).text(), 'qwen_throttled_total');
}

test('a provider busy for a moment: every throttled call is sent again after the cool-down, no attempt used, each picture paid once', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'busy-provider@example.com');
  const jobId = await seller.upload(await distinctPhotos(3, 6100));
  stack.sim.reset();
  stack.sim.configure({ throttleNext: 4 });
  const throttledBefore = await throttledTotal();
  await seller.process(jobId);
  const progress = await seller.waitUntilFinished(jobId, 90_000);

  expect(progress).toMatchObject({ status: 'completed', completed: 3, failed: 0, credits_charged: 9 });
  expect(stack.sim.stats).toMatchObject({ throttled: 4, succeeded: 3 });
  expect(Object.values(stack.sim.stats.billedByImage)).toEqual([1, 1, 1]);
  expect((await throttledTotal()) - throttledBefore).toBe(4);
  expect(await seller.balance()).toEqual({ balance: 21, reserved: 0, available: 21 });
});

test('a provider that never stops throttling: the picture ends after its capped tries, with a message, nothing charged', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'always-busy@example.com');
  const jobId = await seller.upload(await distinctPhotos(1, 6200));
  stack.sim.reset();
  stack.sim.configure({ fault: 'throttled' });
  await seller.process(jobId);
  const progress = await seller.waitUntilFinished(jobId, 90_000);

  expect(progress).toMatchObject({ status: 'failed', failed: 1, credits_charged: 0, credits_reserved: 0 });
  expect(progress.images[0]!.error).toEqual({ code: 'throttled', message: 'The AI provider stayed too busy to take this photo. It was not charged.' });
  // Three throttled tries are allowed; the fourth 429 ends it.
  expect(stack.sim.stats).toMatchObject({ requests: 4, succeeded: 0 });
  expect(await seller.balance()).toEqual({ balance: 30, reserved: 0, available: 30 });
});
