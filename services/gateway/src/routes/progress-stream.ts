import type { Response } from 'express';
import type { Progress } from '@masterpost/contracts';
import type { ProgressHub } from '../adapters/progress-hub';

/**
 * Server-sent events for one job: `progress` on every change the processors publish (and every
 * 2 s as a safety net should a message be lost), then `done` once the job is finished and
 * settled. One read at a time: a change during a read triggers one more read, not a pile.
 */
export function streamProgress(res: Response, jobId: string, deps: { hub: ProgressHub; read: () => Promise<Progress>; onClose: (stop: () => void) => void }): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let closed = false;
  let sending = false;
  let again = false;
  const send = async () => {
    if (closed) return;
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    try {
      const progress = await deps.read();
      if (closed) return;
      res.write(`event: progress\ndata: ${JSON.stringify(progress)}\n\n`);
      if (progress.finished) {
        res.write(`event: done\ndata: ${JSON.stringify({ job_id: jobId, status: progress.status })}\n\n`);
        stop();
        res.end();
      }
    } catch {
      stop();
      res.end();
    } finally {
      sending = false;
      if (again && !closed) {
        again = false;
        void send();
      }
    }
  };
  const unsubscribe = deps.hub.onChange(jobId, () => void send());
  const poll = setInterval(() => void send(), 2000);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
  const stop = () => {
    closed = true;
    unsubscribe();
    clearInterval(poll);
    clearInterval(heartbeat);
  };
  deps.onClose(stop);
  return send();
}
