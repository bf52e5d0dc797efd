import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, eventually, Seller } from './seller';

/**
 * Completion webhooks (issue 17, part 1) on the real services: signed as Standard Webhooks sign
 * (checked here by an implementation of its algorithm written in this file, not ours), retried
 * on 5xx until delivered once, redelivered with the same id, a rotated secret signing beside the
 * old one, URLs inside a network refused, a 4xx not retried and an endpoint failing for good
 * turned off with a notice, and a slow receiver that does not slow the pictures.
 */
jest.setTimeout(180_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    env: { SIGNUP_CREDITS: '60', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_DISABLE_AFTER_MS: '0' },
  });
});
cleanUpAfter(() => stack);

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

/** A receiver on loopback: answers what `answer` says (status, and after how long) and keeps every request. */
async function receiver(answer: (count: number) => { status: number; delayMs?: number }): Promise<{ url: string; received: Received[]; answered: number[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const answered: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const { status, delayMs } = answer(received.length);
      setTimeout(() => {
        answered.push(status);
        res.writeHead(status).end('ok');
      }, delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    answered,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Standard Webhooks' verification, as its specification writes it: base64 HMAC-SHA256 of `id.timestamp.body` with the secret's bytes. */
function verifiesWith(secret: string, message: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${message.id}.${message.timestamp}.${message.body}`).digest();
  return message.signature.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

async function register(seller: Seller, url: string, events: string[]): Promise<{ id: string; secret: string }> {
  const made = await request(stack.gatewayUrl).post('/api/v1/webhooks').set('authorization', `Bearer ${seller.token}`).send({ url, events }).expect(201);
  return made.body as { id: string; secret: string };
}

async function deliveriesOf(seller: Seller, endpointId: string) {
  const answer = await request(stack.gatewayUrl).get(`/api/v1/webhooks/${endpointId}/deliveries`).set('authorization', `Bearer ${seller.token}`).expect(200);
  return answer.body.deliveries as Array<{ id: string; event_id: string; event_type: string; status: string; attempts: Array<{ status: number | null; latency_ms: number }> }>;
}

test('a job of two pictures: each picture and the job announced once, signed, to a receiver that answered 500 three times first', async () => {
  const hooks = await receiver((count) => ({ status: count <= 3 ? 500 : 200 }));
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'hooks@example.com');
    const endpoint = await register(seller, hooks.url, ['picture.done', 'job.completed']);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const jobId = await seller.upload(await distinctPhotos(2, 7100));
    await seller.process(jobId);
    await seller.waitUntilFinished(jobId, 90_000);

    const deliveries = await eventually('three deliveries delivered', async () => {
      const all = await deliveriesOf(seller, endpoint.id);
      return all.length === 3 && all.every((delivery) => delivery.status === 'delivered') ? all : undefined;
    }, 60_000);
    expect(deliveries.map((delivery) => delivery.event_type).sort()).toEqual(['job.completed', 'picture.done', 'picture.done']);
    // Every message verifies; the three 500s were retries of events, each delivered (2xx) once.
    for (const message of hooks.received) expect(verifiesWith(endpoint.secret, message)).toBe(true);
    const delivered = hooks.received.filter((_message, index) => hooks.answered[index] === 200).map((message) => message.id);
    expect(delivered.sort()).toEqual(deliveries.map((delivery) => delivery.event_id).sort());
    expect(hooks.received.length).toBe(6);
    const retried = deliveries.find((delivery) => delivery.attempts.length > 1)!;
    expect(retried.attempts.map((attempt) => attempt.status).slice(-1)).toEqual([200]);
    expect(retried.attempts.every((attempt) => attempt.latency_ms >= 0)).toBe(true);
    const job = JSON.parse(hooks.received.find((message) => message.body.includes('job.completed'))!.body) as { type: string; data: { job_id: string; delivered: number } };
    expect(job).toMatchObject({ type: 'job.completed', data: { job_id: jobId, delivered: 2 } });

    // Redelivered at the seller's request: the same event id, signed again.
    const again = deliveries[0]!;
    await request(stack.gatewayUrl).post(`/api/v1/webhooks/${endpoint.id}/deliveries/${again.id}/redeliver`).set('authorization', `Bearer ${seller.token}`).expect(202);
    await eventually('the redelivery', async () => (hooks.received.length === 7 ? true : undefined), 30_000);
    expect(hooks.received[6]!.id).toBe(again.event_id);
    // While it is being tried it is not started twice; once delivered it may be sent again.
    const redelivered = async () => ((await deliveriesOf(seller, endpoint.id)).find((delivery) => delivery.id === again.id)!.status === 'delivered' ? true : undefined);
    await eventually('the redelivery recorded', redelivered, 30_000);
    expect(verifiesWith(endpoint.secret, hooks.received[6]!)).toBe(true);

    // A rotated secret: the next delivery is signed with both while the old one overlaps.
    const rotated = await request(stack.gatewayUrl).post(`/api/v1/webhooks/${endpoint.id}/rotate-secret`).set('authorization', `Bearer ${seller.token}`).send({ overlap_seconds: 3600 }).expect(200);
    await request(stack.gatewayUrl).post(`/api/v1/webhooks/${endpoint.id}/deliveries/${again.id}/redeliver`).set('authorization', `Bearer ${seller.token}`).expect(202);
    await eventually('the delivery after rotation', async () => (hooks.received.length === 8 ? true : undefined), 30_000);
    expect(verifiesWith(rotated.body.secret as string, hooks.received[7]!)).toBe(true);
    expect(verifiesWith(endpoint.secret, hooks.received[7]!)).toBe(true);
    expect(verifiesWith(rotated.body.secret as string, hooks.received[6]!)).toBe(false);
  } finally {
    await hooks.close();
  }
});

test('URLs inside a network, with credentials or of another scheme are refused at registration', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'ssrf@example.com');
  const refused = async (url: string, why: RegExp) => {
    const answer = await request(stack.gatewayUrl).post('/api/v1/webhooks').set('authorization', `Bearer ${seller.token}`).send({ url, events: ['job.completed'] }).expect(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_input', field: 'url' });
    expect(answer.body.error.message).toMatch(why);
  };
  // 127.0.0.1 is allowed by the operator's list; the same address under another name is not.
  await refused('http://localhost:9/hooks', /resolves to 127\.0\.0\.1/);
  await refused('http://10.0.0.1/hooks', /10\.0\.0\.1/);
  await refused('http://169.254.169.254/latest/meta-data', /169\.254\.169\.254/);
  await refused('http://[::1]/hooks', /::1/);
  await refused('http://user:secret@example.com/hooks', /credentials/);
  await refused('ftp://example.com/hooks', /http/);
});

test('a 4xx is not retried; an endpoint failing for good is turned off, its seller has a notice and their other endpoints an event', async () => {
  const gone = await receiver(() => ({ status: 410 }));
  const watcher = await receiver(() => ({ status: 204 }));
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'gone@example.com');
    const endpoint = await register(seller, gone.url, ['picture.done', 'job.completed']);
    const watching = await register(seller, watcher.url, ['endpoint.disabled']);
    const jobId = await seller.upload(await distinctPhotos(1, 7200));
    await seller.process(jobId);
    await seller.waitUntilFinished(jobId, 90_000);
    const deliveries = await eventually('both deliveries failed', async () => {
      const all = await deliveriesOf(seller, endpoint.id);
      return all.length === 2 && all.every((delivery) => delivery.status === 'failed') ? all : undefined;
    }, 30_000);
    // One attempt each: 410 is an answer, not a fault to retry.
    expect(deliveries.map((delivery) => delivery.attempts.length)).toEqual([1, 1]);
    const listed = await request(stack.gatewayUrl).get('/api/v1/webhooks').set('authorization', `Bearer ${seller.token}`).expect(200);
    expect(listed.body.endpoints[0]).toMatchObject({ id: endpoint.id, disabled_reason: 'answered 410' });
    expect(listed.body.endpoints[0].disabled_at).not.toBeNull();
    const client = new Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      const notices = await client.query<{ kind: string; body: string }>(
        `select n.kind, n.body from notices n join users u on u.id = n.user_id where u.email = 'gone@example.com'`,
      );
      expect(notices.rows).toEqual([expect.objectContaining({ kind: 'webhook_disabled', body: expect.stringContaining(gone.url) })]);
    } finally {
      await client.end();
    }
    await eventually('the other endpoint told', async () => (watcher.received.length === 1 ? true : undefined), 30_000);
    const told = JSON.parse(watcher.received[0]!.body) as { type: string; data: { endpoint_id: string; url: string; reason: string } };
    expect(told).toMatchObject({ type: 'endpoint.disabled', data: { endpoint_id: endpoint.id, url: gone.url, reason: 'answered 410' } });
    expect(verifiesWith(watching.secret, watcher.received[0]!)).toBe(true);
  } finally {
    await gone.close();
    await watcher.close();
  }
});

test('a receiver that takes its time does not slow the pictures', async () => {
  const slow = await receiver(() => ({ status: 200, delayMs: 10_000 }));
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'slow@example.com');
    await register(seller, slow.url, ['picture.done', 'job.completed']);
    const jobId = await seller.upload(await distinctPhotos(3, 7300));
    await seller.process(jobId);
    const done = await seller.waitUntilFinished(jobId, 60_000);
    expect(done.completed).toBe(3);
    // The job ended while its announcements were still waiting on the receiver.
    expect(slow.received.length).toBeGreaterThan(0);
    expect(slow.answered.length).toBe(0);
  } finally {
    await slow.close();
  }
});
