import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { FleetGate, gateKeys } from '../src/qwen/fleet-gate';

/**
 * The fleet's rate gate against the machine's real Redis: several gates (processes) share it,
 * and their callers leave late, by a random stall each, as a busy event loop makes them. The
 * window counts real send times, so no window of the limit's length ever holds one call more
 * than the limit, however the sends bunch; and the adaptive rate cuts once per burst of 429s.
 */
const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const base = `mpt-gate-${randomBytes(4).toString('hex')}`;
afterAll(async () => {
  const keys = await redis.keys(`${base}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Most send times (Redis ms) found in any window of `windowMs` (a window [t, t + windowMs) ). */
function mostInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! - sorted[start]! < windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/** `callers` callers over `gates` gates make `calls` calls, each leaving 0-`stallMs` ms after its grant. */
async function sendTimes(prefix: string, rate: number, calls: number, stallMs: number): Promise<number[]> {
  const gates = [0, 1, 2].map(() => new FleetGate(redis, prefix, { maxPerSecond: rate, maxInFlight: 50, leaseMs: 5_000, marginMs: 0 }));
  const times: number[] = [];
  let left = calls;
  await Promise.all(
    Array.from({ length: 9 }, async (_, caller) => {
      const gate = gates[caller % gates.length]!;
      while (left > 0) {
        left--;
        const lease = await gate.acquire();
        await sleep(Math.random() * stallMs);
        times.push(await gate.markSent(lease));
        await gate.release(lease);
      }
    }),
  );
  return times;
}

test('callers leaving late never put one call more than the rate into a sliding second', async () => {
  const times = await sendTimes(`${base}-a`, 3, 15, 300);
  expect(times).toHaveLength(15);
  expect(mostInAnyWindow(times, 1000)).toBeLessThanOrEqual(3);
});

test('a rate under one a second spaces every call by its whole interval, however late each leaves', async () => {
  const times = await sendTimes(`${base}-b`, 1.5, 6, 300);
  expect(mostInAnyWindow(times, Math.ceil(1000 / 1.5))).toBe(1);
});

test('a grant never reported sent (its process died) counts as sent at its deadline', async () => {
  const gate = new FleetGate(redis, `${base}-c`, { maxPerSecond: 1, maxInFlight: 5, leaseMs: 2_000, marginMs: 0 });
  await gate.acquire(); // never sent, never released
  // The rate's only slot is held until the deadline has passed and its window after it.
  await expect(gate.acquire(AbortSignal.timeout(1_500))).rejects.toThrow('gate wait aborted');
  const lease = await gate.acquire();
  const sent = await gate.markSent(lease);
  const dead = Number(await redis.zscore(gateKeys(`${base}-c`).sent, (await redis.zrange(gateKeys(`${base}-c`).sent, 0, 0))[0]!));
  expect(sent - dead).toBeGreaterThanOrEqual(1000);
});

test('429s cut the fleet\'s rate once per burst, clean answers bring it back up, never above the setting', async () => {
  const prefix = `${base}-d`;
  const adapt = { stepMs: 0, holdMs: 0 };
  const one = new FleetGate(redis, prefix, { maxPerSecond: 2, maxInFlight: 5, leaseMs: 2_000, marginMs: 0, adapt });
  const other = new FleetGate(redis, prefix, { maxPerSecond: 2, maxInFlight: 5, leaseMs: 2_000, marginMs: 0, adapt });
  // A lone 429 at the configured rate is the provider's jitter: nothing is cut.
  expect(await one.throttled(0)).toBe(2);
  const lease = await one.acquire();
  const sentAt = await one.markSent(lease);
  await one.release(lease);
  expect(await one.throttled(sentAt)).toBeCloseTo(1.6);
  // Another 429 of the same burst (sent before the cut) changes nothing, on any processor.
  expect(await other.throttled(sentAt)).toBeCloseTo(1.6);
  expect((await other.state()).rate).toBeCloseTo(1.6);
  // Clean answers: up to just under the refused rate, then past it, then to the setting and no further.
  // Nobody waits for the rate: clean answers say nothing about the limit.
  expect(await other.clean()).toBeNull();
  other.waits.rate = 1;
  const rates: number[] = [];
  for (let step = 0; step < 40; step++) rates.push((await other.clean())!);
  expect(rates[0]).toBeGreaterThan(1.6);
  expect(Math.max(...rates)).toBe(2);
  expect(rates.every((rate, index) => index === 0 || rate >= rates[index - 1]!)).toBe(true);
  // A processor configured lower sees the fleet's rate capped by its own setting.
  const slower = new FleetGate(redis, prefix, { maxPerSecond: 1, maxInFlight: 5, leaseMs: 2_000, marginMs: 0 });
  expect((await slower.state()).rate).toBe(1);
});

test('a 429 once the limit is known cuts gently: the fleet probes near the limit it found', async () => {
  const gate = new FleetGate(redis, `${base}-e`, { maxPerSecond: 2, maxInFlight: 5, leaseMs: 2_000, marginMs: 0, adapt: { quietMs: 0 } });
  expect(await gate.throttled(0)).toBe(2);
  await sleep(5);
  expect(await gate.throttled(0)).toBeCloseTo(1.6);
  await sleep(5);
  expect(await gate.throttled(0)).toBeCloseTo(1.44);
  expect((await gate.state()).cuts).toBe(2);
});
