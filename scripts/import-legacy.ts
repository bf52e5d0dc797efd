import { createPool, defaults } from '@masterpost/platform';
import { runCommand } from './command';
import { applyPlan } from './legacy/importer';
import { planImport } from './legacy/plan';
import { buildReport } from './legacy/report';
import type { LegacySource } from './legacy/source';
import { readSqliteSource } from './legacy/sqlite-source';
import { readSupabaseSource } from './legacy/supabase-source';

/**
 * `npm run import-legacy -- --sqlite FILE [--dry-run]` or `-- --postgres URL [--dry-run]`: the
 * old Masterpost's sellers into this one's database (DATABASE_URL), each seller in one
 * transaction, safe to interrupt and to run again (README, "Moving from the old Masterpost").
 * Exit status: 0 done and every credit accounted for, 1 an error or credits unaccounted for,
 * 2 wrong arguments.
 */
const USAGE = 'usage: npm run import-legacy -- (--sqlite FILE | --postgres URL) [--dry-run] [--concurrency N]';

interface Arguments {
  sqlite?: string;
  postgres?: string;
  dryRun: boolean;
  concurrency: number;
}

function parseArguments(argv: string[]): Arguments | string {
  const parsed: Arguments = { dryRun: false, concurrency: 8 };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    const value = () => {
      const next = argv[++index];
      if (next === undefined || next.startsWith('--')) throw new Error(`${argument} needs a value`);
      return next;
    };
    try {
      if (argument === '--sqlite') parsed.sqlite = value();
      else if (argument === '--postgres') parsed.postgres = value();
      else if (argument === '--dry-run') parsed.dryRun = true;
      else if (argument === '--concurrency') {
        parsed.concurrency = Number(value());
        if (!Number.isInteger(parsed.concurrency) || parsed.concurrency < 1 || parsed.concurrency > 64) return '--concurrency must be a whole number from 1 to 64';
      } else return `unknown argument ${argument}`;
    } catch (error) {
      return (error as Error).message;
    }
  }
  if ((parsed.sqlite === undefined) === (parsed.postgres === undefined)) return 'give exactly one of --sqlite FILE and --postgres URL';
  return parsed;
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  if (typeof args === 'string') {
    console.error(`${args}\n${USAGE}`);
    return 2;
  }
  const source: LegacySource = args.sqlite !== undefined ? await readSqliteSource(args.sqlite) : await readSupabaseSource(args.postgres!);
  const plan = planImport(source);
  const pool = createPool(process.env.DATABASE_URL ?? defaults.databaseUrl, { max: args.concurrency });
  try {
    const step = Math.max(1000, Math.ceil(plan.sellers.length / 10));
    const outcomes = await applyPlan(pool, plan, {
      dryRun: args.dryRun,
      concurrency: args.concurrency,
      progress: (done, total) => {
        if (done % step === 0 && done < total) console.error(`… ${done} of ${total} sellers`);
      },
    });
    const report = buildReport(plan, outcomes, args.dryRun);
    console.log(report.lines.join('\n'));
    return report.balanced ? 0 : 1;
  } finally {
    await pool.end();
  }
}

runCommand(main);
