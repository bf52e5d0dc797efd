import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { fleetKeys } from '@masterpost/contracts';
import { FleetGate, gateKeys } from '../src/qwen/fleet-gate';
import { SpendGuard, utcDay } from '../src/qwen/spend-guard';

/**
 * The fleet's money and rate guards against the machine's real Redis, in the situations a
 * review found them failing: Redis forgetting the day's spend counter while a call is open,
 * and rates slower than one call a minute.
 */
const PRICE = 30_000;
const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `mpt-guard-${randomBytes(4).toString('hex')}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

async function allowedCalls(guard: SpendGuard, tries: number): Promise<number> {
  let allowed = 0;
  for (let index = 0; index < tries; index++) {
    const reservation = await guard.reserve();
    if (!reservation.ok) break;
    await reservation.commit();
    allowed++;
  }
  return allowed;
}

test('the counter lost mid-call: the unbilled call gives nothing back to a counter that never had it, and the cap holds', async () => {
  let recorded = 0;
  const guard = new SpendGuard(redis, `${prefix}-a`, { dailyCapMicroUsd: 3 * PRICE, priceMicroUsd: PRICE }, async () => recorded);
  const open = await guard.reserve();
  expect(open.ok).toBe(true);
  await redis.del(fleetKeys(`${prefix}-a`).spend(utcDay(new Date())));
  if (open.ok) await open.release();
  // Before: the release made the counter -30000 and it was never seeded again (34 calls let through).
  expect(Number(await redis.get(fleetKeys(`${prefix}-a`).spend(utcDay(new Date()))) ?? 0)).toBeGreaterThanOrEqual(0);
  expect(await allowedCalls(guard, 10)).toBe(3);
  recorded = 3 * PRICE;
});

test('the counter lost mid-call: a billed call of the old count is added to the new one, so the counter never falls below Postgres', async () => {
  let recorded = 0;
  const guard = new SpendGuard(redis, `${prefix}-b`, { dailyCapMicroUsd: 3 * PRICE, priceMicroUsd: PRICE }, async () => recorded);
  const open = await guard.reserve();
  await redis.del(fleetKeys(`${prefix}-b`).spend(utcDay(new Date())));
  const next = await guard.reserve(); // seeded again from Postgres, which has not recorded the open call yet
  if (open.ok) await open.commit();
  recorded = PRICE; // the open call, now recorded
  if (next.ok) await next.commit();
  recorded = 2 * PRICE;
  expect(Number(await redis.get(fleetKeys(`${prefix}-b`).spend(utcDay(new Date()))))).toBe(recorded);
  expect(await allowedCalls(guard, 10)).toBe(1);
});

test('a rate under one call a minute keeps its spacing for as long as it lasts', async () => {
  const gate = new FleetGate(redis, `${prefix}-c`, { maxPerSecond: 0.01, maxInFlight: 2, leaseMs: 5_000, marginMs: 250 });
  const lease = await gate.acquire();
  await gate.markSent(lease);
  await gate.release(lease);
  // The send is remembered past the window of 100 s (before, for a fixed 60 s).
  expect(await redis.pttl(gateKeys(`${prefix}-c`).sent)).toBeGreaterThan(120_000);
  await expect(gate.acquire(AbortSignal.timeout(1_500))).rejects.toThrow('gate wait aborted');
});

test('a counter written before generations existed (or whose generation Redis evicted) settles each call once', async () => {
  const guard = new SpendGuard(redis, `${prefix}-d`, { dailyCapMicroUsd: 10 * PRICE, priceMicroUsd: PRICE }, async () => 0);
  const key = fleetKeys(`${prefix}-d`).spend(utcDay(new Date()));
  await redis.set(key, String(PRICE), 'PX', 60_000);
  const paid = await guard.reserve();
  if (paid.ok) await paid.commit();
  expect(Number(await redis.get(key))).toBe(2 * PRICE);
  const refused = await guard.reserve();
  if (refused.ok) await refused.release();
  expect(Number(await redis.get(key))).toBe(2 * PRICE);
});
