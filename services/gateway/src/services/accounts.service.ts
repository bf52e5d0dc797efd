import { AppError, ErrorCode, type Me, type Session } from '@masterpost/contracts';
import type { BillingClient } from '@masterpost/platform';
import type { AccountLifecycleService } from './account-lifecycle.service';
import type { UsersRepository } from '../adapters/users.repository';
import type { UserRow } from '../adapters/users.repository';
import { decoyAccessCodeHash, decoyPasswordHash, hashPassword, normalizeAccessCode, verifyPassword, type TokenClaims, type TokenService } from './auth.service';

/**
 * Sign-up and sign-in: an account and the session a client keeps. What follows sign-up (the
 * verification mail, the trial credits) is the lifecycle service's.
 */
export class AccountsService {
  constructor(private readonly deps: { users: UsersRepository; tokens: TokenService; billing: BillingClient; lifecycle: Pick<AccountLifecycleService, 'welcome' | 'me'> }) {}

  async register(email: string, password: string): Promise<Session> {
    const user = await this.deps.users.create(email, await hashPassword(password));
    if (!user) throw new AppError(409, ErrorCode.EmailTaken, 'an account with this email already exists');
    // A verification mail, or (verification off) the trial credits at once: keyed by the address's
    // fingerprint, so a deleted and re-created account does not get the trial twice.
    await this.deps.lifecycle.welcome(user.id, email);
    return this.session(user);
  }

  async login(email: string, password: string): Promise<Session> {
    const user = await this.deps.users.findByEmail(email);
    // Same work whether or not the email exists (or has a password yet): timing tells nothing.
    const matches = await verifyPassword(password, user?.password_hash ?? (await decoyPasswordHash()));
    if (!user?.password_hash || !matches) throw new AppError(401, ErrorCode.InvalidCredentials, 'wrong email or password');
    return this.session(user);
  }

  /**
   * A seller moved from the old Masterpost, once, with the access code they had. Every code
   * sign-in costs one check at the code's cost, whatever the email (a decoy when it has no code),
   * and the session asks for a password: choosing one ends the code.
   */
  async loginWithAccessCode(email: string, accessCode: string): Promise<Session> {
    const user = await this.deps.users.findByEmail(email);
    const matches = await verifyPassword(normalizeAccessCode(accessCode), user?.access_code_hash ?? (await decoyAccessCodeHash()));
    if (!user?.access_code_hash || !matches) throw new AppError(401, ErrorCode.InvalidCredentials, 'wrong email or access code');
    return { ...(await this.session(user)), password_required: true };
  }

  /**
   * A new password for the signed-in seller. The current one is asked for unless the account has
   * none yet (a moved seller after an access-code sign-in). Every other session ends; the answer
   * is a fresh one.
   */
  async changePassword(claims: TokenClaims, currentPassword: string | undefined, newPassword: string): Promise<Session> {
    const user = await this.deps.users.findById(claims.sub);
    if (!user) throw new AppError(401, ErrorCode.Unauthorized, 'sign in first');
    if (user.password_hash !== null) {
      if (currentPassword === undefined) {
        throw new AppError(400, ErrorCode.InvalidInput, 'current_password: required to change a password', { field: 'current_password' });
      }
      if (!(await verifyPassword(currentPassword, user.password_hash))) throw new AppError(401, ErrorCode.InvalidCredentials, 'the current password is wrong');
    }
    const updated = await this.deps.users.setPassword(user.id, user.password_hash, await hashPassword(newPassword));
    if (!updated) throw new AppError(401, ErrorCode.Unauthorized, 'the password was changed meanwhile; sign in again');
    return this.session(updated);
  }

  async me(user: { sub: string; email: string }): Promise<Me> {
    return this.deps.lifecycle.me(user.sub);
  }

  /** A fresh session for a seller proven some other way (a password-reset link). */
  async sessionFor(userId: string): Promise<Session> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw new AppError(401, ErrorCode.Unauthorized, 'this account no longer exists');
    return this.session(user);
  }

  private async session(user: Pick<UserRow, 'id' | 'email' | 'token_version'>): Promise<Session> {
    const credits = await this.deps.billing.account(user.id);
    const access_token = this.deps.tokens.issue({ sub: user.id, email: user.email, ver: user.token_version });
    return { user: { id: user.id, email: user.email }, access_token, token_type: 'bearer', credits };
  }
}
