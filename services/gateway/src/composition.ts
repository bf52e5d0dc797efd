import type { BillingClient, Logger, Pool, Storage } from '@masterpost/platform';
import { ApiKeysRepository } from './adapters/api-keys.repository';
import type { EditQueue } from './adapters/edit-queue';
import { GalleryRepository } from './adapters/gallery.repository';
import type { JobsRepository } from './adapters/jobs.repository';
import type { ProgressHub } from './adapters/progress-hub';
import type { QueueAdapter } from './adapters/queue.adapter';
import type { UsersRepository } from './adapters/users.repository';
import type { GatewayConfig } from './config';
import { AccountDataRepository } from './adapters/account-data.repository';
import { AccountStateRepository } from './adapters/account-state.repository';
import { AccountTokensRepository } from './adapters/account-tokens.repository';
import { AccountDeletionService } from './services/account-deletion.service';
import { AccountExportService } from './services/account-export.service';
import { AccountLifecycleService } from './services/account-lifecycle.service';
import { AccountMailService } from './services/account-mail.service';
import { AccountsService } from './services/accounts.service';
import { requireVerifiedAddress } from './middleware/verified-address';
import { ApiKeysService } from './services/api-keys.service';
import type { TokenService } from './services/auth.service';
import { DownloadService } from './services/download.service';
import { EditorService } from './services/editor.service';
import { GalleryService } from './services/gallery.service';
import { IntakeService } from './services/intake.service';
import { JobCreditsService } from './services/job-credits.service';
import { JobsService } from './services/jobs.service';
import { OneCallService } from './services/one-call.service';
import { PicturesService } from './services/pictures.service';
import { WebhooksService } from './services/webhooks.service';
import { WebhooksRepository } from './adapters/webhooks.repository';

/** What the gateway's services are made of: its adapters and settings (built in main.ts). */
export interface ServiceDeps {
  config: GatewayConfig;
  pool: Pool;
  users: UsersRepository;
  jobs: JobsRepository;
  queue: QueueAdapter;
  edits: EditQueue;
  hub: ProgressHub;
  billing: BillingClient;
  storage: Storage;
  tokens: TokenService;
  logger: Logger;
}

/** The gateway's services, each made once from the adapters: the routes only call them. */
export function gatewayServices(deps: ServiceDeps) {
  const { config, jobs, storage, billing } = deps;
  const accountState = new AccountStateRepository(deps.pool);
  // Spending, keys and webhooks wait for a proven address when verification is on.
  const isVerified = config.emailVerificationRequired ? (userId: string) => accountState.isVerified(userId) : null;
  const jobsService = new JobsService({
    jobs,
    queue: deps.queue,
    storage,
    credits: new JobCreditsService({
      billing,
      holdTtlSeconds: config.HOLD_TTL_SECONDS,
      ...(isVerified ? { verifiedAddress: isVerified } : {}),
    }),
    qwenPerSecond: config.QWEN_MAX_PER_SECOND,
  });
  const intake = new IntakeService({
    jobs,
    storage,
    creditsPerImage: config.CREDITS_PER_IMAGE,
    limits: {
      maxImagesPerJob: config.MAX_IMAGES_PER_JOB,
      maxPixels: config.IMAGE_MAX_PIXELS,
      maxEntries: config.ZIP_MAX_ENTRIES,
      maxUnpackedBytes: config.ZIP_MAX_UNPACKED_BYTES,
      maxRatio: config.ZIP_MAX_RATIO,
      maxEntryBytes: config.IMAGE_MAX_BYTES,
    },
  });
  const { accounts, lifecycle } = accountServices(deps, accountState);
  const accountData = new AccountDataRepository(deps.pool);
  return {
    jobsService,
    intake,
    keys: new ApiKeysService(new ApiKeysRepository(deps.pool)),
    accounts,
    lifecycle,
    emailOf: (userId: string) => accountState.emailOf(userId),
    verifiedAddress: requireVerifiedAddress(isVerified),
    accountDeletion: new AccountDeletionService({ users: deps.users, data: accountData, storage, billing, logger: deps.logger }),
    accountExport: new AccountExportService({ data: accountData, storage }),
    oneCall: new OneCallService({ intake, jobsService, jobs, hub: deps.hub }),
    gallery: new GalleryService({ gallery: new GalleryRepository(deps.pool), jobs, storage }),
    editor: new EditorService({ jobs, edits: deps.edits, storage }),
    pictures: new PicturesService({ jobs, storage }),
    downloads: new DownloadService({ jobsService, jobs, storage }),
    webhooks: new WebhooksService({ webhooks: new WebhooksRepository(deps.pool), queue: deps.queue, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS.map((host) => host.toLowerCase()) }),
  };
}
export type GatewayServices = ReturnType<typeof gatewayServices>;

/**
 * Sign-up and sign-in (AccountsService) and what follows (AccountLifecycleService): each needs the
 * other (a new account is welcomed; a reset password answers a session), so they meet here.
 */
function accountServices(deps: ServiceDeps, state: AccountStateRepository) {
  const { config, billing, pool } = deps;
  const tokens = new AccountTokensRepository(pool);
  const mails = new AccountMailService({
    tokens, queue: deps.queue, logger: deps.logger,
    links: { publicUrl: config.PUBLIC_URL, verifySeconds: config.VERIFY_LINK_SECONDS, resetSeconds: config.RESET_LINK_SECONDS, emailChangeSeconds: config.EMAIL_CHANGE_LINK_SECONDS },
  });
  // Made just below: the lifecycle asks it for sessions only once requests arrive.
  const sessions = { sessionFor: (userId: string) => accounts.sessionFor(userId) };
  const lifecycle = new AccountLifecycleService({
    users: deps.users, state, tokens, mails, billing, logger: deps.logger,
    sessions,
    signupCredits: config.SIGNUP_CREDITS,
    verificationRequired: config.emailVerificationRequired,
  });
  const accounts: AccountsService = new AccountsService({ users: deps.users, tokens: deps.tokens, billing, lifecycle });
  return { accounts, lifecycle };
}
