import AdmZip from 'adm-zip';
import Stripe from 'stripe';
import request from 'supertest';
import { manifest as manifestSchema } from '@masterpost/contracts';
import { contractOf, type ExpectDocumented } from './contract';
import { getBinary, inspectPicture, productPhoto, zipOf } from './fixtures';
import { cleanUpAfter, readEvents, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * The seller's whole flow on the real services, Redis and Postgres: register, upload photos,
 * a corrupt file and a ZIP, process for Amazon, follow the stream, download, check the pixels
 * and the bill.
 */
jest.setTimeout(180_000);

const WEBHOOK_SECRET = 'whsec_e2e_secret';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '30', STRIPE_SECRET_KEY: 'sk_test_not_called_here', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
});

cleanUpAfter(() => stack);

let expectDocumented: ExpectDocumented;
beforeAll(async () => {
  expectDocumented = await contractOf(stack.gatewayUrl);
});

test('a seller turns five photos into Amazon-ready pictures and pays 3 credits for each', async () => {
  const api = request(stack.gatewayUrl);
  const registered = await api.post('/auth/register').send({ email: 'seller@example.com', password: 'correct horse battery' }).expect(201);
  const token = registered.body.access_token as string;
  expect(registered.body.credits).toEqual({ balance: 30, reserved: 0, available: 30 });
  expectDocumented('post', '/auth/register', 201, registered.body);

  const photos = await Promise.all([
    productPhoto({ width: 1200, height: 1000, colour: '#c0392b', shape: 'box' }),
    productPhoto({ width: 900, height: 1400, colour: '#2e86c1', shape: 'bottle' }),
    productPhoto({ width: 1600, height: 900, colour: '#1e8449', shape: 'disc' }),
  ]);
  const zipped = zipOf([
    { name: 'shoot/left.jpg', data: await productPhoto({ width: 1000, height: 1000, colour: '#8e44ad', shape: 'box' }) },
    { name: 'shoot/right.jpg', data: await productPhoto({ width: 1000, height: 1300, colour: '#d35400', shape: 'bottle' }) },
    { name: '__MACOSX/shoot/._left.jpg', data: Buffer.from('resource fork') },
  ]);
  const corrupt = photos[0]!.subarray(0, Math.floor(photos[0]!.length / 2));

  const upload = await api
    .post('/api/v1/upload')
    .set('authorization', `Bearer ${token}`)
    .attach('files', photos[0]!, 'red-box.jpg')
    .attach('files', photos[1]!, 'blue-bottle.jpg')
    .attach('files', photos[2]!, 'green-disc.jpg')
    .attach('files', corrupt, 'broken.jpg')
    .attach('files', zipped, 'shoot.zip')
    .expect(201);
  expect(upload.body.files_count).toBe(5);
  expect(upload.body.files.map((file: { filename: string }) => file.filename).sort()).toEqual(
    ['blue-bottle.jpg', 'green-disc.jpg', 'left.jpg', 'red-box.jpg', 'right.jpg'],
  );
  expect(upload.body.rejected).toEqual([expect.objectContaining({ filename: 'broken.jpg', code: 'corrupt_image' })]);
  expect(upload.body.estimate).toMatchObject({ credits_needed: 15, credits_available: 30, max_affordable_images: 5 });
  expectDocumented('post', '/api/v1/upload', 201, upload.body);

  const jobId = upload.body.job_id as string;
  const processed = await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'amazon' }).expect(202);
  expect(processed.body).toMatchObject({ job_id: jobId, status: 'queued', images: 5, credits_reserved: 15 });
  expectDocumented('post', '/api/v1/process', 202, processed.body);
  const during = await api.get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200);
  expect(during.body.available).toBeLessThanOrEqual(15);

  const events = await readEvents(`${stack.gatewayUrl}/api/v1/progress/${jobId}/stream`, token, 120_000);
  expect(events.at(-1)?.event).toBe('done');
  const last = events.filter((event) => event.event === 'progress').at(-1)?.data as { status: string; completed: number; failed: number; percentage: number };
  expect(last).toMatchObject({ status: 'completed', completed: 5, failed: 0, percentage: 100 });
  for (const event of events.filter((candidate) => candidate.event === 'progress')) expectDocumented('get', '/api/v1/progress/{jobId}', 200, event.data);
  expectDocumented('get', '/api/v1/progress/{jobId}', 200, (await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${token}`).expect(200)).body);

  const download = await getBinary(api, `/api/v1/download/${jobId}`, token).expect(200);
  expect(download.headers['content-type']).toBe('application/zip');
  const zip = new AdmZip(download.body as Buffer);
  const names = zip.getEntries().map((entry) => entry.entryName).sort();
  expect(names).toEqual(['blue-bottle.jpg', 'green-disc.jpg', 'left.jpg', 'manifest.json', 'red-box.jpg', 'right.jpg']);

  for (const entry of zip.getEntries().filter((candidate) => candidate.entryName.endsWith('.jpg'))) {
    const picture = await inspectPicture(entry.getData());
    expect({ name: entry.entryName, format: picture.format, width: picture.width, height: picture.height, border: picture.borderPureWhite }).toEqual({
      name: entry.entryName,
      format: 'jpeg',
      width: 2000,
      height: 2000,
      border: true,
    });
    const longest = Math.max(picture.box!.width, picture.box!.height) / 2000;
    expect(longest).toBeGreaterThanOrEqual(0.84);
    expect(longest).toBeLessThanOrEqual(0.86);
  }

  const manifest = JSON.parse(zip.getEntry('manifest.json')!.getData().toString('utf8')) as {
    images: Array<{ source_name: string; output_name: string; status: string; compliance: { passed: boolean } }>;
  };
  expect(manifest.images).toHaveLength(5);
  // manifest.json is described in the contracts (the document names it in the download's answer).
  expect(manifestSchema.safeParse(manifest).error).toBeUndefined();
  for (const image of manifest.images) {
    expect(image.status).toBe('done');
    expect(image.compliance.passed).toBe(true);
  }

  const balance = await api.get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200);
  expect(balance.body).toEqual({ balance: 15, reserved: 0, available: 15 });
  expectDocumented('get', '/credits/balance', 200, balance.body);
  const history = await api.get('/credits/history').set('authorization', `Bearer ${token}`).expect(200);
  expectDocumented('get', '/credits/history', 200, history.body);
  // Errors too: one body, its code among those the document lists.
  expectDocumented('get', '/credits/balance', 401, (await api.get('/credits/balance').expect(401)).body);
  expectDocumented('post', '/api/v1/process', 409, (await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'amazon' }).expect(409)).body);
  expect(stack.sim.stats.succeeded).toBe(5);
});

test('the catalog a client builds its choices from is the price charged and the presets applied', async () => {
  const catalog = await request(stack.gatewayUrl).get('/api/v1/catalog').expect(200);
  expectDocumented('get', '/api/v1/catalog', 200, catalog.body);
  // 3 credits, as the first test's bill shows; Amazon's 2000 px JPEG, as its pictures are.
  expect(catalog.body.credits_per_picture).toBe(3);
  expect(catalog.body.pipelines.map((pipeline: { id: string }) => pipeline.id)).toEqual(['amazon', 'ebay', 'instagram', 'shopify', 'etsy']);
  expect(catalog.body.pipelines[0]).toMatchObject({ id: 'amazon', canvas: { width: 2000, height: 2000 }, format: 'jpeg' });
  expect(catalog.body.upload.accepted).toEqual(expect.arrayContaining(['jpeg', 'png', 'zip']));
  // The reference page reads the document the gateway serves.
  const docs = await request(stack.gatewayUrl).get('/docs').expect(200);
  expect(docs.headers['content-type']).toContain('text/html');
  expect(docs.text).toContain('data-url="/openapi.json"');
});

test('a seller buys a pack: Stripe\'s signed event reaches billing through the public webhook path, credited once', async () => {
  const api = request(stack.gatewayUrl);
  const registered = await api.post('/auth/register').send({ email: 'buyer@example.com', password: 'correct horse battery' }).expect(201);
  const token = registered.body.access_token as string;
  const userId = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }).sub;
  const body = JSON.stringify({
    id: 'evt_e2e_1', object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000), livemode: false,
    data: { object: { id: 'cs_test_e2e', object: 'checkout.session', payment_status: 'paid', amount_total: 1000, payment_intent: 'pi_e2e',
      metadata: { user_id: userId, pack_id: 'pro' } } },
  });
  const stripe = new Stripe('sk_test_unused');
  for (let delivery = 0; delivery < 2; delivery++) {
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
    await api.post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', header).send(body).expect(200);
  }
  await api.post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', 't=1,v1=forged').send(body).expect(400);
  expect((await api.get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200)).body).toEqual({ balance: 130, reserved: 0, available: 130 });
});

test('a seller\'s past jobs are listed newest first with their counts and credits, a page at a time, and only theirs', async () => {
  const api = request(stack.gatewayUrl);
  const seller = await Seller.register(stack.gatewayUrl, 'history@example.com');
  const photos = await distinctPhotos(3, 40);
  const processed = await seller.upload(photos.slice(0, 2));
  await seller.process(processed, 'etsy');
  await seller.waitUntilFinished(processed, 90_000);
  const leftUploaded = await seller.upload(photos.slice(2));
  const newest = await seller.upload(photos.slice(2));
  const other = await Seller.register(stack.gatewayUrl, 'someone-else@example.com');
  await other.upload(photos.slice(0, 1));

  const first = await api.get('/api/v1/jobs?limit=2').set('authorization', `Bearer ${seller.token}`).expect(200);
  expectDocumented('get', '/api/v1/jobs', 200, first.body);
  expect(first.body.jobs.map((job: { job_id: string }) => job.job_id)).toEqual([newest, leftUploaded]);
  expect(first.body.jobs[0]).toMatchObject({ status: 'uploaded', pipeline: null, total: 1, completed: 0, credits_charged: 0, files_deleted: false });
  expect(first.body.next_cursor).toEqual(expect.any(String));

  const second = await api.get(`/api/v1/jobs?limit=2&cursor=${first.body.next_cursor}`).set('authorization', `Bearer ${seller.token}`).expect(200);
  expect(second.body.jobs).toEqual([
    expect.objectContaining({ job_id: processed, status: 'completed', pipeline: 'etsy', total: 2, completed: 2, failed: 0, credits_charged: 6, finished_at: expect.any(String) }),
  ]);
  expect(second.body.next_cursor).toBeNull();

  const refused = await api.get('/api/v1/jobs?cursor=not-a-cursor').set('authorization', `Bearer ${seller.token}`).expect(400);
  expect(refused.body.error).toMatchObject({ code: 'invalid_input', field: 'cursor' });
});
