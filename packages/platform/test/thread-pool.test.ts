import path from 'node:path';
import { ThreadPool } from '../src/thread-pool';
import type { SleepyRequest } from './fixtures/sleepy-thread';

/**
 * The render threads' pool, on real worker threads: one request per thread at a time (each one
 * held is a picture held decoded), the next one to whichever thread is free, errors keeping their
 * name, and a thread that dies replaced without losing the requests behind it.
 */
jest.setTimeout(30_000);

let pool: ThreadPool<SleepyRequest, { threadId: number; runningWithIt: number }>;

beforeEach(() => {
  pool = new ThreadPool(path.join(__dirname, 'fixtures', 'sleepy-thread.ts'), 2);
});
afterEach(() => pool.close());

test('each thread runs one request at a time, and a short request does not wait behind a long one', async () => {
  const long = pool.run({ ms: 1500 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const shorts = await Promise.all([pool.run({ ms: 100 }), pool.run({ ms: 100 }), pool.run({ ms: 100 })]);
  const longDone = await long;

  expect([longDone, ...shorts].every((result) => result.runningWithIt === 1)).toBe(true);
  // The three short ones all went to the thread the long one was not on.
  expect(new Set(shorts.map((result) => result.threadId)).size).toBe(1);
  expect(shorts[0]!.threadId).not.toBe(longDone.threadId);
});

test("an error on the thread comes back with its name; a dead thread fails its request and the pool goes on", async () => {
  await expect(pool.run({ ms: 10, fail: true })).rejects.toMatchObject({ name: 'NoProductFoundError', message: 'no product found' });
  await expect(pool.run({ ms: 200, die: true })).rejects.toThrow('the thread died');
  await expect(pool.run({ ms: 10, exit: true })).rejects.toThrow('a pool thread stopped (exit code 3)');
  const after = await Promise.all([pool.run({ ms: 50 }), pool.run({ ms: 50 }), pool.run({ ms: 50 })]);
  expect(after).toHaveLength(3);
  expect(after.every((result) => result.runningWithIt === 1)).toBe(true);
});

test('closing fails what is still waiting instead of leaving it hanging', async () => {
  const outcomes = [pool.run({ ms: 2000 }), pool.run({ ms: 2000 }), pool.run({ ms: 2000 })].map((request) =>
    request.then(
      () => 'answered',
      (error: Error) => error.message,
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  await pool.close();
  expect(await Promise.all(outcomes)).toEqual(['the thread pool is closed', 'the thread pool is closed', 'the thread pool is closed']);
  await expect(pool.run({ ms: 1 })).rejects.toThrow('the thread pool is closed');
});
