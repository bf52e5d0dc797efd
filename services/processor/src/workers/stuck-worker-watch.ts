import { Queue, type Worker } from 'bullmq';
import type { Logger, RedisConnection } from '@masterpost/platform';

/**
 * A worker whose blocking connection stays wedged takes nothing while its queue fills: BullMQ's
 * own watchdog does not always recover it after a Redis Cluster failover (taskforcesh/bullmq
 * #4138, #4585; seen here in e2e/redis-cluster: every picture delivered, the job's finalizer left
 * waiting). Every `everyMs` this looks at each watched queue: when the same job is still the
 * oldest waiting one and the worker was running and not paused at both looks, the worker is
 * replaced by a new one (a new blocking connection); the old one finishes what it holds, unawaited.
 *
 * Only for workers no gate holds back (the finalizer, edits, webhooks, mail, sweeps): the picture
 * worker's jobs wait for the fleet's rate by design, and a full picture queue is not a stuck one.
 */
export interface WatchedWorker {
  queueName: string;
  current(): Worker;
  /** Makes a new worker for the queue and closes the old one. */
  replace(): void;
}

export class StuckWorkerWatch {
  private readonly queues = new Map<string, Queue>();
  /** The oldest waiting job at the last look, per queue, and whether the worker was running and not paused then. */
  private readonly seen = new Map<string, { oldest: string; free: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private looking = false;

  constructor(
    private readonly watched: WatchedWorker[],
    connection: RedisConnection,
    prefix: string,
    private readonly everyMs: number,
    private readonly logger: Logger,
  ) {
    for (const entry of watched) this.queues.set(entry.queueName, new Queue(entry.queueName, { connection, prefix }));
  }

  start(): void {
    this.timer = setInterval(() => void this.lookOnce(), this.everyMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }

  /** One look at every watched queue; a look that fails (Redis away) is simply the next one's to make. */
  async lookOnce(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    try {
      for (const entry of this.watched) await this.look(entry).catch(() => undefined);
    } finally {
      this.looking = false;
    }
  }

  private async look(entry: WatchedWorker): Promise<void> {
    const [oldest] = await this.queues.get(entry.queueName)!.getWaiting(0, 0);
    const worker = entry.current();
    const free = worker.isRunning() && !worker.isPaused();
    const before = this.seen.get(entry.queueName);
    if (!oldest?.id) {
      this.seen.delete(entry.queueName);
      return;
    }
    if (before && before.oldest === oldest.id && before.free && free) {
      this.logger.warn({ queue: entry.queueName, jobId: oldest.id, waitedMs: Date.now() - oldest.timestamp }, 'a job waits while the worker takes nothing: the worker is replaced (a new Redis blocking connection)');
      this.seen.delete(entry.queueName);
      entry.replace();
      return;
    }
    this.seen.set(entry.queueName, { oldest: oldest.id, free });
  }
}
