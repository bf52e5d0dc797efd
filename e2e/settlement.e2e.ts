import IORedis from 'ioredis';
import sharp from 'sharp';
import { storageKey } from '@masterpost/contracts';
import { BillingClient, createLogger, createPool, LocalStorage, Slots, type Pool } from '@masterpost/platform';
import { ImagesRepository } from '../services/processor/src/adapters/images.repository';
import request from 'supertest';
import { ImageProcessHandler } from '../services/processor/src/handlers/image-process.handler';
import { JobFinalizeHandler } from '../services/processor/src/handlers/job-finalize.handler';
import { createRenderPool } from '../services/processor/src/render/render-pool';
import { createProcessorMetrics } from '../services/processor/src/metrics';
import { FleetGate } from '../services/processor/src/qwen/fleet-gate';
import { loadPrompts } from '../services/processor/src/qwen/prompts';
import { qwenCacheKey, QwenOutputService, TwinInFlightError } from '../services/processor/src/qwen/qwen-output.service';
import { QwenClient } from '../services/processor/src/qwen/qwen.client';
import { DEFAULT_RESULT_HOSTS, parseResolveRules } from '../services/processor/src/qwen/result-hosts';
import { SpendGuard } from '../services/processor/src/qwen/spend-guard';
import { ImageSettlement } from '../services/processor/src/settlement/image-settlement';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * The settlement's races, replayed one at a time against the real billing service, Postgres,
 * Redis and the DashScope stand-in, with the processor's own classes driven by the test (no
 * processor runs, so nothing else moves the pictures): the order of events each case needs is
 * then exact rather than left to timing.
 */
jest.setTimeout(120_000);

let stack: TestStack;
let pool: Pool;
let redis: IORedis;
let repo: ImagesRepository;
let storage: LocalStorage;
let settlement: ImageSettlement;
let billing: BillingClient;
const logger = createLogger('settlement-test', 'silent');

beforeAll(async () => {
  stack = await startTestStack({ processors: 0, env: { SIGNUP_CREDITS: '30' } });
  pool = createPool(stack.databaseUrl);
  redis = new IORedis(stack.env.REDIS_URL!, { maxRetriesPerRequest: null });
  repo = new ImagesRepository(pool);
  storage = new LocalStorage(stack.env.STORAGE_DIR!);
  billing = new BillingClient(stack.billingUrl, stack.env.BILLING_SERVICE_TOKEN!);
  settlement = new ImageSettlement({ repo, billing, storage, logger });
});
cleanUpAfter(() => stack);
afterAll(async () => {
  redis?.disconnect();
  await pool?.end();
});

/** A seller's job, reserved and queued by the real gateway, its pictures waiting for a processor. */
async function queuedJob(email: string, pictures: number, offset: number): Promise<{ seller: Seller; jobId: string; imageIds: string[] }> {
  const seller = await Seller.register(stack.gatewayUrl, email);
  const jobId = await seller.upload(await distinctPhotos(pictures, offset));
  await seller.process(jobId);
  const { rows } = await pool.query<{ id: string }>('select id from images where job_id = $1 order by position', [jobId]);
  return { seller, jobId, imageIds: rows.map((row) => row.id) };
}

async function markDone(imageId: string, reused: boolean): Promise<void> {
  await pool.query(`update images set status = 'done', reused_output = $2, result_key = 'x', finished_at = now() where id = $1`, [imageId, reused]);
}

test('a reused picture whose own release was lost is released by the finalizer, never captured', async () => {
  const { seller, jobId, imageIds } = await queuedJob('reused@example.com', 2, 9100);
  await markDone(imageIds[0]!, true); // its release never reached billing (the process died)
  await markDone(imageIds[1]!, false);
  const finalize = new JobFinalizeHandler({ repo, billing, settlement, publishProgress: async () => undefined, logger });
  expect(await finalize.handle({ jobId })).toEqual({ status: 'completed' });
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 0, available: 27 });
  const progress = await seller.progress(jobId);
  expect(progress.credits_charged).toBe(3);
  expect(progress.images.map((image) => image.charged)).toEqual([false, true]);
});

test('a picture that turns done while the finalizer fails it is charged, not released and delivered free', async () => {
  const { seller, jobId, imageIds } = await queuedJob('race@example.com', 1, 9200);
  await pool.query(`update images set status = 'processing' where id = $1`, [imageIds[0]]);
  // The worker finishes the picture between the finalizer's read and its markFailed.
  class RacingRepository extends ImagesRepository {
    override async markFailed(imageId: string, code: string, message: string): Promise<boolean> {
      await markDone(imageId, false);
      return super.markFailed(imageId, code, message);
    }
  }
  const racing = new RacingRepository(pool);
  const finalize = new JobFinalizeHandler({ repo: racing, billing, settlement: new ImageSettlement({ repo: racing, billing, storage, logger }), publishProgress: async () => undefined, logger });
  expect(await finalize.handle({ jobId })).toEqual({ status: 'completed' });
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 0, available: 27 });
  expect((await seller.progress(jobId)).images[0]).toMatchObject({ status: 'done', charged: true });
});

function outputService(storageFor: LocalStorage = storage): QwenOutputService {
  const qwen = new QwenClient({
    baseUrl: stack.sim.baseUrl, apiKey: 'sk-test', model: 'qwen-image-edit-plus', timeoutMs: 30_000,
    resultHosts: DEFAULT_RESULT_HOSTS, resultResolve: parseResolveRules([stack.sim.resolveRule]).rules, maxResultBytes: 40e6,
  });
  const prefix = stack.env.QUEUE_PREFIX!;
  return new QwenOutputService({
    redis, prefix, repo, storage: storageFor, qwen, prompts: loadPrompts(),
    gate: new FleetGate(redis, prefix, { maxPerSecond: 10, maxInFlight: 4, leaseMs: 5_000, marginMs: 0 }),
    spend: new SpendGuard(redis, prefix, { dailyCapMicroUsd: 0, priceMicroUsd: 30_000 }, async () => 0),
    metrics: createProcessorMetrics(), pricesMicroUsd: { 'qwen-image-edit-plus': 30_000 }, keyFingerprint: 'test', logger, preparing: new Slots(2),
  });
}

test('a picture finished while billing did not answer is charged by its next attempt, and shown as delivered only then', async () => {
  const { seller, jobId, imageIds } = await queuedJob('billing-away@example.com', 1, 9800);
  const output = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#ffffff' } }).png().toBuffer();
  await storage.put(storageKey.qwenOutput(jobId, imageIds[0]!), output); // the AI output its first attempt paid for
  await markDone(imageIds[0]!, false); // its capture never reached billing
  expect((await seller.progress(jobId)).images[0]).toMatchObject({ status: 'processing' });
  const early = await request(stack.gatewayUrl).get(`/api/v1/images/${imageIds[0]}/result`).set('authorization', `Bearer ${seller.token}`);
  expect(early.status).toBe(409);
  expect(early.body.error.code).toBe('not_finished');
  const renderPool = createRenderPool(1);
  try {
    const handler = new ImageProcessHandler({
      repo, storage, qwenOutputs: outputService(), render: renderPool.render, settlement, metrics: createProcessorMetrics(), publishProgress: async () => undefined, logger,
    });
    expect(await handler.handle({ imageId: imageIds[0]!, jobId })).toEqual({ status: 'skipped:done' });
  } finally {
    await renderPool.close();
  }
  expect((await seller.progress(jobId)).images[0]).toMatchObject({ status: 'done', charged: true });
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 0, available: 27 });
  // Paid for, its output is now reusable for free, as after an uninterrupted attempt.
  const context = (await repo.load(imageIds[0]!))!;
  const version = loadPrompts()(context.pipeline).version;
  expect(await storage.exists(storageKey.qwenCache(context.userId, qwenCacheKey(context.contentSha256, 'qwen-image-edit-plus', context.pipeline, version)))).toBe(true);
});

test('a stalled picture taken over while its first worker still calls the AI waits for it instead of paying twice', async () => {
  const { imageIds } = await queuedJob('takeover@example.com', 1, 9300);
  const context = (await repo.load(imageIds[0]!))!;
  stack.sim.configure({ latencyMs: 1_500 });
  const paidBefore = stack.sim.stats.succeeded;
  const service = outputService();
  const first = service.obtain(context);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The take-over: the same picture, another attempt, while the first is at the AI.
  await expect(service.obtain(context)).rejects.toBeInstanceOf(TwinInFlightError);
  const output = await first;
  await output.releaseTwin();
  // Retried later, it finds the output the first attempt paid for.
  const later = await service.obtain(context);
  expect(later.key).toBe(output.key);
  expect(stack.sim.stats.succeeded - paidBefore).toBe(1);
  stack.sim.configure({ latencyMs: 0 });
});

test('a reused output is marked free before its file is written: a crash between the two never charges it', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'cache-crash@example.com');
  const [photo] = await distinctPhotos(1, 9400);
  const paid = await seller.upload([photo!]);
  await seller.process(paid);
  const { rows: paidRows } = await pool.query<{ id: string }>('select id from images where job_id = $1', [paid]);
  const paidContext = (await repo.load(paidRows[0]!.id))!;
  const service = outputService();
  const made = await service.obtain(paidContext);
  await made.releaseTwin();
  await service.remember(paidContext, made.key); // as after its charge

  const again = await seller.upload([photo!]);
  await seller.process(again);
  const { rows } = await pool.query<{ id: string }>('select id from images where job_id = $1', [again]);
  const context = (await repo.load(rows[0]!.id))!;
  // The process dies as it copies the stored output into the new picture's place.
  class CrashingStorage extends LocalStorage {
    override async put(key: string, data: Buffer): Promise<void> {
      if (key === storageKey.qwenOutput(context.jobId, context.imageId)) throw new Error('killed');
      return super.put(key, data);
    }
  }
  await expect(outputService(new CrashingStorage(stack.env.STORAGE_DIR!)).obtain(context)).rejects.toThrow('killed');
  expect((await repo.load(context.imageId))!.reusedOutput).toBe(true);
  // Taken over, it is made from the stored output, free.
  const recovered = await service.obtain({ ...(await repo.load(context.imageId))! });
  expect(recovered.reused).toBe(true);
});

test('a picture cancelled between its load and the start of its work makes no paid call', async () => {
  const { seller, jobId, imageIds } = await queuedJob('cancel-race@example.com', 1, 9700);
  // The seller cancels the instant after the worker loaded the picture.
  class CancelledMeanwhile extends ImagesRepository {
    override async markProcessing(imageId: string, job: string): Promise<boolean> {
      await request(stack.gatewayUrl).post(`/api/v1/jobs/${jobId}/cancel`).set('authorization', `Bearer ${seller.token}`).expect(200);
      return super.markProcessing(imageId, job);
    }
  }
  const renderPool = createRenderPool(1);
  try {
    const racing = new CancelledMeanwhile(pool);
    const handler = new ImageProcessHandler({
      repo: racing, storage, qwenOutputs: outputService(), render: renderPool.render, settlement: new ImageSettlement({ repo: racing, billing, storage, logger }),
      metrics: createProcessorMetrics(), publishProgress: async () => undefined, logger,
    });
    const requestsBefore = stack.sim.stats.requests;
    expect(await handler.handle({ imageId: imageIds[0]!, jobId })).toEqual({ status: 'skipped:not_pending' });
    expect(stack.sim.stats.requests).toBe(requestsBefore);
    expect(await seller.balance()).toEqual({ balance: 30, reserved: 0, available: 30 });
  } finally {
    await renderPool.close();
  }
});
