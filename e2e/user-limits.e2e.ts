import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * Per-user limits (reliability 33): uploads, processing requests and editor requests are counted
 * per signed-in seller in Redis. One seller over a limit gets 429 naming it; another seller is
 * not slowed; nothing is reserved or charged for a refused request.
 */
jest.setTimeout(90_000);

let stack: TestStack;
let api: ReturnType<typeof request>;

beforeAll(async () => {
  stack = await startTestStack({
    env: { SIGNUP_CREDITS: '30', RATE_LIMIT_UPLOADS_PER_MINUTE: '2', RATE_LIMIT_PROCESS_PER_MINUTE: '2', RATE_LIMIT_EDITS_PER_MINUTE: '2' },
  });
  api = request(stack.gatewayUrl);
});
cleanUpAfter(() => stack);

test('uploads, processing and edits are limited per seller: the third in a minute is 429, another seller goes on, nothing is reserved', async () => {
  const busy = await Seller.register(stack.gatewayUrl, 'busy@example.com');
  const other = await Seller.register(stack.gatewayUrl, 'other@example.com');
  const [photo] = await distinctPhotos(1, 4200);
  const upload = (seller: Seller) => api.post('/api/v1/upload').set('authorization', `Bearer ${seller.token}`).attach('files', photo!, 'photo.jpg');

  expect((await upload(busy)).status).toBe(201);
  const second = await upload(busy);
  expect(second.status).toBe(201);
  const refused = await upload(busy);
  expect(refused.status).toBe(429);
  expect(refused.body.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/too many uploads; at most 2 a minute/) });
  expect((await upload(other)).status).toBe(201);

  const jobId = second.body.job_id as string;
  const processOnce = (seller: Seller, job: string) =>
    api.post('/api/v1/process').set('authorization', `Bearer ${seller.token}`).send({ job_id: job, pipeline: 'amazon' });
  expect((await processOnce(busy, randomUUID())).status).toBe(404);
  expect((await processOnce(busy, randomUUID())).status).toBe(404);
  const processRefused = await processOnce(busy, jobId);
  expect(processRefused.status).toBe(429);
  expect(processRefused.body.error.message).toMatch(/too many processing requests/);
  expect(await busy.balance()).toMatchObject({ available: 30 });

  const edit = (seller: Seller) =>
    api.post('/api/v1/manual-editor/render').set('authorization', `Bearer ${seller.token}`).send({ image_id: randomUUID(), settings: {} });
  expect((await edit(busy)).status).toBe(404);
  expect((await edit(busy)).status).toBe(404);
  const editRefused = await edit(busy);
  expect(editRefused.status).toBe(429);
  expect(editRefused.body.error.message).toMatch(/too many edits/);
  expect((await edit(other)).status).toBe(404);
});
