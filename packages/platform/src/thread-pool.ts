import path from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';

/**
 * A few worker threads running one TypeScript module, for work that is plain JavaScript over
 * pixels. On the main thread it would stall everything else for hundreds of milliseconds: lock
 * renewals, the moment a rate-limited call is sent, a stand-in's clock.
 *
 * The module calls `serveOnThread(handler)`. A thread takes at most `perThread` requests at once
 * (it interleaves them at every await, so each one held is a picture held decoded) and the rest
 * wait here for the least busy thread with room: a long request does not hold up one queued
 * behind it while another thread is idle. An error thrown on the thread comes back as an Error
 * with the same name and message; a thread that dies fails its requests and is replaced.
 */
/**
 * `true` in the production build (scripts/build-services.ts defines it), absent under tsx and
 * jest. Built, a thread module `<package>/src/.../<name>.ts` is its own bundle
 * `<package>/dist/<name>.js`, run as it is: the image has neither the sources nor tsx.
 */
declare const __MASTERPOST_BUNDLED__: boolean | undefined;
const bundled = typeof __MASTERPOST_BUNDLED__ !== 'undefined' && __MASTERPOST_BUNDLED__;

/** Where the build writes a thread module, and where a built pool runs it from. */
export function builtThreadEntry(entry: string): string {
  const parts = entry.split(path.sep);
  const src = parts.lastIndexOf('src');
  if (src < 0) throw new Error(`a thread module must live under a src folder: ${entry}`);
  return path.join(parts.slice(0, src).join(path.sep) || path.sep, 'dist', `${path.basename(entry, path.extname(entry))}.js`);
}

interface Envelope<Result> {
  id: number;
  result?: Result;
  error?: { name: string; message: string };
}

interface Waiting<Request, Result> {
  id: number;
  request: Request;
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

interface PoolThread<Request, Result> {
  worker: Worker;
  running: Map<number, Waiting<Request, Result>>;
}

export class ThreadPool<Request, Result> {
  private readonly threads: Array<PoolThread<Request, Result>> = [];
  private readonly queue: Array<Waiting<Request, Result>> = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly entry: string,
    size: number,
    private readonly perThread = 1,
  ) {
    for (let index = 0; index < Math.max(1, size); index++) this.threads.push(this.spawn());
  }

  private spawn(): PoolThread<Request, Result> {
    // Worker threads do not inherit the process's tsx loader (nor jest's): the boot file
    // registers it before loading the module. A built service runs the built module directly.
    const worker = bundled
      ? new Worker(builtThreadEntry(this.entry))
      : new Worker(path.join(__dirname, 'thread-boot.js'), { workerData: { entry: this.entry } });
    const thread: PoolThread<Request, Result> = { worker, running: new Map() };
    worker.on('message', (message: Envelope<Result>) => {
      const waiting = thread.running.get(message.id);
      if (!waiting) return;
      thread.running.delete(message.id);
      if (message.error) waiting.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
      else waiting.resolve(message.result as Result);
      this.dispatch();
    });
    // A thread that throws outside a request, runs out of memory or exits: what it held fails,
    // a new thread takes its place. ('error' is followed by 'exit'; the second finds it gone.)
    const retire = (error: Error) => {
      const index = this.threads.indexOf(thread);
      if (index < 0) return;
      this.threads.splice(index, 1);
      for (const waiting of thread.running.values()) waiting.reject(error);
      thread.running.clear();
      if (this.closed) return;
      this.threads.push(this.spawn());
      this.dispatch();
    };
    worker.on('error', retire);
    worker.on('exit', (code) => retire(new Error(`a pool thread stopped (exit code ${code})`)));
    worker.unref();
    return thread;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const thread = this.threads.reduce<PoolThread<Request, Result> | undefined>(
        (best, candidate) => (candidate.running.size < this.perThread && (!best || candidate.running.size < best.running.size) ? candidate : best),
        undefined,
      );
      if (!thread) return;
      const next = this.queue.shift()!;
      thread.running.set(next.id, next);
      thread.worker.postMessage({ id: next.id, request: next.request });
    }
  }

  run(request: Request): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('the thread pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing = new Error('the thread pool is closed');
    for (const waiting of this.queue) waiting.reject(closing);
    this.queue.length = 0;
    for (const thread of this.threads) {
      for (const waiting of thread.running.values()) waiting.reject(closing);
      thread.running.clear();
    }
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
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
