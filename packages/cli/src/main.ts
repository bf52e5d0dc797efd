import { run } from './program';

/** The `masterpost` command (bin/masterpost.js, or `node --import tsx packages/cli/src/main.ts`). */

// `masterpost --help | head`: a reader that stops early is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

void run(process.argv).then((code) => {
  // Set, not process.exit(): stdout is flushed before the process ends.
  process.exitCode = code;
});
