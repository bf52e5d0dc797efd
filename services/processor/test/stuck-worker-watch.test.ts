import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { Queue, Worker } from 'bullmq';
import { createLogger } from '@masterpost/platform';
import { StuckWorkerWatch, type WatchedWorker } from '../src/workers/stuck-worker-watch';

/**
 * The watch against a real Redis and real BullMQ queues. A wedged blocking connection (what a
 * cluster failover left in e2e/redis-cluster) cannot be made on demand, so the stuck worker is a
 * real Worker that never runs, reported as running: the state BullMQ shows when wedged.
 */
const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefix = `mpt-stuck-${randomBytes(4).toString('hex')}`;
const logger = createLogger('test', 'silent');

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

function wedged(queueName: string): { entry: WatchedWorker; replaced: () => number; worker: () => Worker; close: () => Promise<void> } {
  const make = () => {
    const worker = new Worker(queueName, async () => 'done', { connection: redis, prefix, autorun: false });
    worker.isRunning = () => true;
    return worker;
  };
  let worker = make();
  let replaced = 0;
  const made = [worker];
  return {
    entry: {
      queueName,
      current: () => worker,
      replace: () => {
        replaced++;
        worker = make();
        made.push(worker);
      },
    },
    replaced: () => replaced,
    worker: () => worker,
    close: async () => {
      await Promise.all(made.map((each) => each.close()));
    },
  };
}

test('a job still the oldest waiting at the next look, its worker free, gets the worker replaced once; an empty queue or a paused worker does not', async () => {
  const stuck = wedged('finalize');
  const idle = wedged('edits');
  const paused = wedged('mail');
  const watch = new StuckWorkerWatch([stuck.entry, idle.entry, paused.entry], redis, prefix, 60_000, logger);
  const finalize = new Queue('finalize', { connection: redis, prefix });
  const mail = new Queue('mail', { connection: redis, prefix });
  try {
    paused.worker().isPaused = () => true;
    await finalize.add('job-finalize', {});
    await mail.add('mail-send', {});
    await watch.lookOnce();
    expect([stuck.replaced(), idle.replaced(), paused.replaced()]).toEqual([0, 0, 0]);
    await watch.lookOnce();
    expect([stuck.replaced(), idle.replaced(), paused.replaced()]).toEqual([1, 0, 0]);
    // The new worker is given its own two looks before it is judged.
    await watch.lookOnce();
    expect(stuck.replaced()).toBe(1);
  } finally {
    await watch.close();
    await Promise.all([finalize.close(), mail.close(), stuck.close(), idle.close(), paused.close()]);
  }
});

test('a queue whose oldest job changes between looks (it is being taken) is left alone', async () => {
  const busy = wedged('webhooks');
  const watch = new StuckWorkerWatch([busy.entry], redis, prefix, 60_000, logger);
  const queue = new Queue('webhooks', { connection: redis, prefix });
  try {
    const first = await queue.add('webhook-dispatch', {});
    await queue.add('webhook-dispatch', {});
    await watch.lookOnce();
    await first.remove();
    await watch.lookOnce();
    expect(busy.replaced()).toBe(0);
  } finally {
    await watch.close();
    await Promise.all([queue.close(), busy.close()]);
  }
});
