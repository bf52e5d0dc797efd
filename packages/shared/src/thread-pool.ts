import path from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';

/**
 * A few worker threads running one TypeScript module, for work that is plain JavaScript over
 * pixels. On the main thread it would stall everything else for hundreds of milliseconds: lock
 * renewals, the moment a rate-limited call is sent, a stand-in's clock.
 *
 * The module calls `serveOnThread(handler)`; the pool sends it requests round-robin. An error
 * thrown on the thread comes back as an Error with the same name and message.
 */
interface Envelope<Result> {
  id: number;
  result?: Result;
  error?: { name: string; message: string };
}

export class ThreadPool<Request, Result> {
  private readonly threads: Worker[];
  private readonly pending = new Map<number, { resolve: (result: Result) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(entry: string, size: number) {
    this.threads = Array.from({ length: Math.max(1, size) }, () => this.spawn(entry));
  }

  private spawn(entry: string): Worker {
    // Worker threads do not inherit the process's tsx loader (nor jest's): the boot file
    // registers it before loading the module.
    const thread = new Worker(path.join(__dirname, 'thread-boot.js'), { workerData: { entry } });
    thread.on('message', (message: Envelope<Result>) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error) waiting.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
      else waiting.resolve(message.result as Result);
    });
    thread.on('error', (error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
    thread.unref();
    return thread;
  }

  run(request: Request): Promise<Result> {
    const id = this.nextId++;
    const thread = this.threads[this.turn++ % this.threads.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      thread.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }
}

/** The thread's side: answers each request with `handler`'s result or its error. */
export function serveOnThread<Request, Result>(handler: (request: Request) => Promise<Result>): void {
  parentPort?.on('message', (message: { id: number; request: Request }) => {
    handler(message.request).then(
      (result) => parentPort?.postMessage({ id: message.id, result }),
      (error: Error) => parentPort?.postMessage({ id: message.id, error: { name: error.name, message: error.message } }),
    );
  });
}
