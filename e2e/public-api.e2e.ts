import http from 'node:http';
import request from 'supertest';
import { masterpostClient } from '@masterpost/client';
import { presets, pipelineIds, publicRoutes, type PipelineId } from '@masterpost/contracts';
import { contractOf, type ExpectDocumented } from './contract';
import { binaryBody, getBinary, inspectPicture, productPhoto } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';

/**
 * The integrator's side (issue 16): API keys through their whole life on two gateways, one
 * picture in one call for every marketplace, the 202 + Location past the wait, a refused picture
 * charged nothing, the request id, and a picture too large refused before it is read. Every JSON
 * answer is checked against the OpenAPI document the gateway serves.
 */
jest.setTimeout(240_000);

let stack: TestStack;
let secondGateway: string;
let expectDocumented: ExpectDocumented;
const IMAGE_MAX_BYTES = 4 * 1024 * 1024;
const UPLOADS_PER_MINUTE = 12;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '60', LOG_LEVEL: 'info', IMAGE_MAX_BYTES: String(IMAGE_MAX_BYTES), RATE_LIMIT_UPLOADS_PER_MINUTE: String(UPLOADS_PER_MINUTE) } });
  secondGateway = (await stack.startGateway('gateway-2')).url;
  expectDocumented = await contractOf(stack.gatewayUrl);
});

cleanUpAfter(() => stack);

async function seller(email: string): Promise<string> {
  const answer = await request(stack.gatewayUrl).post('/auth/register').send({ email, password: 'correct horse battery' }).expect(201);
  return answer.body.access_token as string;
}

const balanceOf = async (token: string) => (await request(stack.gatewayUrl).get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200)).body as { available: number };

test('an API key: shown once, used on every seller route and the one-call route, listed with its last use, revoked: 401 on both gateways at once', async () => {
  const token = await seller('integrator@example.com');
  const api = request(stack.gatewayUrl);
  // The typed client generated from the document: a call the document lacks would not compile.
  const signedIn = masterpostClient({ baseUrl: stack.gatewayUrl, accessToken: token });
  const made = await signedIn.POST('/api/v1/keys', { body: { name: 'shop sync' } });
  expect(made.response.status).toBe(201);
  expectDocumented('post', '/api/v1/keys', 201, made.data);
  const key = made.data!.key;
  expect(key).toMatch(/^mp_[A-Za-z0-9_-]{43}$/);

  const listed = await signedIn.GET('/api/v1/keys');
  expectDocumented('get', '/api/v1/keys', 200, listed.data);
  expect(listed.data!.keys).toEqual([expect.objectContaining({ id: made.data!.id, name: 'shop sync', prefix: key.slice(0, 10), last_used_at: null, revoked_at: null })]);
  expect(JSON.stringify(listed.data)).not.toContain(key);

  // The key does what a session does: upload, process, progress, download.
  const photo = await productPhoto({ width: 900, height: 900, colour: '#c0392b', shape: 'box' });
  const upload = await api.post('/api/v1/upload').set('x-api-key', key).attach('files', photo, 'red.jpg').expect(201);
  const jobId = upload.body.job_id as string;
  await api.post('/api/v1/process').set('x-api-key', key).send({ job_id: jobId, pipeline: 'ebay' }).expect(202);
  let finished = false;
  for (let tries = 0; tries < 120 && !finished; tries++) {
    const progress = await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${key}`).expect(200);
    finished = progress.body.finished as boolean;
    if (!finished) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  expect(finished).toBe(true);
  const zip = await api.get(`/api/v1/download/${jobId}`).set('x-api-key', key).buffer(true).parse(binaryBody).expect(200);
  expect(zip.headers['content-type']).toBe('application/zip');
  // And the one-call route, on the other gateway.
  const one = await request(secondGateway).post('/api/v1/pictures').set('x-api-key', key).field('pipeline', 'shopify').attach('image', photo, 'red.jpg').buffer(true).parse(binaryBody).expect(200);
  expect(one.headers['x-credits-charged']).toBe('3');

  const used = await signedIn.GET('/api/v1/keys');
  expect(used.data!.keys[0]!.last_used_at).not.toBeNull();
  const withKey = masterpostClient({ baseUrl: secondGateway, apiKey: key });
  expect((await withKey.GET('/credits/balance')).data).toMatchObject({ available: expect.any(Number) });
  // A key cannot make or revoke keys: one that leaks cannot outlive its revocation.
  expect((await withKey.POST('/api/v1/keys', { body: { name: 'from a key' } })).response.status).toBe(401);
  // Every route the document keeps for a session (its security names the bearer token alone) refuses the key.
  const sessionOnly = publicRoutes.filter((route) => route.access === 'session');
  expect(sessionOnly.map((route) => `${route.method} ${route.path}`).sort()).toEqual(['delete /api/v1/keys/{keyId}', 'get /api/v1/keys', 'post /api/v1/keys', 'post /auth/password']);
  for (const route of sessionOnly) {
    const path = route.path.replace('{keyId}', made.data!.id);
    const answer = await request(secondGateway)[route.method as 'get' | 'post' | 'delete'](path).set('x-api-key', key).send({ name: 'x', password: 'another horse battery staple' });
    expect({ route: route.path, status: answer.status }).toEqual({ route: route.path, status: 401 });
  }

  const revoked = await signedIn.DELETE('/api/v1/keys/{keyId}', { params: { path: { keyId: made.data!.id } } });
  expectDocumented('delete', '/api/v1/keys/{keyId}', 200, revoked.data);
  expect(revoked.data!.revoked_at).not.toBeNull();
  for (const gateway of [stack.gatewayUrl, secondGateway]) {
    const refused = await masterpostClient({ baseUrl: gateway, apiKey: key }).GET('/credits/balance');
    expect(refused.response.status).toBe(401);
    expect(refused.error?.error.code).toBe('unauthorized');
    await request(gateway).get('/credits/balance').set('authorization', `Bearer ${key}`).expect(401);
  }
  // A session still works; the key is in no log line of any service.
  await api.get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200);
  expect(stack.logs()).not.toContain(key);
});

test('one picture in one call, for every marketplace: its bytes, with headers that say what they are and what they cost', async () => {
  const token = await seller('one-call@example.com');
  const photo = await productPhoto({ width: 1000, height: 1200, colour: '#2e86c1', shape: 'bottle' });
  const before = (await balanceOf(token)).available;
  for (const [index, pipeline] of pipelineIds.entries()) {
    const call = request(stack.gatewayUrl).post('/api/v1/pictures').set('authorization', `Bearer ${token}`).buffer(true).parse(binaryBody);
    // Both ways of sending it: multipart, and the raw body with its content type.
    const answer = index % 2 === 0
      ? await call.field('pipeline', pipeline).attach('image', photo, 'bottle.jpg').expect(200)
      : await call.query({ pipeline }).set('content-type', 'image/jpeg').send(photo).expect(200);
    const preset = presets[pipeline as PipelineId];
    const picture = await inspectPicture(answer.body as Buffer);
    expect({
      pipeline,
      type: answer.headers['content-type'],
      width: answer.headers['x-width'],
      height: answer.headers['x-height'],
      charged: answer.headers['x-credits-charged'],
      compliance: answer.headers['x-compliance'],
      shadow: answer.headers['x-shadow'],
    }).toEqual({
      pipeline,
      type: `image/${preset.format}`,
      width: String(picture.width),
      height: String(picture.height),
      charged: '3',
      compliance: 'pass',
      shadow: preset.shadow.type,
    });
    expect(picture.width).toBe(preset.canvas.width);
    // The coverage header is the product's share of the canvas, as the bytes show it.
    const measured = Math.max(picture.box!.width / picture.width, picture.box!.height / picture.height);
    expect(Number(answer.headers['x-coverage'])).toBeCloseTo(measured, 1);
    const pictureId = answer.headers['x-picture-id'] as string;
    const record = await request(stack.gatewayUrl).get(`/api/v1/pictures/${pictureId}`).set('authorization', `Bearer ${token}`).set('accept', 'application/json').expect(200);
    expectDocumented('get', '/api/v1/pictures/{pictureId}', 200, record.body);
    expect(record.body).toMatchObject({ picture_id: pictureId, status: 'done', pipeline, credits_charged: 3 });
  }
  expect((await balanceOf(token)).available).toBe(before - 3 * pipelineIds.length);
});

test('past the wait: 202 with a Location that later answers the picture', async () => {
  const token = await seller('patient@example.com');
  stack.sim.configure({ latencyMs: 4000 });
  try {
    const photo = await productPhoto({ width: 900, height: 900, colour: '#1e8449', shape: 'disc' });
    const pending = await request(stack.gatewayUrl).post('/api/v1/pictures').set('authorization', `Bearer ${token}`)
      .field('pipeline', 'amazon').field('wait', '1').attach('image', photo, 'disc.jpg').expect(202);
    expectDocumented('post', '/api/v1/pictures', 202, pending.body);
    expect(pending.headers['retry-after']).toBe('5');
    const location = pending.headers.location as string;
    expect(location).toBe(`/api/v1/pictures/${pending.body.picture_id}`);
    const later = await getBinary(request(stack.gatewayUrl), `${location}?wait=60`, token).expect(200);
    expect(later.headers['content-type']).toBe('image/jpeg');
    expect(later.headers['x-credits-charged']).toBe('3');
    expect((await inspectPicture(later.body as Buffer)).width).toBe(2000);
  } finally {
    stack.sim.configure({ latencyMs: 0 });
  }
});

test('a picture the provider refuses: the error body says why, and nothing is charged', async () => {
  const token = await seller('refused@example.com');
  const before = await balanceOf(token);
  stack.sim.configure({ fault: 'data_inspection' });
  try {
    const photo = await productPhoto({ width: 900, height: 900, colour: '#8e44ad', shape: 'box' });
    const refused = await request(stack.gatewayUrl).post('/api/v1/pictures').set('authorization', `Bearer ${token}`)
      .field('pipeline', 'etsy').attach('image', photo, 'box.jpg').expect(422);
    expectDocumented('post', '/api/v1/pictures', 422, refused.body);
    expect(refused.body.error).toMatchObject({ code: 'picture_failed', reason: { code: expect.any(String) } });
    expect(refused.headers['x-credits-charged']).toBe('0');
  } finally {
    stack.sim.configure({ fault: 'none' });
  }
  expect(await balanceOf(token)).toEqual(before);
});

test('the same Idempotency-Key twice: one picture, charged once, answered twice', async () => {
  const token = await seller('retrying@example.com');
  const photo = await productPhoto({ width: 900, height: 900, colour: '#d35400', shape: 'bottle' });
  const send = () => request(stack.gatewayUrl).post('/api/v1/pictures').set('authorization', `Bearer ${token}`).set('idempotency-key', 'shop-order-4711-photo-1')
    .field('pipeline', 'amazon').attach('image', photo, 'bottle.jpg').buffer(true).parse(binaryBody).expect(200);
  const first = await send();
  const again = await send();
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.headers['x-picture-id']).toBe(first.headers['x-picture-id']);
  expect(Buffer.compare(again.body as Buffer, first.body as Buffer)).toBe(0);
  expect((await balanceOf(token)).available).toBe(60 - 3);
});

test('past the rate limit: 429 with Retry-After and the IETF RateLimit headers', async () => {
  const token = await seller('hasty@example.com');
  const call = () => request(stack.gatewayUrl).post('/api/v1/pictures').set('authorization', `Bearer ${token}`).query({ pipeline: 'amazon' });
  const first = await call().expect(400);
  // draft-ietf-httpapi-ratelimit-headers-08: the policy (quota q in window w) and what is left (r).
  expect(first.headers['ratelimit-policy']).toMatch(/q=12; w=60/);
  expect(first.headers.ratelimit).toMatch(/r=11/);
  for (let sent = 1; sent < UPLOADS_PER_MINUTE; sent++) await call().expect(400);
  const limited = await call().expect(429);
  expectDocumented('post', '/api/v1/pictures', 429, limited.body);
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(limited.headers.ratelimit).toMatch(/r=0/);
});

test('every answer carries a request id, found in the log lines of every service the request touched', async () => {
  const token = await seller('traced@example.com');
  const answer = await request(stack.gatewayUrl).get('/credits/balance').set('authorization', `Bearer ${token}`).set('x-request-id', 'trace-me-0001').expect(200);
  expect(answer.headers['x-request-id']).toBe('trace-me-0001');
  const fresh = await request(stack.gatewayUrl).get('/api/v1/catalog').expect(200);
  expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  // A picture made in one call: the gateway, billing (the hold, the capture) and the processor that made it.
  const photo = await productPhoto({ width: 900, height: 900, colour: '#117a65', shape: 'disc' });
  await request(stack.gatewayUrl).post('/api/v1/pictures').set('authorization', `Bearer ${token}`).set('x-request-id', 'trace-me-0002')
    .field('pipeline', 'ebay').attach('image', photo, 'disc.jpg').buffer(true).parse(binaryBody).expect(200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const servicesNaming = (id: string) => [...new Set(stack.logs().split('\n').filter((line) => line.includes(id)).map((line) => (JSON.parse(line) as { name: string }).name))].sort();
  expect(servicesNaming('trace-me-0001')).toEqual(['billing', 'gateway']);
  expect(servicesNaming('trace-me-0002')).toEqual(['billing', 'gateway', 'processor']);
});

test('a picture larger than allowed is refused 413 before the rest is read; several files, one too large, a 400 naming each', async () => {
  const token = await seller('large@example.com');
  const url = new URL('/api/v1/pictures?pipeline=amazon', stack.gatewayUrl);
  const declared = 300 * 1024 * 1024;
  const { status, body, sent } = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', 'content-length': String(declared) } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), sent }));
    });
    // Writing into a connection the gateway has closed fails (EPIPE): that is the point, once answered.
    req.on('error', (error) => {
      if (!answered) setTimeout(() => (answered ? undefined : reject(error)), 2000);
    });
    req.flushHeaders();
    const chunk = Buffer.alloc(64 * 1024);
    // The headers go first and the body slowly after: the answer comes long before 300 MB could have been sent.
    const timer = setInterval(() => {
      if (answered || sent >= 8 * 1024 * 1024) return clearInterval(timer);
      sent += chunk.length;
      req.write(chunk);
    }, 20);
    req.on('close', () => clearInterval(timer));
  });
  expect(status).toBe(413);
  expect(JSON.parse(body).error.code).toBe('upload_too_large');
  expect(sent).toBeLessThan(declared / 10);

  const oversized = Buffer.concat([await productPhoto({ width: 900, height: 900, colour: '#d35400', shape: 'box' }), Buffer.alloc(IMAGE_MAX_BYTES)]);
  const several = await request(stack.gatewayUrl).post('/api/v1/upload').set('authorization', `Bearer ${token}`)
    .attach('files', oversized, 'huge.jpg').attach('files', Buffer.from('not a picture'), 'notes.jpg').expect(400);
  expect(several.body.error.rejected).toEqual([
    expect.objectContaining({ filename: 'huge.jpg', code: 'image_too_large' }),
    expect.objectContaining({ filename: 'notes.jpg', code: 'unsupported_file' }),
  ]);
});
