import { readFile } from 'node:fs/promises';
import initSqlJs, { type Database } from 'sql.js';
import { stripeIdOf, unknownColumnsOf, type LegacySource, type SourceSeller, type SourceTransaction } from './source';

/**
 * The old production database (`backend/data/masterpost.db`, docs/original-system.md), read with
 * sql.js (SQLite in WebAssembly: nothing to compile, and Node 20 has no node:sqlite). The file is
 * read whole into memory and never written.
 */
const USER_COLUMNS = new Set(['email', 'access_code', 'credits', 'basic_images_processed', 'qwen_images_processed', 'created_at', 'last_used_at']);
const TRANSACTION_COLUMNS = new Set(['id', 'email', 'transaction_type', 'credits_added', 'amount_paid', 'stripe_session_id', 'created_at']);
const REQUIRED_USER_COLUMNS = ['email', 'credits'];

function columnsOf(db: Database, table: string): string[] {
  const result = db.exec(`pragma table_info(${table})`)[0];
  return result ? result.values.map((row) => String(row[1])) : [];
}

function rowsOf(db: Database, sql: string): Array<Record<string, unknown>> {
  const statement = db.prepare(sql);
  const rows: Array<Record<string, unknown>> = [];
  try {
    while (statement.step()) rows.push(statement.getAsObject() as Record<string, unknown>);
  } finally {
    statement.free();
  }
  return rows;
}

/** What an old transaction was, in words a seller recognises, with a note that it moves nothing now. */
function describe(row: Record<string, unknown>): string {
  const parts = [typeof row.transaction_type === 'string' && row.transaction_type.trim() ? row.transaction_type.trim() : 'transaction'];
  const credits = row.credits_added;
  if (typeof credits === 'number' && credits !== 0) parts.push(`${credits > 0 ? '+' : ''}${credits} credits`);
  const paid = row.amount_paid;
  if ((typeof paid === 'number' && paid !== 0) || (typeof paid === 'string' && paid.trim() !== '')) parts.push(`paid ${String(paid)}`);
  return `Before the move: ${parts.join(', ')} (already in the credits brought over)`;
}

export async function readSqliteSource(file: string): Promise<LegacySource> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new Error(`--sqlite ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (bytes.subarray(0, 16).toString('latin1') !== 'SQLite format 3\u0000') throw new Error(`--sqlite ${file}: not a SQLite database`);
  const SQL = await initSqlJs();
  const db = new SQL.Database(bytes);
  try {
    const userColumns = columnsOf(db, 'users');
    if (userColumns.length === 0) throw new Error(`--sqlite ${file}: no users table (is this the old Masterpost database?)`);
    const missing = REQUIRED_USER_COLUMNS.filter((column) => !userColumns.includes(column));
    if (missing.length) throw new Error(`--sqlite ${file}: the users table lacks the column(s) ${missing.join(', ')}`);

    const sellers: SourceSeller[] = rowsOf(db, 'select rowid as "__rowid", * from users order by rowid').map((row) => ({
      row: `users row ${String(row.__rowid)}`,
      key: typeof row.email === 'string' ? row.email : null,
      email: row.email,
      accessCode: row.access_code ?? null,
      credits: row.credits,
      createdAt: row.created_at ?? null,
      lastUsedAt: row.last_used_at ?? null,
      preferredId: null,
      unknownColumns: unknownColumnsOf(row, new Set([...USER_COLUMNS, '__rowid'])),
    }));

    const transactions: SourceTransaction[] = columnsOf(db, 'transactions').length === 0 ? [] : rowsOf(db, 'select rowid as "__rowid", * from transactions order by rowid').map((row) => {
      const stripe = stripeIdOf(row.stripe_session_id);
      return {
        row: `transactions row ${String(row.__rowid)}`,
        id: String(row.id ?? `row-${String(row.__rowid)}`),
        owner: typeof row.email === 'string' ? row.email : null,
        description: describe(row),
        createdAt: row.created_at ?? null,
        stripeIds: stripe ? [stripe] : [],
        unknownColumns: unknownColumnsOf(row, new Set([...TRANSACTION_COLUMNS, '__rowid'])),
      };
    });

    const notMoved: string[] = [];
    if (columnsOf(db, 'jobs').length > 0) {
      const jobs = Number(db.exec('select count(*) from jobs')[0]?.values[0]?.[0] ?? 0);
      notMoved.push(`jobs: ${jobs} old job row(s) not moved (the move brings accounts, credits and purchases, not past jobs)`);
    }
    return { name: 'sqlite', label: file, sellers, transactions, notMoved };
  } finally {
    db.close();
  }
}
