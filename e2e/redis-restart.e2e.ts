import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import request from 'supertest';
import { freePort } from '../scripts/stack';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * Reliability 19: Redis restarts. While it is down the gateway answers 503 and reserves nothing,
 * and readiness (the gateway's and the processor's, which probes the workers' own connection)
 * says Redis is down; when it is back the workers reconnect by themselves and every picture queued
 * before the outage is delivered and paid once. The stack gets a Redis of its own, kept on disk
 * with an append-only file as docker-compose runs it, so the restart touches no other test file.
 */
jest.setTimeout(180_000);

class PrivateRedis {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(path.join(os.tmpdir(), 'masterpost-redis-')));
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // fsync on every write: a kill loses nothing, as a restart in production must not.
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
    this.child = spawn('redis-server', [...args, '--maxmemory-policy', 'noeviction', '--dir', this.dir], { stdio: 'ignore' });
    const probe = new IORedis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        // Loading the append-only file answers LOADING until the data is back.
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server did not start on ${this.port}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** A crash, not a shutdown: nothing is saved on the way out. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }

  async remove(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let redis: PrivateRedis;
let stack: TestStack;

beforeAll(async () => {
  redis = await PrivateRedis.start();
  // Each Qwen call takes a second and a half, so the outage falls in the middle of the batch.
  stack = await startTestStack({ redisUrl: redis.url, env: { SIGNUP_CREDITS: '30' }, sim: { latencyMs: 1500 } });
});
cleanUpAfter(() => stack);
afterAll(() => redis.remove());

async function ready(url: string): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, checks: ((await response.json()) as { checks: Record<string, string> }).checks };
}

test('Redis killed mid-batch: 503 and nothing reserved meanwhile, then every queued picture delivered and paid once', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'outage@example.com');
  const queuedJob = await seller.upload(await distinctPhotos(4, 9100));
  const laterJob = await seller.upload(await distinctPhotos(1, 9200));
  await seller.process(queuedJob, 'amazon');
  const deadline = Date.now() + 30_000;
  while (stack.sim.stats.accepted < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(stack.sim.stats.accepted).toBeGreaterThanOrEqual(1);

  await redis.kill();

  const api = request(stack.gatewayUrl);
  const refused = await api.post('/api/v1/process').set('authorization', `Bearer ${seller.token}`).send({ job_id: laterJob, pipeline: 'amazon' });
  expect(refused.status).toBe(503);
  // A client is told when to try again.
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(refused.body.error).toMatchObject({ code: 'service_unavailable' });
  expect(refused.body.error.message).toMatch(/nothing was charged/);
  const gatewayReady = await ready(stack.gatewayUrl);
  expect(gatewayReady.status).toBe(503);
  expect(gatewayReady.checks.redis).toMatch(/^down/);
  const processor = stack.services.find((service) => service.name.startsWith('processor'))!;
  const processorReady = await ready(processor.url);
  expect(processorReady.status).toBe(503);
  expect(processorReady.checks.redis).toMatch(/^down/);

  await new Promise((resolve) => setTimeout(resolve, 2000));
  await redis.start();

  const delivered = await seller.waitUntilFinished(queuedJob, 120_000);
  expect(delivered).toMatchObject({ status: 'completed', completed: 4, failed: 0, credits_charged: 12 });
  // The refused request reserved nothing: only the first job's pictures were paid for.
  expect(await seller.balance()).toEqual({ balance: 18, reserved: 0, available: 18 });
  expect((await ready(stack.gatewayUrl)).status).toBe(200);
  expect((await ready(processor.url)).status).toBe(200);

  await seller.process(laterJob, 'amazon');
  expect(await seller.waitUntilFinished(laterJob, 60_000)).toMatchObject({ status: 'completed', completed: 1, credits_charged: 3 });
  expect(await seller.balance()).toEqual({ balance: 15, reserved: 0, available: 15 });
  // One paid Qwen call a picture: the outage made no picture go to the provider twice.
  expect(Object.values(stack.sim.stats.billedByImage).sort()).toEqual([1, 1, 1, 1, 1]);
});
