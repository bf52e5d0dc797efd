import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { RedisConnection, Logger } from '@masterpost/platform';
import type { FleetGate } from '../qwen/fleet-gate';

/**
 * How many pictures one processor works on at once. A picture waiting on Qwen costs memory, not
 * CPU, so the image worker's slots follow the fleet's in-flight cap shared by the processors
 * running: each takes ceil(QWEN_MAX_IN_FLIGHT / processors) + a few spare (to prepare the next
 * input while the others wait), up to WORKER_CONCURRENCY_MAX. The CPU work is bounded apart:
 * RENDER_THREADS render threads and as many inputs prepared at once (`CpuWork`).
 * WORKER_CONCURRENCY, when set, fixes the slots instead.
 *
 * The processors running are counted by heartbeats in Redis (a sorted set of leases).
 */
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[2] == 'leave' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return redis.call('ZCARD', KEYS[1])
`;

export interface SlotSizing {
  /** WORKER_CONCURRENCY: fixed slots, or undefined for slots that follow the in-flight cap. */
  fixed: number | undefined;
  max: number;
  spare: number;
  inFlightCap: number;
}

export function imageSlotsFor(sizing: SlotSizing, processors: number): number {
  if (sizing.fixed !== undefined) return sizing.fixed;
  return Math.max(1, Math.min(sizing.max, Math.ceil(sizing.inFlightCap / Math.max(1, processors)) + sizing.spare));
}

/** The image worker's slots as they are, and how many are busy (kept by workers.ts). */
export interface ImageSlots {
  concurrency: number;
  busy: number;
}

export class ProcessorPresence {
  private readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  processors = 1;

  constructor(
    private readonly redis: RedisConnection,
    private readonly key: string,
    private readonly everyMs = 2_000,
  ) {}

  /** Says this processor runs; answers how many do. */
  async beat(): Promise<number> {
    this.processors = Math.max(1, Number(await this.redis.eval(BEAT, 1, this.key, this.id, 'beat', String(this.everyMs * 3))));
    return this.processors;
  }

  /** Beats every `everyMs` and calls `onCount` with the processors running. */
  start(onCount: (processors: number) => void, logger: Logger): void {
    this.timer = setInterval(() => {
      this.beat().then(onCount, (error: unknown) => logger.warn({ err: (error as Error).message }, 'processor heartbeat failed'));
    }, this.everyMs);
    this.timer.unref();
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(BEAT, 1, this.key, this.id, 'leave', String(this.everyMs * 3)).catch(() => undefined);
  }
}

/** CPU-bound work of this process (preparing inputs, rendering): what is queued beyond its threads means the CPU binds. */
export class CpuWork {
  inside = 0;

  constructor(readonly threads: number) {}

  get queued(): number {
    return Math.max(0, this.inside - this.threads);
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.inside++;
    try {
      return await work();
    } finally {
      this.inside--;
    }
  }
}

/**
 * Whether the machine's cores are all busy (idle under 10% since the last look): processes
 * sharing cores queue in the kernel, not in our pools, so `CpuWork` alone cannot see it.
 */
export class MachineCpu {
  private last = MachineCpu.times();

  private static times(): { idle: number; total: number } {
    return os.cpus().reduce(
      (sum, cpu) => ({ idle: sum.idle + cpu.times.idle, total: sum.total + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq + cpu.times.idle }),
      { idle: 0, total: 0 },
    );
  }

  saturated(): boolean {
    const now = MachineCpu.times();
    const [idle, total] = [now.idle - this.last.idle, now.total - this.last.total];
    this.last = now;
    return total > 0 && idle / total < 0.1;
  }
}

export type BindingLimit = 'rate' | 'in_flight' | 'worker_slots' | 'cpu' | 'none';
export const bindingLimits: BindingLimit[] = ['rate', 'in_flight', 'worker_slots', 'cpu', 'none'];

/**
 * Which limit holds this processor's pictures back now: callers waiting at the gate for the
 * rate, or for the in-flight cap; CPU work queued beyond the threads, or the machine's cores
 * all busy while this processor has work; every worker slot busy while pictures wait in the
 * queue; or none (not enough work).
 */
export function bindingLimitNow(state: { gate: FleetGate['waits']; cpuQueued: number; machineSaturated: boolean; slots: ImageSlots; queued: number }): BindingLimit {
  if (state.gate.rate > 0) return 'rate';
  if (state.gate.inFlight > 0) return 'in_flight';
  if (state.cpuQueued > 0 || (state.machineSaturated && state.slots.busy > 0)) return 'cpu';
  if (state.slots.busy >= state.slots.concurrency && state.queued > 0) return 'worker_slots';
  return 'none';
}

/** Samples the binding limit; `current` is the one that bound most of the last `windowMs`. */
export class BindingLimitTracker {
  private readonly samples: BindingLimit[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sample: () => BindingLimit,
    private readonly onSample: (limit: BindingLimit, seconds: number) => void,
    private readonly everyMs = 250,
    private readonly windowMs = 10_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      const limit = this.sample();
      this.samples.push(limit);
      if (this.samples.length > this.windowMs / this.everyMs) this.samples.shift();
      this.onSample(limit, this.everyMs / 1000);
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get current(): BindingLimit {
    const counts = new Map<BindingLimit, number>();
    for (const limit of this.samples) counts.set(limit, (counts.get(limit) ?? 0) + 1);
    // Any limit binding a quarter of the time beats `none`: work came in bursts, and that is what held it.
    let best: BindingLimit = 'none';
    let bestCount = 0;
    for (const limit of bindingLimits) {
      const count = counts.get(limit) ?? 0;
      if (limit !== 'none' && count > bestCount && count >= this.samples.length / 4) [best, bestCount] = [limit, count];
    }
    return best;
  }
}
