import { type Command, InvalidArgumentError, type Option } from 'commander';
import type { ExitCode } from '../exit-codes';
import { listJobs, listMovements } from './history';

/** `masterpost jobs` and `masterpost history` with their help; the work is in history.ts. */
function pageSize(max: number) {
  return (value: string): number => {
    const size = Number(value);
    if (!Number.isInteger(size) || size < 1 || size > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
    return size;
  };
}

export function registerHistory(program: Command, finish: (code: ExitCode) => void, urlOption: () => Option): void {
  program
    .command('jobs')
    .description('List your jobs, newest first: when, id, status, marketplace, pictures done and failed, credits charged.')
    .option('-n, --limit <count>', 'at most this many (1-100)', pageSize(100), 20)
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .addOption(urlOption())
    .addHelpText('after', '\nColumns are tab-separated. A job\'s pictures: masterpost status <job id>, masterpost download <job id>.\n\nExample:\n  $ masterpost jobs --limit 5')
    .action(async (options: { url?: string; limit: number; cursor?: string }) => finish(await listJobs(options)));

  program
    .command('history')
    .description('List the movements of your credits, newest first: grants, purchases, charges, releases, refunds.')
    .option('-n, --limit <count>', 'at most this many (1-200)', pageSize(200), 50)
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .addOption(urlOption())
    .addHelpText('after', '\nColumns are tab-separated: when, change, kind, description.\n\nExample:\n  $ masterpost history --limit 10')
    .action(async (options: { url?: string; limit: number; cursor?: string }) => finish(await listMovements(options)));
}
