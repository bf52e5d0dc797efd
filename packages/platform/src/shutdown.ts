import type { Logger } from 'pino';
import { stopTracing } from './tracing';

/**
 * Every service shuts down the same way on SIGTERM/SIGINT: run its close steps in order (stop
 * taking work first), and exit anyway once `boundMs` has passed so an orchestrator never has to
 * SIGKILL a process that is stuck waiting on a dependency.
 */
export function handleShutdown(logger: Logger, steps: Array<() => Promise<unknown>>, boundMs = 20_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ boundMs }, 'shutdown bound reached, exiting');
      process.exit(1);
    }, boundMs);
    timer.unref();
    void (async () => {
      for (const step of steps) {
        try {
          await step();
        } catch (error) {
          logger.warn({ err: error }, 'a shutdown step failed');
        }
      }
      // The spans of the last moments, still batched, go out before the process does.
      await stopTracing();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
