import { AppError, ErrorCode, ledgerReference, type Me, type Session } from '@masterpost/contracts';
import type { BillingClient } from '@masterpost/platform';
import type { UsersRepository } from '../adapters/users.repository';
import { decoyPasswordHash, hashPassword, verifyPassword, type TokenService } from './auth.service';

/** Sign-up and sign-in: an account, its trial credits, and the session a client keeps. */
export class AccountsService {
  constructor(private readonly deps: { users: UsersRepository; tokens: TokenService; billing: BillingClient; signupCredits: number }) {}

  async register(email: string, password: string): Promise<Session> {
    const user = await this.deps.users.create(email, await hashPassword(password));
    if (!user) throw new AppError(409, ErrorCode.EmailTaken, 'an account with this email already exists');
    if (this.deps.signupCredits > 0) {
      // Keyed by email: a deleted and re-created account does not get the trial twice.
      await this.deps.billing.grant({ userId: user.id, amount: this.deps.signupCredits, kind: 'signup', reference: ledgerReference.signup(email), description: 'Free trial credits' });
    }
    return this.session(user);
  }

  async login(email: string, password: string): Promise<Session> {
    const user = await this.deps.users.findByEmail(email);
    // Same work whether or not the email exists: the answer's timing tells nothing.
    const matches = await verifyPassword(password, user?.password_hash ?? (await decoyPasswordHash()));
    if (!user || !matches) throw new AppError(401, ErrorCode.InvalidCredentials, 'wrong email or password');
    return this.session(user);
  }

  async me(user: { sub: string; email: string }): Promise<Me> {
    return { id: user.sub, email: user.email, credits: await this.deps.billing.account(user.sub) };
  }

  private async session(user: { id: string; email: string }): Promise<Session> {
    const credits = await this.deps.billing.account(user.id);
    return { user: { id: user.id, email: user.email }, access_token: this.deps.tokens.issue({ sub: user.id, email: user.email }), token_type: 'bearer', credits };
  }
}
