import { AppError, ErrorCode, storageKey } from '@masterpost/contracts';
import type { BillingClient, Logger, Storage } from '@masterpost/platform';
import type { AccountDataRepository } from '../adapters/account-data.repository';
import type { UsersRepository } from '../adapters/users.repository';
import { verifyPassword } from './auth.service';

/**
 * A seller leaves: their files are deleted at once (as the retention sweep deletes them), then
 * their rows (AccountDataRepository.erase). Jobs still running are refused, not cut short: their
 * credits are held and a processor is writing their files.
 */
export class AccountDeletionService {
  constructor(private readonly deps: { users: UsersRepository; data: AccountDataRepository; storage: Storage; billing: BillingClient; logger: Logger }) {}

  async delete(userId: string, password: string | undefined): Promise<{ deleted: true; forfeited_credits: number; jobs_deleted: number }> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw new AppError(401, ErrorCode.Unauthorized, 'sign in first');
    if (user.password_hash) {
      if (password === undefined) throw new AppError(400, ErrorCode.InvalidInput, 'password: your password is needed to delete the account', { field: 'password' });
      if (!(await verifyPassword(password, user.password_hash))) throw new AppError(401, ErrorCode.InvalidCredentials, 'the password is wrong');
    }
    const running = await this.deps.data.runningJobs(userId);
    if (running > 0) throw new AppError(409, ErrorCode.JobsRunning, `${running} job${running === 1 ? ' is' : 's are'} still being processed: cancel or wait for ${running === 1 ? 'it' : 'them'}, then delete the account`, { running });
    const credits = await this.deps.billing.account(userId);

    for (const jobId of await this.deps.data.jobIds(userId)) await this.deps.storage.deletePrefix(storageKey.job(jobId));
    await this.deps.storage.deletePrefix(`qwen-cache/${userId}`);
    const jobsDeleted = await this.deps.data.erase(userId, user.email);
    this.deps.logger.info({ userId, jobsDeleted, forfeitedCredits: credits.balance }, 'account deleted');
    return { deleted: true, forfeited_credits: credits.balance, jobs_deleted: jobsDeleted };
  }
}
