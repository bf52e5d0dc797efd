import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import sharp from 'sharp';
import { storageKey } from '@masterpost/contracts';
import { createLogger, LocalStorage, Slots, type Storage } from '@masterpost/platform';
import { startSim, type SimServer } from '../../../tools/dashscope-sim/src/server';
import type { ImageContext, ImagesRepository } from '../src/adapters/images.repository';
import { createProcessorMetrics } from '../src/metrics';
import { FleetGate } from '../src/qwen/fleet-gate';
import { loadPrompts } from '../src/qwen/prompts';
import { QwenOutputService } from '../src/qwen/qwen-output.service';
import { QwenClient } from '../src/qwen/qwen.client';
import { DEFAULT_RESULT_HOSTS, parseResolveRules } from '../src/qwen/result-hosts';
import { SpendGuard } from '../src/qwen/spend-guard';

/**
 * A DashScope answer paid for while PostgreSQL cannot record it (down, restarting) is not bought
 * again: the picture's next attempt finds it kept in Redis, records it once, and uses it. The
 * processor's own QwenOutputService runs against the machine's Redis, a local folder and the
 * DashScope stand-in; the qwen_calls table is kept in memory and fails as a pool does while the
 * database is away, so the fault lands exactly between the paid answer and its record (the
 * PostgreSQL drill shows the same against a real restart, where the timing decides).
 */
jest.setTimeout(60_000);

const MODEL = 'qwen-image-edit-plus';
const PRICE = 30_000;
const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `mpt-kept-${randomBytes(4).toString('hex')}`;
const logger = createLogger('paid-answer-kept-test', 'silent');
let sim: SimServer;
let dir: string;

beforeAll(async () => {
  sim = await startSim({ latencyMs: 50 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'mp-kept-'));
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

type RecordedCall = Parameters<ImagesRepository['recordQwenCall']>[0];

/** The part of qwen_calls the service reads and writes, and a switch for PostgreSQL being away. */
class QwenCallsTable implements Pick<ImagesRepository, 'recordQwenCall' | 'unclaimedResultUrl' | 'driftRetries' | 'setQwenKey' | 'load'> {
  readonly rows: RecordedCall[] = [];
  away = false;
  /** PostgreSQL goes away just as the next call's answer is to be recorded. */
  goAwayAtNextRecord = false;

  private reach(): void {
    if (this.away) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  }
  async recordQwenCall(call: RecordedCall): Promise<void> {
    if (this.goAwayAtNextRecord) [this.away, this.goAwayAtNextRecord] = [true, false];
    this.reach();
    this.rows.push(call);
  }
  async unclaimedResultUrl(imageId: string, model: string): Promise<string | null> {
    this.reach();
    return this.rows.filter((row) => row.imageId === imageId && row.model === model && row.outcome === 'success' && row.resultUrl).at(-1)?.resultUrl ?? null;
  }
  async driftRetries(imageId: string): Promise<number> {
    this.reach();
    return this.rows.filter((row) => row.imageId === imageId && row.outcome === 'drift_retry').length;
  }
  async setQwenKey(): Promise<void> {
    this.reach();
  }
  async load(): Promise<ImageContext | null> {
    this.reach();
    return null;
  }
  paid(imageId: string, outcome: string): RecordedCall[] {
    return this.rows.filter((row) => row.imageId === imageId && row.outcome === outcome);
  }
}

/** Writes refused while `refusing` is set, as an object store answering 500. */
class RefusingStorage extends LocalStorage {
  refusing = false;
  override async put(key: string, data: Buffer): Promise<void> {
    if (this.refusing) throw new Error(`storage: could not store ${key}: 500`);
    return super.put(key, data);
  }
}

/** A Redis whose DEL fails while `failing` is set: Redis lost for a moment just after a record. */
function redisWithFailingDel(failing: { now: boolean }): IORedis {
  return new Proxy(redis, {
    get(target, property) {
      if (property === 'del' && failing.now) return async () => Promise.reject(new Error('Connection is closed.'));
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function outputService(table: QwenCallsTable, storage: Storage, serviceRedis: IORedis = redis): QwenOutputService {
  const qwen = new QwenClient({
    baseUrl: sim.baseUrl, apiKey: 'sk-test', model: MODEL, timeoutMs: 30_000,
    resultHosts: DEFAULT_RESULT_HOSTS, resultResolve: parseResolveRules([sim.resolveRule]).rules, maxResultBytes: 40e6,
  });
  return new QwenOutputService({
    redis: serviceRedis, prefix, repo: table as unknown as ImagesRepository, storage, qwen, prompts: loadPrompts(),
    gate: new FleetGate(redis, prefix, { maxPerSecond: 20, maxInFlight: 4, leaseMs: 5_000, marginMs: 0 }),
    spend: new SpendGuard(redis, prefix, { dailyCapMicroUsd: 0, priceMicroUsd: PRICE }, async () => 0),
    metrics: createProcessorMetrics(), pricesMicroUsd: { [MODEL]: PRICE }, keyFingerprint: 'test', logger, preparing: new Slots(2),
  });
}

/** A seller's photo in storage and the picture's context, as the handler loads it. */
async function picture(storage: Storage, shade: number): Promise<ImageContext> {
  const imageId = randomUUID();
  const jobId = randomUUID();
  const uploadKey = `jobs/${jobId}/uploads/${imageId}.jpg`;
  const photo = await sharp({ create: { width: 640, height: 640, channels: 3, background: { r: shade, g: shade, b: shade } } })
    .composite([{ input: { create: { width: 300, height: 360, channels: 3, background: '#c0392b' } } }])
    .jpeg()
    .toBuffer();
  await storage.put(uploadKey, photo);
  return {
    imageId, jobId, userId: randomUUID(), filename: 'photo.jpg', uploadKey, contentSha256: randomBytes(32).toString('hex'),
    imageStatus: 'processing', jobStatus: 'processing', pipeline: 'amazon', settings: null, holdReference: `hold:${jobId}`, creditsPerImage: 3, reusedOutput: false,
  };
}

const paidCalls = () => sim.stats.succeeded;

test('an answer paid while PostgreSQL was away is recorded and used by a later attempt, never bought again', async () => {
  const storage = new LocalStorage(path.join(dir, 'a'));
  const table = new QwenCallsTable();
  const service = outputService(table, storage);
  const context = await picture(storage, 200);
  const paidBefore = paidCalls();

  table.goAwayAtNextRecord = true;
  await expect(service.obtain(context)).rejects.toThrow(/ECONNREFUSED/);
  expect(paidCalls() - paidBefore).toBe(1);
  expect(table.rows).toEqual([]);

  // Retried while PostgreSQL is still away: nothing bought, the attempt fails again.
  await expect(service.obtain(context)).rejects.toThrow(/ECONNREFUSED/);
  expect(paidCalls() - paidBefore).toBe(1);

  table.away = false;
  const output = await service.obtain(context);
  expect(output).toMatchObject({ key: storageKey.qwenOutput(context.jobId, context.imageId), reused: false });
  expect((await sharp(await storage.get(output.key)).metadata()).format).toBe('png');
  expect(paidCalls() - paidBefore).toBe(1);
  // The books show the one paid call, at its price, with the URL it was fetched from.
  expect(table.paid(context.imageId, 'success')).toEqual([expect.objectContaining({ costMicroUsd: PRICE, httpStatus: 200, resultUrl: expect.stringMatching(/^https?:\/\/dashscope-result-/) })]);
  await output.releaseTwin();
});

test('an answer recorded but still kept (Redis lost for a moment after the record) is not recorded twice', async () => {
  const storage = new RefusingStorage(path.join(dir, 'b'));
  const table = new QwenCallsTable();
  const failingDel = { now: true };
  const service = outputService(table, storage, redisWithFailingDel(failingDel));
  const context = await picture(storage, 180);
  const paidBefore = paidCalls();

  // Paid and recorded; forgetting the kept copy fails, then the store refuses the output.
  storage.refusing = true;
  await expect(service.obtain(context)).rejects.toThrow(/could not store/);
  storage.refusing = false;
  failingDel.now = false;

  const output = await service.obtain(context);
  await output.releaseTwin();
  expect(paidCalls() - paidBefore).toBe(1);
  expect(table.paid(context.imageId, 'success')).toHaveLength(1);
});

test('a drift retry paid while PostgreSQL was away is used by the next attempt, not asked for a third time', async () => {
  const storage = new LocalStorage(path.join(dir, 'c'));
  const table = new QwenCallsTable();
  const service = outputService(table, storage);
  const context = await picture(storage, 160);
  const first = await service.obtain(context);
  await first.releaseTwin();
  const firstOutput = await storage.get(first.key);
  const paidBefore = paidCalls();

  table.goAwayAtNextRecord = true;
  await expect(service.callAgainForDrift(context)).rejects.toThrow(/ECONNREFUSED/);
  table.away = false;
  await service.callAgainForDrift(context);

  expect(paidCalls() - paidBefore).toBe(1);
  expect(table.paid(context.imageId, 'drift_retry')).toHaveLength(1);
  expect(table.paid(context.imageId, 'success')).toHaveLength(1);
  // The stored output is the retry's, not the first call's.
  expect((await storage.get(first.key)).equals(firstOutput)).toBe(false);
});
