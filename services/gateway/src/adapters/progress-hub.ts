import { EventEmitter } from 'node:events';
import { jobIdOfProgressChannel, progressChannel } from '@masterpost/contracts';
import { type RedisConnection } from '@masterpost/platform';

/**
 * One Redis subscription per gateway process for every progress stream it serves: the
 * processor publishes "job X changed" and each open SSE stream of job X is told.
 */
export class ProgressHub {
  private readonly events = new EventEmitter();

  constructor(
    private readonly subscriber: RedisConnection,
    private readonly prefix: string,
  ) {
    this.events.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.subscriber.on('pmessage', (_pattern: string, channel: string) => {
      const jobId = jobIdOfProgressChannel(this.prefix, channel);
      if (jobId) this.events.emit(jobId);
    });
    await this.subscriber.psubscribe(progressChannel(this.prefix, '*'));
  }

  onChange(jobId: string, listener: () => void): () => void {
    this.events.on(jobId, listener);
    return () => this.events.off(jobId, listener);
  }
}
