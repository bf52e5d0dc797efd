import { randomUUID } from 'node:crypto';
import { fleetKeys } from '@masterpost/contracts';
import { type IORedis } from '@masterpost/platform';

/**
 * One gate in Redis for every processor process, passed right before each call to DashScope:
 * calls start at least `(1000 + marginMs) / maxPerSecond` ms apart (evenly spaced, so no sliding
 * second ever holds more than the limit), at most `maxInFlight` are open at once, and nobody calls while the
 * fleet cools down after a 429 or is paused. In-flight leases expire on their own, so a killed
 * process cannot hold a slot forever.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pausedFor = redis.call('PTTL', KEYS[4])
if pausedFor > 0 then return {-1, pausedFor} end
local cool = tonumber(redis.call('GET', KEYS[3]) or '0')
if cool > now then return {-2, cool - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return {-3, 25} end
local nextSlot = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextSlot > now then return {-4, nextSlot - now} end
-- The next slot lives at least as long as the spacing: a fixed lifetime shorter than it would
-- forget the spacing of slow rates (under 1 call a minute) and let calls through at once.
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', math.max(60000, tonumber(ARGV[1]) + 1000))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]) + 1000)
return {0, 0}
`;

const COOL_DOWN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000) end
return untilMs - now
`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 1
`;

export interface GateSettings {
  maxPerSecond: number;
  maxInFlight: number;
  /** How long an in-flight lease lives without renewal, so how soon a dead holder's slot frees. */
  leaseMs: number;
  /**
   * Slack for what happens between our slot and the provider's clock: a busy event loop, the
   * network. Calls are spaced (1000 + marginMs) / maxPerSecond apart, so any maxPerSecond + 1
   * calls span more than a second even when the first was delayed marginMs more than the last.
   */
  marginMs: number;
}

export interface PauseState {
  /** `provider`: DashScope refuses our key or account; `spend_cap`: today's budget is spent. */
  kind: 'provider' | 'spend_cap';
  reason: string;
  code: string;
  keyFingerprint: string;
  since: string;
}

export class FleetGate {
  private readonly keys: ReturnType<typeof fleetKeys>;

  constructor(
    private readonly redis: IORedis,
    prefix: string,
    private readonly settings: GateSettings,
  ) {
    this.keys = fleetKeys(prefix);
  }

  get intervalMs(): number {
    return Math.ceil((1000 + this.settings.marginMs) / this.settings.maxPerSecond);
  }

  /** Waits for a slot; returns the lease to give back with `release`. Throws when paused. */
  async acquire(signal?: AbortSignal): Promise<string> {
    const lease = randomUUID();
    for (;;) {
      if (signal?.aborted) throw new Error('gate wait aborted');
      const [state, waitMs] = (await this.redis.eval(
        ACQUIRE,
        4,
        this.keys.nextSlot,
        this.keys.inFlight,
        this.keys.coolDown,
        this.keys.paused,
        String(this.intervalMs),
        String(this.settings.maxInFlight),
        String(this.settings.leaseMs),
        lease,
      )) as [number, number];
      if (state === 0) return lease;
      if (state === -1) throw new FleetPausedError(await this.pauseState());
      await new Promise((resolve) => setTimeout(resolve, Math.max(5, Math.min(waitMs, 1000))));
    }
  }

  /**
   * Keeps a lease alive while its call runs. Leases are short so that a killed process frees
   * its slots within `leaseMs`, not after a whole call timeout; a live one renews its own.
   */
  keepAlive(lease: string): () => void {
    const timer = setInterval(() => {
      void this.redis.eval(RENEW, 1, this.keys.inFlight, lease, String(this.settings.leaseMs)).catch(() => undefined);
    }, Math.max(250, Math.floor(this.settings.leaseMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  async release(lease: string): Promise<void> {
    await this.redis.zrem(this.keys.inFlight, lease);
  }

  /** True when calls are paused; checked before any costly preparation of a job. */
  async isPaused(): Promise<boolean> {
    return (await this.redis.exists(this.keys.paused)) === 1;
  }

  /** After a 429: every process waits `ms` before its next call. */
  async coolDown(ms: number): Promise<number> {
    return Number(await this.redis.eval(COOL_DOWN, 1, this.keys.coolDown, String(ms)));
  }

  async pause(state: PauseState, ms: number): Promise<void> {
    await this.redis.set(this.keys.paused, JSON.stringify(state), 'PX', ms);
  }

  async resume(): Promise<void> {
    await this.redis.del(this.keys.paused);
  }

  async pauseState(): Promise<PauseState | null> {
    const raw = await this.redis.get(this.keys.paused);
    return raw ? (JSON.parse(raw) as PauseState) : null;
  }
}

export class FleetPausedError extends Error {
  constructor(readonly state: PauseState | null) {
    super(`calls to the AI provider are paused: ${state?.reason ?? 'unknown reason'}`);
    this.name = 'FleetPausedError';
  }
}
