import { prepareQwenInput } from '../services/processor/src/qwen/prepare-input';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * DashScope's transient failures and a seller's repeated photos: retried 500s end in a picture
 * paid for once, a 500 that never ends fails the picture without charging it, and a photo the
 * seller already paid for is neither sent nor charged again.
 */
jest.setTimeout(180_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '60', IMAGE_ATTEMPTS: '4', IMAGE_RETRY_DELAY_MS: '200' } });
});
cleanUpAfter(() => stack);
afterEach(() => {
  stack.sim.configure({ fault: 'none', failNext: 0, maxImageBytes: 10 * 1024 * 1024 });
});

test('a burst of 500s is retried and the picture is made, charged once', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'burst@example.com');
  const jobId = await seller.upload(await distinctPhotos(1, 100));
  stack.sim.reset();
  stack.sim.configure({ failNext: 3 });
  await seller.process(jobId);
  const progress = await seller.waitUntilFinished(jobId, 60_000);

  expect(progress).toMatchObject({ status: 'completed', completed: 1, failed: 0, credits_charged: 3 });
  expect(stack.sim.stats).toMatchObject({ failed: 3, succeeded: 1 });
  expect(await seller.balance()).toEqual({ balance: 57, reserved: 0, available: 57 });
});

test('a 500 that never ends fails the picture after its tries, with a clear message and nothing charged', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'down@example.com');
  const jobId = await seller.upload(await distinctPhotos(2, 200));
  stack.sim.reset();
  stack.sim.configure({ fault: 'internal_error' });
  await seller.process(jobId);
  const progress = await seller.waitUntilFinished(jobId, 90_000);

  expect(progress).toMatchObject({ status: 'failed', completed: 0, failed: 2, credits_charged: 0, credits_reserved: 0 });
  for (const image of progress.images) {
    expect(image.error).toEqual({ code: 'processing_failed', message: expect.stringMatching(/kept failing.*not charged/) });
  }
  // Four tries each (IMAGE_ATTEMPTS), none of them paid.
  expect(stack.sim.stats).toMatchObject({ failed: 8, succeeded: 0 });
  expect(await seller.balance()).toEqual({ balance: 60, reserved: 0, available: 60 });
});

test('the same photo sent again, in the same job or a later one, is not sent to the AI or charged again', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'repeat@example.com');
  const [first, second] = await distinctPhotos(2, 300);
  stack.sim.reset();

  const jobId = await seller.upload([first!, first!, second!]);
  await seller.process(jobId);
  const progress = await seller.waitUntilFinished(jobId, 60_000);
  expect(progress).toMatchObject({ status: 'completed', completed: 3, credits_charged: 6 });
  expect(progress.images.map((image) => image.charged).sort()).toEqual([false, true, true]);
  expect(stack.sim.stats.succeeded).toBe(2);

  const againId = await seller.upload([first!]);
  await seller.process(againId);
  const again = await seller.waitUntilFinished(againId, 60_000);
  expect(again).toMatchObject({ status: 'completed', completed: 1, credits_charged: 0 });
  expect(again.images[0]!.charged).toBe(false);
  expect(stack.sim.stats.succeeded).toBe(2);
  expect(await seller.balance()).toEqual({ balance: 54, reserved: 0, available: 54 });

  // Another seller's identical photo is theirs to pay for: outputs are never shared across sellers.
  const other = await Seller.register(stack.gatewayUrl, 'other@example.com');
  const otherJob = await other.upload([first!]);
  await other.process(otherJob);
  expect(await other.waitUntilFinished(otherJob, 60_000)).toMatchObject({ completed: 1, credits_charged: 3 });
  expect(stack.sim.stats.succeeded).toBe(3);
});

test('a photo the provider finds too large (413) is sent once more, smaller; too large again, it fails uncharged', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'large@example.com');
  const [photo, other] = await distinctPhotos(2, 800, 1400);
  const full = (await prepareQwenInput(photo!)).bytes.length;
  const shrunk = (await prepareQwenInput(photo!, 0.6)).bytes.length;
  stack.sim.reset();
  stack.sim.configure({ maxImageBytes: Math.round((full + shrunk) / 2) });
  const jobId = await seller.upload([photo!]);
  await seller.process(jobId);
  expect(await seller.waitUntilFinished(jobId, 60_000)).toMatchObject({ status: 'completed', completed: 1, credits_charged: 3 });
  expect(stack.sim.stats).toMatchObject({ failed: 1, succeeded: 1 });

  stack.sim.configure({ maxImageBytes: 1024 });
  const refusedId = await seller.upload([other!]);
  await seller.process(refusedId);
  const refused = await seller.waitUntilFinished(refusedId, 60_000);
  expect(refused).toMatchObject({ status: 'failed', failed: 1, credits_charged: 0 });
  expect(refused.images[0]!.error).toEqual({ code: 'provider_refused', message: expect.stringMatching(/too large.*not charged/) });
  expect(stack.sim.stats).toMatchObject({ failed: 3, succeeded: 1 });
});
