import { randomUUID } from 'node:crypto';
import { fleetKeys } from '@masterpost/contracts';
import { type RedisConnection } from '@masterpost/platform';

/**
 * The daily spend cap, shared by the fleet. Each call reserves its price in a Redis counter for
 * the UTC day before it is sent, atomically against the cap, so no number of processes can
 * overshoot it together; a call that ends unbilled gives its reservation back. Postgres
 * (`qwen_calls`) stays the record: the counter is seeded from it when Redis has none for today.
 *
 * Redis can forget the counter while calls are open (a restart without persistence). Each
 * seeding starts a new generation, and a reservation settles only against its own: an unbilled
 * call of an older generation gives nothing back (its price was never in the new count), and a
 * billed one adds its price to the new count (the seed read Postgres before it was recorded).
 * So the counter never falls below what Postgres records, whatever Redis forgets.
 */
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 1
`;

/** ARGV: price, cap, a new generation for a counter that has none (older code wrote none). */
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0, ''} end
local spent = tonumber(redis.call('GET', KEYS[1]))
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, spent, ''} end
local generation = redis.call('GET', KEYS[2])
if not generation then
  generation = ARGV[3]
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('SET', KEYS[2], generation, 'PX', ttl) else redis.call('SET', KEYS[2], generation) end
end
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
return {1, total, generation}
`;

/** ARGV: price, the reservation's generation, 'billed' or 'unbilled'. */
const SETTLE = `
local current = redis.call('GET', KEYS[2])
local same = redis.call('EXISTS', KEYS[1]) == 1 and current == ARGV[2]
if ARGV[3] == 'unbilled' and same then return redis.call('DECRBY', KEYS[1], ARGV[1]) end
if ARGV[3] == 'billed' and not same and redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return 0
`;

const DAY_KEY_MS = 172_800_000;

export interface SpendGuardSettings {
  /** Micro-USD a day; 0 means no cap. */
  dailyCapMicroUsd: number;
  priceMicroUsd: number;
}

/** `release`: the call was not billed; `commit`: it was (or may have been). Each settles once. */
export type SpendReservation = { ok: true; release: () => Promise<void>; commit: () => Promise<void> } | { ok: false; spentMicroUsd: number };

export class SpendGuard {
  private readonly keys: ReturnType<typeof fleetKeys>;

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    private readonly settings: SpendGuardSettings,
    /** Today's recorded spend in micro-USD, read from Postgres. */
    private readonly recordedSpendToday: () => Promise<number>,
  ) {
    this.keys = fleetKeys(prefix);
  }

  get enabled(): boolean {
    return this.settings.dailyCapMicroUsd > 0;
  }

  get capMicroUsd(): number {
    return this.settings.dailyCapMicroUsd;
  }

  /** Reserves one call's price for today, or says the cap would be passed. */
  async reserve(now = new Date()): Promise<SpendReservation> {
    if (!this.enabled) return { ok: true, release: async () => undefined, commit: async () => undefined };
    const day = utcDay(now);
    const [key, generationKey] = [this.keys.spend(day), `${this.keys.spend(day)}:generation`];
    let answer: [number, number, string];
    do {
      await this.seed(key, generationKey);
      answer = (await this.redis.eval(RESERVE, 2, key, generationKey, String(this.settings.priceMicroUsd), String(this.settings.dailyCapMicroUsd), randomUUID())) as [number, number, string];
      // -1: the counter vanished between the seed and the reservation; seed again.
    } while (answer[0] === -1);
    const [ok, spent, generation] = answer;
    if (ok !== 1) return { ok: false, spentMicroUsd: Number(spent) };
    let settled = false;
    const settle = async (outcome: 'billed' | 'unbilled') => {
      if (settled) return;
      settled = true;
      await this.redis.eval(SETTLE, 2, key, generationKey, String(this.settings.priceMicroUsd), generation, outcome);
    };
    return { ok: true, release: () => settle('unbilled'), commit: () => settle('billed') };
  }

  /** Whether one more call fits under today's cap (used at start to lift a cap pause). */
  async roomForOneCall(now = new Date()): Promise<boolean> {
    if (!this.enabled) return true;
    const key = this.keys.spend(utcDay(now));
    await this.seed(key, `${key}:generation`);
    const spent = Number((await this.redis.get(key)) ?? '0');
    return spent + this.settings.priceMicroUsd <= this.settings.dailyCapMicroUsd;
  }

  private async seed(key: string, generationKey: string): Promise<void> {
    if (await this.redis.exists(key)) return;
    const recorded = await this.recordedSpendToday();
    await this.redis.eval(SEED, 2, key, generationKey, String(recorded), randomUUID(), String(DAY_KEY_MS));
  }
}

export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

export function msUntilNextUtcDay(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return next - now.getTime();
}
