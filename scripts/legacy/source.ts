/**
 * What the import reads from an old Masterpost database, before any judgement: values exactly
 * as stored (SQLite is dynamically typed, so a `credits` cell may hold text), and every column
 * the import does not know, so a row carrying data in one is refused rather than half-read.
 */
export type SourceName = 'sqlite' | 'supabase';

export interface SourceSeller {
  /** Where the row is, for the report: `users row 12`, `user_credits <uuid>`. */
  row: string;
  /** What the source's transactions use to point at this seller (the raw email, or a user id). */
  key: string | null;
  email: unknown;
  accessCode: unknown;
  credits: unknown;
  createdAt: unknown;
  lastUsedAt: unknown;
  /** The Supabase variant's user id, kept as the new account's id when free (old tools send it). */
  preferredId: string | null;
  /** Columns the import does not know that hold a value in this row. */
  unknownColumns: Record<string, unknown>;
}

export interface SourceTransaction {
  row: string;
  /** Unique within the source: part of the history entry's reference. */
  id: string;
  /** The seller it belongs to, as `SourceSeller.key` spells it (compared case-insensitively for emails). */
  owner: string | null;
  description: string;
  createdAt: unknown;
  stripeIds: Array<{ id: string; kind: 'checkout_session' | 'payment_intent' }>;
  unknownColumns: Record<string, unknown>;
}

export interface LegacySource {
  name: SourceName;
  /** For the report: the file or the database read. */
  label: string;
  sellers: SourceSeller[];
  transactions: SourceTransaction[];
  /** Other things found and deliberately not moved (e.g. old jobs), for the report. */
  notMoved: string[];
}

/** The columns a source row may hold that are not read into the row's fields. */
export function unknownColumnsOf(row: Record<string, unknown>, known: ReadonlySet<string>): Record<string, unknown> {
  const unknown: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (!known.has(column) && value !== null && value !== undefined && value !== '') unknown[column] = value;
  }
  return unknown;
}

/** A Stripe id by its prefix: Checkout Sessions are `cs_...`, PaymentIntents `pi_...`. */
export function stripeIdOf(value: unknown): { id: string; kind: 'checkout_session' | 'payment_intent' } | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const id = value.trim();
  return { id, kind: id.startsWith('pi_') ? 'payment_intent' : 'checkout_session' };
}

/** Old timestamps as ISO 8601: SQLite's `YYYY-MM-DD HH:MM:SS` is UTC (CURRENT_TIMESTAMP). */
export function timestampOf(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Unix seconds or milliseconds.
    const date = new Date(value < 1e11 ? value * 1000 : value);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  if (typeof value !== 'string' || value.trim() === '') return null;
  const text = value.trim();
  const sqlite = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text.replace(' ', 'T')}Z` : text;
  const date = new Date(sqlite);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
