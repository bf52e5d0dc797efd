import request from 'supertest';
import { getBinary, inspectPicture, productPhoto } from './fixtures';
import { cleanUpAfter, readEvents, startTestStack, type TestStack } from './harness';

/**
 * What a seller sees when things go wrong: too few credits, a photo the AI provider refuses,
 * and a provider answer framed differently from the photo. Nothing is charged for a failure
 * and every job ends.
 */
jest.setTimeout(180_000);

let stack: TestStack;
let api: ReturnType<typeof request>;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '10' } });
  api = request(stack.gatewayUrl);
});
cleanUpAfter(() => stack);
afterEach(() => {
  stack.sim.configure({ fault: 'none', outputSize: undefined });
});

async function seller(email: string): Promise<string> {
  const response = await api.post('/auth/register').send({ email, password: 'long enough password' }).expect(201);
  return response.body.access_token as string;
}

async function upload(token: string, count: number): Promise<string> {
  let call = api.post('/api/v1/upload').set('authorization', `Bearer ${token}`);
  for (let index = 0; index < count; index++) {
    call = call.attach('files', await productPhoto({ width: 900, height: 900, colour: '#1f618d', shape: 'box' }), `photo-${index}.jpg`);
  }
  const response = await call.expect(201);
  return response.body.job_id as string;
}

test('too few credits: 402 naming what is needed, nothing reserved, the job can be processed later', async () => {
  const token = await seller('short@example.com');
  const jobId = await upload(token, 4);
  const refused = await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'ebay' }).expect(402);
  expect(refused.body.error).toMatchObject({ code: 'insufficient_credits', needed: 12, available: 10 });
  expect((await api.get('/credits/balance').set('authorization', `Bearer ${token}`)).body).toEqual({ balance: 10, reserved: 0, available: 10 });
  const progress = await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${token}`).expect(200);
  expect(progress.body.status).toBe('uploaded');
});

test('bad settings are refused with the field named, before anything is reserved', async () => {
  const token = await seller('fussy@example.com');
  const jobId = await upload(token, 1);
  const refused = await api
    .post('/api/v1/process')
    .set('authorization', `Bearer ${token}`)
    .send({ job_id: jobId, pipeline: 'amazon', settings: { shadow: { opacity: 3 } } })
    .expect(400);
  expect(refused.body.error).toMatchObject({ code: 'invalid_settings', field: 'settings.shadow.opacity' });
  expect((await api.get('/credits/balance').set('authorization', `Bearer ${token}`)).body.reserved).toBe(0);
});

test('a photo refused by content moderation fails at once, is not retried and not charged', async () => {
  const token = await seller('refused@example.com');
  const jobId = await upload(token, 2);
  stack.sim.configure({ fault: 'data_inspection' });
  const before = stack.sim.stats.requests;
  await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'amazon' }).expect(202);
  const events = await readEvents(`${stack.gatewayUrl}/api/v1/progress/${jobId}/stream`, token, 60_000);
  const last = events.filter((event) => event.event === 'progress').at(-1)?.data as {
    status: string;
    failed: number;
    images: Array<{ status: string; error: { code: string; message: string } }>;
  };
  expect(last.status).toBe('failed');
  expect(last.failed).toBe(2);
  for (const image of last.images) {
    expect(image.status).toBe('failed');
    expect(image.error.code).toBe('content_refused');
    expect(image.error.message).toMatch(/content rules.*not charged/);
  }
  expect(stack.sim.stats.requests - before).toBe(2);
  expect((await api.get('/credits/balance').set('authorization', `Bearer ${token}`)).body).toEqual({ balance: 10, reserved: 0, available: 10 });
  await api.get(`/api/v1/download/${jobId}`).set('authorization', `Bearer ${token}`).expect(409);
});

test('a provider picture of another size and aspect still gives a centred 85% product on 2000x2000', async () => {
  const token = await seller('aspect@example.com');
  const jobId = await upload(token, 1);
  stack.sim.configure({ outputSize: { width: 1536, height: 640 } });
  await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'amazon' }).expect(202);
  await readEvents(`${stack.gatewayUrl}/api/v1/progress/${jobId}/stream`, token, 60_000);
  const progress = await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${token}`).expect(200);
  expect(progress.body.status).toBe('completed');
  const result = await getBinary(api, progress.body.images[0].result_url, token).expect(200);
  const picture = await inspectPicture(result.body as Buffer);
  expect(picture).toMatchObject({ width: 2000, height: 2000, borderPureWhite: true });
  // The photo's box is 2:3 (360x540): it must stay 2:3, not be stretched to the provider's frame.
  expect(picture.box!.width / picture.box!.height).toBeCloseTo(2 / 3, 1);
  expect(stack.sim.stats.succeeded).toBeGreaterThan(0);
  expect(Math.max(picture.box!.width, picture.box!.height) / 2000).toBeCloseTo(0.85, 1);
  const centreX = picture.box!.left + picture.box!.width / 2;
  expect(Math.abs(centreX - 1000)).toBeLessThanOrEqual(3);
});

test("another seller's job is not found, whatever they ask for", async () => {
  const owner = await seller('owner@example.com');
  const stranger = await seller('stranger@example.com');
  const jobId = await upload(owner, 1);
  for (const path of [`/api/v1/progress/${jobId}`, `/api/v1/progress/${jobId}/stream`, `/api/v1/download/${jobId}`]) {
    await api.get(path).set('authorization', `Bearer ${stranger}`).expect(404);
  }
  await api.post(`/api/v1/jobs/${jobId}/cancel`).set('authorization', `Bearer ${stranger}`).expect(404);
  await api.post('/api/v1/process').set('authorization', `Bearer ${stranger}`).send({ job_id: jobId, pipeline: 'amazon' }).expect(404);
  await api.get(`/api/v1/progress/${jobId}`).expect(401);
});

test('Bull Board is for admins only', async () => {
  const token = await seller('not-an-admin@example.com');
  await api.get('/admin/queues').expect(401);
  await api.get('/admin/queues').set('authorization', `Bearer ${token}`).expect(403);
  await api.get('/admin/queues').set('cookie', `mp_token=${token}`).expect(403);
});

test('the same upload and the same process request sent twice with one Idempotency-Key: one job, one reservation', async () => {
  const token = await seller('retrier@example.com');
  const photo = await productPhoto({ width: 900, height: 900, colour: '#a04000', shape: 'disc' });
  const send = () =>
    api.post('/api/v1/upload').set('authorization', `Bearer ${token}`).set('idempotency-key', 'upload-2026-11-23-0001').attach('files', photo, 'retry.jpg');
  const first = await send().expect(201);
  const again = await send().expect(201);
  expect(again.body.job_id).toBe(first.body.job_id);
  expect(again.headers['idempotent-replayed']).toBe('true');

  const process = () =>
    api.post('/api/v1/process').set('authorization', `Bearer ${token}`).set('idempotency-key', 'process-2026-11-23-0001').send({ job_id: first.body.job_id, pipeline: 'ebay' });
  const answers = await Promise.all([process(), process()]);
  const accepted = answers.filter((answer) => answer.status === 202);
  expect(accepted.length).toBeGreaterThanOrEqual(1);
  expect(answers.every((answer) => answer.status === 202 || answer.status === 409)).toBe(true);
  const replay = await process().expect(202);
  expect(replay.body).toEqual(accepted[0]!.body);
  // One reservation of 3 credits, whatever the retries: one picture charged in the end.
  const events = await readEvents(`${stack.gatewayUrl}/api/v1/progress/${first.body.job_id}/stream`, token, 60_000);
  expect(events.at(-1)?.event).toBe('done');
  expect((await api.get('/credits/balance').set('authorization', `Bearer ${token}`)).body).toEqual({ balance: 7, reserved: 0, available: 7 });
  await api.post('/api/v1/upload').set('authorization', `Bearer ${token}`).set('idempotency-key', 'bad key!').attach('files', photo, 'x.jpg').expect(400);
});
