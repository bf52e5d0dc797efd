import { readFile, writeFile } from 'node:fs/promises';
import initSqlJs from 'sql.js';

/**
 * An old Masterpost database as production keeps it (docs/original-system.md, "The data its
 * sellers have today"): the schema of `app/database_sqlite/schema.sql`, rows written as the old
 * app wrote them. Used by e2e/legacy-import and the import benchmark.
 */
export const OLD_SCHEMA = `
  create table users (
    email text primary key,
    access_code text unique,
    credits integer default 50,
    basic_images_processed integer default 0,
    qwen_images_processed integer default 0,
    created_at timestamp default current_timestamp,
    last_used_at timestamp
  );
  create table jobs (
    id text primary key, email text, status text, pipeline text, total_files integer, processed_files integer,
    failed_files integer, settings json, created_at timestamp, updated_at timestamp
  );
  create table transactions (
    id integer primary key autoincrement,
    email text,
    transaction_type text,
    credits_added integer,
    amount_paid real,
    stripe_session_id text,
    created_at timestamp default current_timestamp
  );`;

export interface OldUser {
  email: string | null;
  access_code: string | null;
  credits: number | string | null;
  created_at?: string;
  last_used_at?: string | null;
}

export interface OldTransaction {
  email: string;
  transaction_type: string;
  credits_added: number;
  amount_paid: number | null;
  stripe_session_id: string | null;
  created_at?: string;
}

/** An access code as the old app made them: `MP-XXXX-XXXX`, letters and digits. */
export function oldAccessCode(index: number): string {
  const digits = index.toString(36).toUpperCase().padStart(8, '0').slice(-8);
  return `MP-${digits.slice(0, 4)}-${digits.slice(4)}`;
}

/** Runs statements against an existing old database file, as the old app would (a late purchase). */
export async function changeOldDatabase(file: string, sql: string): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(await readFile(file));
  try {
    db.run(sql);
    await writeFile(file, db.export());
  } finally {
    db.close();
  }
}

export async function writeOldDatabase(
  file: string,
  data: { users: Iterable<OldUser>; transactions: Iterable<OldTransaction>; jobs?: number; afterSql?: string },
): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  try {
    db.run(OLD_SCHEMA);
    db.run('begin');
    const user = db.prepare('insert into users (email, access_code, credits, basic_images_processed, qwen_images_processed, created_at, last_used_at) values (?, ?, ?, 3, 1, ?, ?)');
    for (const row of data.users) user.run([row.email, row.access_code, row.credits, row.created_at ?? '2024-03-01 10:00:00', row.last_used_at ?? null]);
    user.free();
    const transaction = db.prepare('insert into transactions (email, transaction_type, credits_added, amount_paid, stripe_session_id, created_at) values (?, ?, ?, ?, ?, ?)');
    for (const row of data.transactions) {
      transaction.run([row.email, row.transaction_type, row.credits_added, row.amount_paid, row.stripe_session_id, row.created_at ?? '2024-03-02 11:00:00']);
    }
    transaction.free();
    for (let index = 0; index < (data.jobs ?? 0); index++) {
      db.run('insert into jobs (id, email, status, pipeline, total_files, processed_files, failed_files, settings) values (?, ?, ?, ?, 2, 2, 0, ?)', [
        `job-${index}`, 'someone@example.com', 'completed', 'amazon', '{}',
      ]);
    }
    // Changes the old app's schema saw later (a column added by hand, say), after the rows.
    if (data.afterSql) db.run(data.afterSql);
    db.run('commit');
    await writeFile(file, db.export());
  } finally {
    db.close();
  }
}
