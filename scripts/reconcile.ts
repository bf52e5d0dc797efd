import { createLogger, createPool, defaults } from '@masterpost/platform';
import { LedgerStore } from '../services/billing/src/ledger/ledger.repository';
import { Reconciliation } from '../services/billing/src/ledger/reconciliation';
import { PgFunctions } from '../services/billing/src/ledger/sql-functions';
import { runCommand } from './command';

/**
 * `npm run reconcile [-- --window-days N] [-- --orphan-grace-seconds N]`: the ledger checked
 * against the jobs once, now (billing also does it every RECONCILE_EVERY_MS). Prints every
 * difference and exits 1 when there is any.
 */
function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
  return value;
}

async function main(): Promise<number> {
  const pool = createPool(process.env.DATABASE_URL ?? defaults.databaseUrl);
  const logger = createLogger('reconcile', 'warn');
  try {
    const reconciliation = new Reconciliation(
      { pool, ledger: new LedgerStore(new PgFunctions(pool)), logger },
      { windowDays: option('window-days', 30), orphanGraceSeconds: option('orphan-grace-seconds', 600) },
    );
    const report = await reconciliation.run();
    console.log(`pictures checked: ${report.checkedPictures}`);
    console.log(`reservations returned (no job held them): ${report.releasedOrphanHolds.length}`);
    for (const reference of report.releasedOrphanHolds) console.log(`  - ${reference}`);
    console.log(`differences: ${report.mismatches.length}`);
    for (const mismatch of report.mismatches) console.log(`  - ${mismatch.kind}: ${mismatch.subject}: ${mismatch.detail}`);
    return report.mismatches.length > 0 ? 1 : 0;
  } finally {
    await pool.end();
  }
}

runCommand(main);
