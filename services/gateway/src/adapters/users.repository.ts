import type { Pool } from '@masterpost/platform';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
}

export class UsersRepository {
  constructor(private readonly pool: Pool) {}

  /** Returns null when the email is taken (the unique index decides, not a racy pre-check). */
  async create(email: string, passwordHash: string): Promise<UserRow | null> {
    const { rows } = await this.pool.query<UserRow>(
      `insert into users (email, password_hash) values ($1, $2)
       on conflict do nothing returning id, email, password_hash`,
      [email, passwordHash],
    );
    return rows[0] ?? null;
  }

  async findByEmail(email: string): Promise<UserRow | null> {
    const { rows } = await this.pool.query<UserRow>('select id, email, password_hash from users where lower(email) = lower($1)', [email]);
    return rows[0] ?? null;
  }

  /** Operators are granted by `npm run operator -- grant EMAIL`, never by the address alone. */
  async isOperator(userId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ is_operator: boolean }>('select is_operator from users where id = $1', [userId]);
    return rows[0]?.is_operator ?? false;
  }

  /** Returns false when no account has this address. */
  async setOperator(email: string, operator: boolean): Promise<boolean> {
    const result = await this.pool.query('update users set is_operator = $2 where lower(email) = lower($1)', [email, operator]);
    return (result.rowCount ?? 0) > 0;
  }
}
