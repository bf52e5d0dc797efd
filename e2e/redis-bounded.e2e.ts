import IORedis from 'ioredis';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, eventually, Seller } from './seller';

/**
 * Reliability 22: Redis memory stays bounded. A queue record holds ids only (never image bytes,
 * names or settings a seller could make large), and a finished job's records leave Redis once
 * they are older than FINISHED_JOBS_KEEP_SECONDS: what the seller sees lives in PostgreSQL.
 * One second here, so the test sees the removal that takes an hour by default.
 */
jest.setTimeout(120_000);

const KEEP_SECONDS = 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENTIFIER = /^[A-Za-z0-9._:-]{1,160}$/;
const IDENTIFIER_KEYS = new Set(['eventId', 'type', 'requestId']);

let stack: TestStack;
let redis: IORedis;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '30', FINISHED_JOBS_KEEP_SECONDS: String(KEEP_SECONDS) } });
  redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
});
cleanUpAfter(() => stack);
afterAll(() => redis.disconnect());

/** Every key of this stack's queues, and for BullMQ's job records their data and return value. */
async function queueKeys(): Promise<Array<{ key: string; data?: string; returnvalue?: string }>> {
  const keys = await redis.keys(`${stack.env.QUEUE_PREFIX}:*`);
  return Promise.all(
    keys.map(async (key) => {
      if ((await redis.type(key)) !== 'hash') return { key };
      const [data, returnvalue] = await redis.hmget(key, 'data', 'returnvalue');
      return { key, ...(data ? { data } : {}), ...(returnvalue ? { returnvalue } : {}) };
    }),
  );
}

test("queue records hold ids only, and a finished job's records are gone from Redis after the keep time", async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'bounded@example.com');
  const firstJob = await seller.upload(await distinctPhotos(3, 8100));
  await seller.process(firstJob, 'amazon');
  const first = await seller.waitUntilFinished(firstJob, 60_000);
  expect(first).toMatchObject({ status: 'completed', completed: 3, credits_charged: 9 });

  const firstIds = [firstJob, ...first.images.map((image) => image.image_id)];
  const records = (await queueKeys()).filter((entry) => entry.data !== undefined);
  // The record of the job that settled the pictures and at least the last picture's are still
  // there: a record goes only when later work of its queue completes past its keep time (the
  // first pictures' may have gone already, when the last finished over a second after them).
  const firstRecords = records.filter((record) => record.data!.includes(firstJob));
  expect(firstRecords.some((record) => record.key.includes(':jobs:finalize-'))).toBe(true);
  expect(firstRecords.some((record) => record.key.includes(':images:image-'))).toBe(true);
  for (const record of records) {
    const data = JSON.parse(record.data!) as Record<string, unknown>;
    // Ids only: uuids, and the identifiers of an event (its id, its type) and of a request.
    expect(Object.entries(data).filter(([key, value]) => typeof value !== 'string' || !(UUID.test(value) || (IDENTIFIER_KEYS.has(key) && IDENTIFIER.test(value))))).toEqual([]);
    // A few ids (an event's record holds five): a few hundred bytes at most, whatever the picture.
    expect(record.data!.length).toBeLessThan(300);
    expect((record.returnvalue ?? '').length).toBeLessThan(500);
  }

  await new Promise((resolve) => setTimeout(resolve, (KEEP_SECONDS + 1.5) * 1000));
  // BullMQ drops completed records past their age when later jobs of the queue complete.
  const secondJob = await seller.upload(await distinctPhotos(1, 8200));
  await seller.process(secondJob, 'amazon');
  expect(await seller.waitUntilFinished(secondJob, 60_000)).toMatchObject({ status: 'completed', completed: 1 });

  // The job shows finished once its finalizer has written PostgreSQL; its BullMQ record completes
  // (and drops the old ones) a moment later, after the finalizer's notices.
  const mentioningFirst = (entries: Awaited<ReturnType<typeof queueKeys>>) =>
    entries.filter((entry) => firstIds.some((id) => entry.key.includes(id) || entry.data?.includes(id))).map((entry) => entry.key);
  const left = await eventually('the first job\'s records to leave Redis', async () => {
    const entries = await queueKeys();
    return mentioningFirst(entries).length === 0 ? entries : undefined;
  }, 15_000).catch(async () => queueKeys());
  expect(mentioningFirst(left)).toEqual([]);
  // The second job's records stay (for Bull Board) until later work completes after their keep time.
  expect(left.some((entry) => entry.data?.includes(secondJob))).toBe(true);
  // The finished job's pictures are the seller's, in PostgreSQL and storage, whatever Redis forgot.
  expect(await seller.progress(firstJob)).toMatchObject({ status: 'completed', completed: 3, credits_charged: 9 });
});
