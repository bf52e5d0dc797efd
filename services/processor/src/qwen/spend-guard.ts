import { fleetKeys, type IORedis } from '@masterpost/shared';

/**
 * The daily spend cap, shared by the fleet. Each call reserves its price in a Redis counter for
 * the UTC day before it is sent, atomically against the cap, so no number of processes can
 * overshoot it together; a call that ends unbilled gives its reservation back. Postgres
 * (`qwen_calls`) stays the record: the counter is seeded from it when Redis has none for today.
 */
const RESERVE = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, spent} end
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], 172800000)
return {1, total}
`;

export interface SpendGuardSettings {
  /** Micro-USD a day; 0 means no cap. */
  dailyCapMicroUsd: number;
  priceMicroUsd: number;
}

export type SpendReservation = { ok: true; release: () => Promise<void> } | { ok: false; spentMicroUsd: number };

export class SpendGuard {
  private readonly keys: ReturnType<typeof fleetKeys>;

  constructor(
    private readonly redis: IORedis,
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
    if (!this.enabled) return { ok: true, release: async () => undefined };
    const key = this.keys.spend(utcDay(now));
    await this.seed(key);
    const [ok, spent] = (await this.redis.eval(RESERVE, 1, key, String(this.settings.priceMicroUsd), String(this.settings.dailyCapMicroUsd))) as [number, number];
    if (ok !== 1) return { ok: false, spentMicroUsd: Number(spent) };
    let released = false;
    return {
      ok: true,
      release: async () => {
        if (released) return;
        released = true;
        await this.redis.decrby(key, this.settings.priceMicroUsd);
      },
    };
  }

  /** Whether one more call fits under today's cap (used at start to lift a cap pause). */
  async roomForOneCall(now = new Date()): Promise<boolean> {
    if (!this.enabled) return true;
    const key = this.keys.spend(utcDay(now));
    await this.seed(key);
    const spent = Number((await this.redis.get(key)) ?? '0');
    return spent + this.settings.priceMicroUsd <= this.settings.dailyCapMicroUsd;
  }

  private async seed(key: string): Promise<void> {
    if (await this.redis.exists(key)) return;
    const recorded = await this.recordedSpendToday();
    await this.redis.set(key, String(recorded), 'PX', 172_800_000, 'NX');
  }
}

export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

export function msUntilNextUtcDay(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return next - now.getTime();
}
