import { z } from 'zod';
import { timestampOf, type LegacySource, type SourceName, type SourceSeller } from './source';

/**
 * From rows to sellers, with no database: each row is taken whole or skipped with its reason,
 * rows whose emails differ only in case become one seller (credits added), and each seller's
 * old transactions become history entries. Pure, so a dry run and a real run plan the same.
 */
export interface HistoryEntry {
  reference: string;
  description: string;
  created_at: string | null;
}

export interface SellerPlan {
  /** Trimmed, lower case: the account's address and the grant's key. */
  email: string;
  sourceEmails: string[];
  rows: string[];
  credits: number;
  accessCode: string | null;
  preferredId: string | null;
  createdAt: string | null;
  history: HistoryEntry[];
  stripeIds: Array<{ id: string; kind: 'checkout_session' | 'payment_intent' }>;
}

export interface SkippedRow {
  row: string;
  email: string;
  /** The row's credits when they are a whole number (counted in the source's total), else null. */
  credits: number | null;
  reason: string;
}

export interface ImportPlan {
  source: SourceName;
  label: string;
  rowsRead: number;
  sellers: SellerPlan[];
  skipped: SkippedRow[];
  /** Case variants merged: the seller and the rows that became it. */
  merged: Array<{ email: string; rows: string[]; sourceEmails: string[] }>;
  /** Transactions that belong to no row read (or to a skipped one): not moved. */
  orphanTransactions: Array<{ row: string; owner: string; reason: string }>;
  creditsInSource: number;
  notMoved: string[];
}

const emailSchema = z.email().max(254);

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value) : String(value);
}

/** The row's own problems, or null when it can be taken. */
function problemOf(seller: SourceSeller): string | null {
  const unknown = Object.entries(seller.unknownColumns);
  if (unknown.length) return `unknown column(s) holding data: ${unknown.map(([column, value]) => `${column} = ${show(value)}`).join(', ')}`;
  if (seller.email === null || seller.email === undefined || (typeof seller.email === 'string' && seller.email.trim() === '')) return 'no email';
  if (typeof seller.email !== 'string' || !emailSchema.safeParse(seller.email.trim()).success) return `malformed email ${show(seller.email)}`;
  if (seller.credits === null || seller.credits === undefined) return 'no credits value';
  if (typeof seller.credits !== 'number' || !Number.isSafeInteger(seller.credits)) return `credits ${show(seller.credits)} is not a whole number`;
  if (seller.credits < 0) return `negative credits (${seller.credits})`;
  return null;
}

/** The row whose access code a merged seller keeps: the one used last, then the richest. */
function preferred(a: SourceSeller, b: SourceSeller): SourceSeller {
  const used = (seller: SourceSeller) => timestampOf(seller.lastUsedAt) ?? '';
  if (used(a) !== used(b)) return used(a) > used(b) ? a : b;
  return Number(a.credits) >= Number(b.credits) ? a : b;
}

export function planImport(source: LegacySource): ImportPlan {
  const skipped: SkippedRow[] = [];
  const groups = new Map<string, SourceSeller[]>();
  let creditsInSource = 0;
  for (const seller of source.sellers) {
    const wholeCredits = typeof seller.credits === 'number' && Number.isSafeInteger(seller.credits) ? seller.credits : null;
    if (wholeCredits !== null) creditsInSource += wholeCredits;
    const problem = problemOf(seller);
    if (problem) {
      skipped.push({ row: seller.row, email: typeof seller.email === 'string' ? seller.email : '', credits: wholeCredits, reason: problem });
      continue;
    }
    const email = (seller.email as string).trim().toLowerCase();
    groups.set(email, [...(groups.get(email) ?? []), seller]);
  }

  // Transactions by owner: an email compared as the seller's, a user id as it is.
  const ownerKey = (owner: string) => (source.name === 'sqlite' ? owner.trim().toLowerCase() : owner);
  const sellerOfOwner = new Map<string, string>();
  for (const [email, rows] of groups) for (const row of rows) if (row.key !== null) sellerOfOwner.set(ownerKey(row.key), email);
  const skippedOwners = new Map<string, string>();
  for (const row of source.sellers) if (row.key !== null && !sellerOfOwner.has(ownerKey(row.key))) skippedOwners.set(ownerKey(row.key), row.row);

  const historyOf = new Map<string, HistoryEntry[]>();
  const stripeOf = new Map<string, SellerPlan['stripeIds']>();
  const refusedByTransaction = new Map<string, string>();
  const orphanTransactions: ImportPlan['orphanTransactions'] = [];
  for (const transaction of source.transactions) {
    const email = transaction.owner === null ? undefined : sellerOfOwner.get(ownerKey(transaction.owner));
    if (!email) {
      const owner = transaction.owner ?? '(none)';
      const skippedRow = transaction.owner === null ? undefined : skippedOwners.get(ownerKey(transaction.owner));
      orphanTransactions.push({ row: transaction.row, owner, reason: skippedRow ? `its seller (${skippedRow}) was skipped` : 'no seller row with this owner' });
      continue;
    }
    const unknown = Object.entries(transaction.unknownColumns);
    if (unknown.length) {
      // A seller is never half-imported: one unreadable transaction holds the whole seller back.
      refusedByTransaction.set(email, `${transaction.row} has unknown column(s) holding data: ${unknown.map(([column, value]) => `${column} = ${show(value)}`).join(', ')}`);
      continue;
    }
    historyOf.set(email, [...(historyOf.get(email) ?? []), {
      reference: `legacy:${source.name}:${email}:tx:${transaction.id}`,
      description: transaction.description,
      created_at: timestampOf(transaction.createdAt),
    }]);
    stripeOf.set(email, [...(stripeOf.get(email) ?? []), ...transaction.stripeIds]);
  }

  const sellers: SellerPlan[] = [];
  const merged: ImportPlan['merged'] = [];
  for (const [email, rows] of groups) {
    const refusal = refusedByTransaction.get(email);
    if (refusal) {
      for (const row of rows) skipped.push({ row: row.row, email: row.email as string, credits: row.credits as number, reason: refusal });
      continue;
    }
    const keeper = rows.reduce(preferred);
    const sourceEmails = [...new Set(rows.map((row) => row.email as string))].sort();
    if (rows.length > 1) merged.push({ email, rows: rows.map((row) => row.row), sourceEmails });
    const created = rows.map((row) => timestampOf(row.createdAt)).filter((value): value is string => value !== null).sort()[0] ?? null;
    const code = keeper.accessCode === null || keeper.accessCode === undefined ? '' : String(keeper.accessCode).trim();
    const stripeIds = [...new Map((stripeOf.get(email) ?? []).map((id) => [id.id, id])).values()];
    sellers.push({
      email,
      sourceEmails,
      rows: rows.map((row) => row.row),
      credits: rows.reduce((sum, row) => sum + (row.credits as number), 0),
      accessCode: code === '' ? null : code,
      preferredId: keeper.preferredId,
      createdAt: created,
      history: historyOf.get(email) ?? [],
      stripeIds,
    });
  }
  return {
    source: source.name,
    label: source.label,
    rowsRead: source.sellers.length,
    sellers,
    skipped,
    merged,
    orphanTransactions,
    creditsInSource,
    notMoved: source.notMoved,
  };
}
