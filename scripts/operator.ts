import { createPool, defaults } from '@masterpost/platform';
import { UsersRepository } from '../services/gateway/src/adapters/users.repository';
import { runCommand } from './command';

/**
 * `npm run operator -- grant EMAIL` (or `revoke EMAIL`, or `list`): who may open Bull Board and
 * add to the gallery. Granted explicitly by someone with the database, to an account that
 * already exists, so nobody becomes an operator by signing up first with a listed address.
 */
async function main(): Promise<number> {
  const [action, email] = process.argv.slice(2);
  const pool = createPool(process.env.DATABASE_URL ?? defaults.databaseUrl);
  try {
    if (action === 'list') {
      const { rows } = await pool.query<{ email: string }>('select email from users where is_operator order by email');
      console.log(rows.length ? rows.map((row) => row.email).join('\n') : '(no operators)');
      return 0;
    }
    if ((action !== 'grant' && action !== 'revoke') || !email) {
      console.error('usage: npm run operator -- grant EMAIL | revoke EMAIL | list');
      return 2;
    }
    if (!(await new UsersRepository(pool).setOperator(email, action === 'grant'))) {
      console.error(`no account with the address ${email}: sign up first, then grant`);
      return 1;
    }
    console.log(action === 'grant' ? `${email} is now an operator` : `${email} is no longer an operator`);
    return 0;
  } finally {
    await pool.end();
  }
}

runCommand(main);
