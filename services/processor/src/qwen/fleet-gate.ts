import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fleetKeys } from '@masterpost/contracts';
import { type RedisConnection } from '@masterpost/platform';

/**
 * One gate in Redis for every processor process, passed right before each call to DashScope.
 *
 * The rate is a sliding window over the times calls were really sent, not the times they were
 * allowed: a granted call is `pending` until its caller says the request left (`markSent`, from
 * the socket's `finish`), and the gate counts pending calls as if they were sent now. Calls are
 * evenly spaced, `(1000 + marginMs) / rate` ms apart by their real send times, so no sliding
 * second ever holds more than the rate: by construction, however late a granted call leaves its
 * busy process, since the next one is granted only a whole spacing after the last one really
 * left (or, if it has not yet, after it has). A grant nobody reported (its process died) counts as sent at its
 * deadline, and a caller that finds its grant too old to still send in time gives it back.
 *
 * Also: at most `maxInFlight` calls are open at once, and nobody calls while the fleet cools
 * down after a 429 or is paused. In-flight leases expire on their own, so a killed process
 * cannot hold a slot forever.
 *
 * The rate itself adapts below the configured one (the account's real limit may be lower):
 * `throttled` cuts it (multiplicative decrease, one cut per burst of 429s; a lone 429 at the
 * configured rate is taken for jitter and only cools down) and `clean` probes
 * back up (additive increase) while answers are clean; the state is one Redis hash the fleet
 * shares, so every processor slows down and speeds up together.
 */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** The current fleet rate: the adaptive one, never above this caller's configured ceiling. */
const RATE = `
local function currentRate(key, maxRate)
  local stored = tonumber(redis.call('HGET', key, 'rate') or '0')
  if stored <= 0 then return maxRate end
  return math.min(maxRate, stored)
end
`;

/** How long a sent call is kept in the window log: longer than any window, and a minute at least. */
const SENT_KEEP = `
local function sentKeep(window) return math.max(60000, window * 2) end
`;

/**
 * KEYS: sent, in-flight, cool-down, paused, pending, rate.
 * ARGV: configured rate, in-flight cap, lease ms, lease id, margin ms, pending deadline ms, keep ms.
 * Answers {0, rate × 1000} when granted, or {state, ms to wait}: -1 paused, -2 cooling down,
 * -3 the in-flight cap, -4 the rate.
 */
const ACQUIRE = `${NOW}${RATE}${SENT_KEEP}
local pausedFor = redis.call('PTTL', KEYS[4])
if pausedFor > 0 then return {-1, pausedFor} end
local cool = tonumber(redis.call('GET', KEYS[3]) or '0')
if cool > now then return {-2, cool - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return {-3, 25} end
-- A grant whose holder never said it sent (a process that died) counts as sent at its deadline.
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'WITHSCORES')
for i = 1, #expired, 2 do
  redis.call('ZADD', KEYS[1], expired[i + 1], expired[i])
  redis.call('ZREM', KEYS[5], expired[i])
end
local rate = currentRate(KEYS[6], tonumber(ARGV[1]))
-- One call per window: evenly spaced by their real send times (DashScope also refuses bursts).
local k = 1
local window = math.ceil((1000 + tonumber(ARGV[5])) / rate)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - sentKeep(window))
local pending = redis.call('ZCARD', KEYS[5])
local recent = redis.call('ZCOUNT', KEYS[1], '(' .. (now - window), '+inf')
if pending + recent >= k then
  -- Wait until enough sent calls leave the window; pending ones leave it only once sent.
  local drop = pending + recent - k + 1
  if drop > recent then return {-4, 10} end
  local leaving = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - window), '+inf', 'WITHSCORES', 'LIMIT', drop - 1, 1)
  return {-4, math.max(1, tonumber(leaving[2]) + window - now)}
end
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[6]), ARGV[4])
redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[6]) + tonumber(ARGV[7]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[7]))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]) + 1000)
return {0, math.floor(rate * 1000)}
`;

/** KEYS: pending, sent. ARGV: lease, keep ms. The call left: it counts in the window from now. */
const SENT = `${NOW}
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
  return now
end
local recorded = redis.call('ZSCORE', KEYS[2], ARGV[1])
if recorded then return tonumber(recorded) end
return 0
`;

/**
 * KEYS: in-flight, pending, sent. ARGV: lease, 'unsent' or 'maybe', keep ms. A grant that may
 * have been sent without saying so (the request failed half-way) counts as sent now.
 */
const RELEASE = `${NOW}
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 and ARGV[2] == 'maybe' then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[3]))
end
return 1
`;

const COOL_DOWN = `${NOW}
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000) end
return untilMs - now
`;

const RENEW = `${NOW}
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 1
`;

/** The adaptive rate lives a day without news, then the fleet starts again from its settings. */
const RATE_KEEP_MS = 24 * 3600 * 1000;

/**
 * A 429 for a call sent at ARGV[2] (Redis ms; 0 unknown). KEYS: rate. ARGV: configured rate,
 * sent at, first cut factor, cut factor near a known limit, lowest rate, lone 429 ms, quiet ms after a cut. One cut per burst: a 429
 * for a call sent before the last cut was caused by the old rate and cuts nothing more.
 * Answers the rate × 1000 after it.
 */
const THROTTLED = `${NOW}${RATE}
local maxRate = tonumber(ARGV[1])
local rate = currentRate(KEYS[1], maxRate)
local lastCut = tonumber(redis.call('HGET', KEYS[1], 'lastCut') or '0')
local sentAt = tonumber(ARGV[2])
if sentAt <= 0 then sentAt = now end
-- Calls sent before the last cut, or soon after it (the provider's window still holds the old
-- rate's calls), were refused for the old rate: one cut per burst.
if sentAt <= lastCut + tonumber(ARGV[7]) then return math.floor(rate * 1000) end
local known = tonumber(redis.call('HGET', KEYS[1], 'ceiling') or '0')
-- At the configured rate with no limit known, a lone 429 (none in the last ARGV[6] ms) is taken
-- for the provider's jitter: the cool-down only. A second one soon after cuts.
local lastStrike = tonumber(redis.call('HGET', KEYS[1], 'lastStrike') or '0')
redis.call('HSET', KEYS[1], 'lastStrike', now)
redis.call('PEXPIRE', KEYS[1], ${RATE_KEEP_MS})
if known == 0 and rate >= maxRate and now - lastStrike > tonumber(ARGV[6]) then return math.floor(rate * 1000) end
local factor = tonumber(ARGV[3])
if known > 0 then factor = tonumber(ARGV[4]) end
local newRate = math.max(tonumber(ARGV[5]), rate * factor)
redis.call('HSET', KEYS[1], 'rate', tostring(newRate), 'ceiling', tostring(rate), 'lastCut', now, 'lastStep', now, 'cuts', (tonumber(redis.call('HGET', KEYS[1], 'cuts') or '0') + 1))
redis.call('PEXPIRE', KEYS[1], ${RATE_KEEP_MS})
return math.floor(newRate * 1000)
`;

/**
 * A clean answer. KEYS: rate. ARGV: configured rate, step, step ms, hold ms. Additive increase,
 * one step every `step ms` at most: at full pace up to just under the rate last refused, then
 * held there a while, then past it at a quarter pace; once past it cleanly the limit has risen
 * and the pace is full again, up to the configured rate.
 */
const CLEAN = `${NOW}${RATE}
local maxRate = tonumber(ARGV[1])
local rate = currentRate(KEYS[1], maxRate)
if rate >= maxRate then return math.floor(rate * 1000) end
local lastCut = tonumber(redis.call('HGET', KEYS[1], 'lastCut') or '0')
local lastStep = math.max(lastCut, tonumber(redis.call('HGET', KEYS[1], 'lastStep') or '0'))
if now - lastStep < tonumber(ARGV[3]) then return math.floor(rate * 1000) end
local known = tonumber(redis.call('HGET', KEYS[1], 'ceiling') or '0')
local step = tonumber(ARGV[2])
local upTo = maxRate
if known > 0 then
  if rate < known * 0.95 - 1e-6 then upTo = known * 0.95
  elseif now - lastCut < tonumber(ARGV[4]) then return math.floor(rate * 1000)
  else step = step / 4 end
end
local newRate = math.min(upTo, rate + step)
if known > 0 and newRate > known then redis.call('HDEL', KEYS[1], 'ceiling') end
redis.call('HSET', KEYS[1], 'rate', tostring(newRate), 'lastStep', now)
redis.call('PEXPIRE', KEYS[1], ${RATE_KEEP_MS})
return math.floor(newRate * 1000)
`;

export interface GateSettings {
  /** The configured rate: a ceiling the adaptive rate stays under. */
  maxPerSecond: number;
  maxInFlight: number;
  /** How long an in-flight lease lives without renewal, so how soon a dead holder's slot frees. */
  leaseMs: number;
  /**
   * Slack in ms a second (calls are spaced (1000 + marginMs) / rate apart) for the provider's side
   * only: how late its clock may stamp one request compared with another. Our own stalls need
   * none: the spacing counts real send times.
   */
  marginMs: number;
  /** Adaptive rate: how it cuts and probes. Defaults in `defaultAdaptation`. */
  adapt?: Partial<Adaptation>;
}

export interface Adaptation {
  /** The rate is multiplied by this on the first 429 (nothing known about the limit yet). */
  firstCut: number;
  /** ... and by this on a 429 once a limit is known (the fleet probes near it). */
  cut: number;
  /** Share of the configured rate added per clean step. */
  stepShare: number;
  stepMs: number;
  /** How long the fleet holds just under a refused rate before probing past it. */
  holdMs: number;
  /** At the configured rate, a 429 with none this long before it cuts nothing (the provider's jitter). */
  loneMs: number;
  /** A 429 for a call sent within this long after a cut belongs to the burst that caused the cut. */
  quietMs: number;
}

export const defaultAdaptation: Adaptation = { firstCut: 0.8, cut: 0.9, stepShare: 0.05, stepMs: 2_000, holdMs: 20_000, loneMs: 10_000, quietMs: 2_000 };

export interface PauseState {
  /** `provider`: DashScope refuses our key or account; `spend_cap`: today's budget is spent. */
  kind: 'provider' | 'spend_cap';
  reason: string;
  code: string;
  keyFingerprint: string;
  since: string;
}

/** Why callers of this process are waiting at the gate right now (what /metrics reports as binding). */
export interface GateWaits {
  rate: number;
  inFlight: number;
}

/** Keys of the gate beyond the shared ones in contracts' fleetKeys. */
export function gateKeys(prefix: string) {
  return {
    sent: `${prefix}:qwen:sent`,
    pending: `${prefix}:qwen:pending`,
    rate: `${prefix}:qwen:rate`,
  };
}

export class FleetGate {
  private readonly keys: ReturnType<typeof fleetKeys> & ReturnType<typeof gateKeys>;
  private readonly adaptation: Adaptation;
  /** When each open grant of this process was asked for (performance.now()), to tell a stale one. */
  private readonly asked = new Map<string, number>();
  readonly waits: GateWaits = { rate: 0, inFlight: 0 };

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    private readonly settings: GateSettings,
  ) {
    this.keys = { ...fleetKeys(prefix), ...gateKeys(prefix) };
    this.adaptation = { ...defaultAdaptation, ...settings.adapt };
  }

  get maxPerSecond(): number {
    return this.settings.maxPerSecond;
  }

  get maxInFlight(): number {
    return this.settings.maxInFlight;
  }

  /** A grant must be sent within this long of being asked for, or be given back (see `sendable`). */
  private get pendingMs(): number {
    return Math.max(2_000, this.settings.leaseMs);
  }

  /** How long the log of send times lives without news: longer than the slowest rate's window. */
  private get sentKeepMs(): number {
    return 2 * (100_000 + this.settings.marginMs) + 10_000;
  }

  /** Waits for a slot; returns the lease to give back with `release`. Throws when paused. */
  async acquire(signal?: AbortSignal): Promise<string> {
    const lease = randomUUID();
    let waitingFor: keyof GateWaits | null = null;
    const waitFor = (reason: keyof GateWaits | null) => {
      if (waitingFor) this.waits[waitingFor]--;
      if (reason) this.waits[reason]++;
      waitingFor = reason;
    };
    try {
      for (;;) {
        if (signal?.aborted) throw new Error('gate wait aborted');
        const asked = performance.now();
        const [state, waitMs] = (await this.redis.eval(
          ACQUIRE,
          6,
          this.keys.sent,
          this.keys.inFlight,
          this.keys.coolDown,
          this.keys.paused,
          this.keys.pending,
          this.keys.rate,
          String(this.settings.maxPerSecond),
          String(this.settings.maxInFlight),
          String(this.settings.leaseMs),
          lease,
          String(this.settings.marginMs),
          String(this.pendingMs),
          String(this.sentKeepMs),
        )) as [number, number];
        if (state === 0) {
          this.asked.set(lease, asked);
          return lease;
        }
        if (state === -1) throw new FleetPausedError(await this.pauseState());
        waitFor(state === -3 ? 'inFlight' : 'rate');
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(waitMs, 1000))));
      }
    } finally {
      waitFor(null);
    }
  }

  /**
   * Whether a grant can still be sent: it counts in the window as sent at its deadline at the
   * latest, so one asked for too long ago (a stalled process) is given back instead.
   */
  sendable(lease: string): boolean {
    const asked = this.asked.get(lease);
    return asked !== undefined && performance.now() - asked < this.pendingMs / 2;
  }

  /** The request left (its last byte handed to the OS): it counts in the window from now. Answers when (Redis ms). */
  async markSent(lease: string): Promise<number> {
    this.asked.delete(lease);
    return Number(await this.redis.eval(SENT, 2, this.keys.pending, this.keys.sent, lease, String(this.sentKeepMs)));
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

  /**
   * Frees the in-flight slot. `unsent`: the request never started, so the grant leaves the rate
   * window too; otherwise a grant not yet marked sent may have gone out and counts as sent now.
   */
  async release(lease: string, sent: 'unsent' | 'maybe' = 'maybe'): Promise<void> {
    this.asked.delete(lease);
    await this.redis.eval(RELEASE, 3, this.keys.inFlight, this.keys.pending, this.keys.sent, lease, sent, String(this.sentKeepMs));
  }

  /** A 429 for a call sent at `sentAt` (Redis ms, 0 unknown): the fleet's rate is cut once per burst. Answers the new rate. */
  async throttled(sentAt: number): Promise<number> {
    const { firstCut, cut } = this.adaptation;
    const lowest = Math.max(0.01, this.settings.maxPerSecond / 50);
    const rate = await this.redis.eval(
      THROTTLED, 1, this.keys.rate, String(this.settings.maxPerSecond), String(sentAt), String(firstCut), String(cut), String(lowest), String(this.adaptation.loneMs),
      String(this.adaptation.quietMs),
    );
    return Number(rate) / 1000;
  }

  /**
   * A clean answer: the fleet's rate probes back up, a step at a time, but only while callers of
   * this process wait for the rate (clean answers at a rate nobody needs say nothing about the
   * limit). Answers the rate, or null when it did not try.
   */
  async clean(): Promise<number | null> {
    if (this.waits.rate === 0) return null;
    const { stepShare, stepMs, holdMs } = this.adaptation;
    const step = this.settings.maxPerSecond * stepShare;
    const rate = await this.redis.eval(CLEAN, 1, this.keys.rate, String(this.settings.maxPerSecond), String(step), String(stepMs), String(holdMs));
    return Number(rate) / 1000;
  }

  /** The fleet's current rate (calls a second), the calls open now and the rate cuts so far. */
  async state(): Promise<{ rate: number; inFlight: number; knownLimit: number | null; cuts: number }> {
    const [[, fields], [, inFlight]] = (await this.redis
      .multi()
      .hmget(this.keys.rate, 'rate', 'ceiling', 'cuts')
      .zcount(this.keys.inFlight, `(${Date.now()}`, '+inf')
      .exec()) as [[null, Array<string | null>], [null, number]];
    const stored = Number(fields[0] ?? 0);
    return {
      rate: stored > 0 ? Math.min(stored, this.settings.maxPerSecond) : this.settings.maxPerSecond,
      inFlight: Number(inFlight),
      knownLimit: fields[1] ? Number(fields[1]) : null,
      cuts: Number(fields[2] ?? 0),
    };
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
