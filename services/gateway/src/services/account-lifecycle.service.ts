import { createHash } from 'node:crypto';
import { AppError, ErrorCode, ledgerReference, type Me, type Session } from '@masterpost/contracts';
import type { BillingClient, Logger } from '@masterpost/platform';
import type { AccountStateRepository } from '../adapters/account-state.repository';
import type { AccountTokensRepository } from '../adapters/account-tokens.repository';
import type { UsersRepository } from '../adapters/users.repository';
import type { AccountMailService } from './account-mail.service';
import { hashPassword, verifyPassword } from './auth.service';

/** The hex SHA-256 of an address as the ledger keys it (SQL's email_fingerprint without the prefix). */
export const emailFingerprint = (email: string): string => createHash('sha256').update(email.trim().toLowerCase()).digest('hex');

const invalidLink = () => new AppError(400, ErrorCode.InvalidToken, 'this link is unknown, was used already or has expired; ask for a new one');

/**
 * What happens to an account after sign-up: its address proven (and the trial credits granted
 * then, once), a forgotten password reset from a mailed link, a new address confirmed from its
 * own mailbox, and the seller's mail preferences. Sessions come from the accounts service.
 */
export class AccountLifecycleService {
  constructor(
    private readonly deps: {
      users: UsersRepository;
      state: AccountStateRepository;
      tokens: AccountTokensRepository;
      mails: AccountMailService;
      billing: BillingClient;
      sessions: { sessionFor(userId: string): Promise<Session> };
      signupCredits: number;
      /** Signup credits and spending wait for a followed verification link. */
      verificationRequired: boolean;
      logger: Logger;
    },
  ) {}

  /** Right after an account is made: a verification mail, or (verification off) the trial at once. */
  async welcome(userId: string, email: string): Promise<void> {
    if (this.deps.verificationRequired) {
      await this.deps.mails.sendVerification(userId, email);
      return;
    }
    await this.deps.state.markVerified(userId);
    await this.grantTrial(userId, email);
  }

  async verifyEmail(token: string): Promise<Me> {
    const valid = await this.deps.tokens.peek('verify_email', token);
    const email = valid ? await this.deps.state.emailOf(valid.user_id) : null;
    if (!valid || !email) throw invalidLink();
    // The trial first, then the link used up: billing away leaves the link working for a retry,
    // and the grant is keyed by the address, so two clicks at once grant once.
    await this.grantTrial(valid.user_id, email);
    const userId = await this.deps.tokens.transaction(async (db) => {
      const used = await this.deps.tokens.use(db, 'verify_email', token);
      if (used) await this.deps.state.markVerified(used.user_id, db);
      return used?.user_id ?? null;
    });
    if (!userId) throw invalidLink();
    return this.me(userId);
  }

  async resendVerification(userId: string): Promise<string> {
    const state = await this.accountState(userId);
    if (state.email_verified) return 'this address is verified already';
    await this.deps.mails.sendVerification(userId, state.email);
    return `a new link is on its way to ${state.email}; the one before no longer works`;
  }

  /**
   * The answer is the same, and as quick, whether or not the address has an account: the lookup
   * and the mail happen after it.
   */
  forgotPassword(email: string): void {
    void (async () => {
      const user = await this.deps.users.findByEmail(email);
      if (user) await this.deps.mails.sendPasswordReset(user.id, user.email);
    })().catch((error: Error) => this.deps.logger.error({ err: error.message }, 'could not mail a password reset'));
  }

  /** A new password from a reset link: the access code and every session before end; API keys stay. */
  async resetPassword(token: string, newPassword: string): Promise<Session> {
    const hash = await hashPassword(newPassword);
    const userId = await this.deps.tokens.transaction(async (db) => {
      const used = await this.deps.tokens.use(db, 'reset_password', token);
      if (!used) return null;
      await db.query('update users set password_hash = $2, access_code_hash = null, token_version = token_version + 1 where id = $1', [used.user_id, hash]);
      await this.deps.tokens.endAll(db, used.user_id);
      // Whoever reads the seller's mail may reset: the address is proven as well, and what was
      // made before it was proven (by whoever signed up with it) goes.
      if (await this.deps.state.markVerified(used.user_id, db)) await this.deps.state.dropUnprovenAccess(db, used.user_id);
      return used.user_id;
    });
    if (!userId) throw invalidLink();
    return this.deps.sessions.sessionFor(userId);
  }

  async requestEmailChange(userId: string, newEmail: string, password: string): Promise<string> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw new AppError(401, ErrorCode.Unauthorized, 'sign in first');
    if (!user.password_hash) throw new AppError(400, ErrorCode.InvalidInput, 'password: choose a password first (POST /auth/password), then change the address', { field: 'password' });
    if (!(await verifyPassword(password, user.password_hash))) throw new AppError(401, ErrorCode.InvalidCredentials, 'the password is wrong');
    if (newEmail === user.email.toLowerCase()) throw new AppError(400, ErrorCode.InvalidInput, 'new_email: is the address the account has', { field: 'new_email' });
    if (await this.deps.state.emailTaken(newEmail)) throw new AppError(409, ErrorCode.EmailTaken, 'an account with this email already exists');
    await this.deps.mails.sendEmailChange(userId, user.email, newEmail);
    return `a link is on its way to ${newEmail}; the address changes once it is followed`;
  }

  async confirmEmail(token: string): Promise<Me> {
    const outcome = await this.deps.tokens
      .transaction(async (db) => {
        const used = await this.deps.tokens.use(db, 'change_email', token);
        if (!used?.new_email) return null;
        const changed = await this.deps.state.changeEmail(db, used.user_id, used.new_email);
        return { userId: used.user_id, changed: changed !== null };
      })
      .catch((error: { code?: string }) => {
        // Someone registered the address between the check and the change: the unique index says so.
        if (error.code === '23505') return { userId: '', changed: false };
        throw error;
      });
    if (!outcome) throw invalidLink();
    if (!outcome.changed) throw new AppError(409, ErrorCode.EmailTaken, 'another account took this address meanwhile; the account keeps its address');
    return this.me(outcome.userId);
  }

  async setPreferences(userId: string, notifyPicturesReady: boolean): Promise<Me> {
    await this.deps.state.setNotifyPicturesReady(userId, notifyPicturesReady);
    return this.me(userId);
  }

  async me(userId: string): Promise<Me> {
    const [state, credits] = await Promise.all([this.accountState(userId), this.deps.billing.account(userId)]);
    return { id: userId, credits, ...state };
  }

  private async accountState(userId: string) {
    const state = await this.deps.state.state(userId);
    if (!state) throw new AppError(401, ErrorCode.Unauthorized, 'sign in first');
    return state;
  }

  private async grantTrial(userId: string, email: string): Promise<void> {
    if (this.deps.signupCredits <= 0) return;
    await this.deps.billing.grant({ userId, amount: this.deps.signupCredits, kind: 'signup', reference: ledgerReference.signup(emailFingerprint(email)), description: 'Free trial credits' });
  }
}
