import type { Pool } from '@masterpost/platform';

export interface UserRow {
  id: string;
  email: string;
  /** Null for a seller moved from the old Masterpost who has not chosen a password yet. */
  password_hash: string | null;
  /** The old access code's hash, until the seller chooses a password. */
  access_code_hash: string | null;
  token_version: number;
}

const USER_COLUMNS = 'id, email, password_hash, access_code_hash, token_version';

export class UsersRepository {
  constructor(private readonly pool: Pool) {}

  /** Returns null when the email is taken (the unique index decides, not a racy pre-check). */
  async create(email: string, passwordHash: string): Promise<UserRow | null> {
    const { rows } = await this.pool.query<UserRow>(
      `insert into users (email, password_hash) values ($1, $2)
       on conflict do nothing returning ${USER_COLUMNS}`,
      [email, passwordHash],
    );
    return rows[0] ?? null;
  }

  async findByEmail(email: string): Promise<UserRow | null> {
    const { rows } = await this.pool.query<UserRow>(`select ${USER_COLUMNS} from users where lower(email) = lower($1)`, [email]);
    return rows[0] ?? null;
  }

  async findById(userId: string): Promise<UserRow | null> {
    const { rows } = await this.pool.query<UserRow>(`select ${USER_COLUMNS} from users where id = $1`, [userId]);
    return rows[0] ?? null;
  }

  /** Read at every signed-in request: a token of an older version is refused. */
  async tokenVersion(userId: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ token_version: number }>('select token_version from users where id = $1', [userId]);
    return rows[0]?.token_version ?? null;
  }

  /**
   * Sets a new password, ends the old access code and every session issued before (the token
   * version goes up). Applied only if the password is still the one the caller checked: null when
   * it changed meanwhile (two changes at once, one wins).
   */
  async setPassword(userId: string, checkedHash: string | null, newHash: string): Promise<UserRow | null> {
    // The mailed links still out end with the old password (a data-modifying CTE runs whether or not it is read).
    const { rows } = await this.pool.query<UserRow>(
      `with changed as (
         update users set password_hash = $3, access_code_hash = null, token_version = token_version + 1
          where id = $1 and password_hash is not distinct from $2 returning ${USER_COLUMNS}
       ), ended as (
         update account_tokens set used_at = now() where user_id = $1 and used_at is null and exists (select 1 from changed)
       )
       select * from changed`,
      [userId, checkedHash, newHash],
    );
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
