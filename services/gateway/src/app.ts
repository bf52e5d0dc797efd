import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Counter, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { ErrorCode, openApiDocument, toErrorResponse } from '@masterpost/contracts';
import { opsMiddleware, requestContext, type BillingClient, type IORedis, type Logger, type Pool, type Storage } from '@masterpost/platform';
import type { JobsRepository } from './adapters/jobs.repository';
import type { ProgressHub } from './adapters/progress-hub';
import type { EditQueue } from './adapters/edit-queue';
import type { QueueAdapter } from './adapters/queue.adapter';
import type { UsersRepository } from './adapters/users.repository';
import type { GatewayConfig } from './config';
import { editorRoutes } from './routes/editor.routes';
import { galleryRoutes } from './routes/gallery.routes';
import { stripeWebhookRoutes } from './routes/stripe-webhook.routes';
import { idempotent, type IdempotencyOptions } from './middleware/idempotency';
import { gatewayServices } from './composition';
import { createRateLimits } from './middleware/rate-limits';
import { requireUser } from './middleware/auth.middleware';
import { adminRoutes } from './routes/admin.routes';
import { accountRoutes } from './routes/account.routes';
import { authRoutes } from './routes/auth.routes';
import { catalogRoutes } from './routes/catalog.routes';
import { docsRoutes } from './routes/docs.routes';
import { contractCheck } from './middleware/contract-check';
import { oneCallRoutes } from './routes/one-call.routes';
import { keysRoutes } from './routes/keys.routes';
import { webhooksRoutes } from './routes/webhooks.routes';
import { webAppRoutes } from './public/web-app';
import { creditsRoutes } from './routes/credits.routes';
import { jobsRoutes } from './routes/jobs.routes';
import { uploadsRoutes } from './routes/uploads.routes';
import type { TokenService } from './services/auth.service';

export interface GatewayDeps {
  config: GatewayConfig;
  /** Shared by every gateway instance: the rate limits count here. */
  redis: IORedis;
  edits: EditQueue;
  pool: Pool;
  users: UsersRepository;
  jobs: JobsRepository;
  queue: QueueAdapter;
  hub: ProgressHub;
  billing: BillingClient;
  storage: Storage;
  tokens: TokenService;
  logger: Logger;
  checks: () => Promise<Record<string, string>>;
  /** Series for /metrics made beside the app (main.ts: masterpost_dependency_up, fed by `checks`). */
  metrics?: Metric[];
}

/** Express reads a number as a hop count and a string as addresses: "1" must become 1. */
export function trustProxySetting(value: string): boolean | number | string {
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

/** The API's version in the OpenAPI document: the gateway package's. */
const GATEWAY_VERSION = '0.1.0';

export function buildGatewayApp(deps: GatewayDeps): express.Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxySetting(config.TRUST_PROXY));
  app.use(requestContext(deps.logger));
  const document = openApiDocument({ version: GATEWAY_VERSION });
  if (config.CONTRACT_CHECK) app.use(contractCheck(document, deps.logger));
  const registry = httpMetrics(app);
  for (const metric of deps.metrics ?? []) registry.registerMetric(metric);

  const services = gatewayServices(deps);
  const authenticate = requireUser(deps.tokens, { keys: services.keys });
  // The AI provider's pause is shown, but the gateway still takes uploads meanwhile: they wait in the queue.
  app.use(opsMiddleware({ checks: deps.checks, advisory: ['ai_provider'], metrics: { contentType: registry.contentType, text: () => registry.metrics() } }));
  app.use(adminRoutes({ queues: [deps.queue.images, deps.queue.jobs], operators: deps.users, authenticateWithCookie: requireUser(deps.tokens, { allowCookie: true }) }));
  app.use(webAppRoutes());
  // Before the JSON parser: Stripe's signature covers the raw body.
  app.use(stripeWebhookRoutes({ billingUrl: config.BILLING_URL }));
  app.use(express.json({ limit: '200kb' }));

  const limits = createRateLimits(deps.redis, config.QUEUE_PREFIX, {
    authPerMinute: config.RATE_LIMIT_AUTH_PER_MINUTE,
    uploadsPerMinute: config.RATE_LIMIT_UPLOADS_PER_MINUTE,
    processPerMinute: config.RATE_LIMIT_PROCESS_PER_MINUTE,
    editsPerMinute: config.RATE_LIMIT_EDITS_PER_MINUTE,
    mailsPerClientPerHour: config.RATE_LIMIT_MAILS_PER_CLIENT_PER_HOUR,
    mailsPerAddressPerHour: config.RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR,
  });
  const idempotency = (scope: string, runningSeconds: number, replay?: IdempotencyOptions['replay']) => idempotent(deps.redis, config.QUEUE_PREFIX, scope, { runningSeconds, replay });
  const tempDir = path.join(config.STORAGE_DIR, 'tmp');
  app.use(['/auth/login', '/auth/register', '/auth/password'], limits.auth);
  app.use(authRoutes({ accounts: services.accounts, authenticate, authenticateSession: requireUser(deps.tokens) }));
  app.use(accountRoutes({ lifecycle: services.lifecycle, deletion: services.accountDeletion, exports: services.accountExport, authenticate, limits }));
  app.use(creditsRoutes({ billing: deps.billing, authenticate, emailOf: services.emailOf }));
  app.use(docsRoutes(document));
  // Keys are made and revoked by a signed-in seller only: a leaked key cannot mint the next one.
  app.use(keysRoutes({ keys: services.keys, authenticate: requireUser(deps.tokens), verifiedAddress: services.verifiedAddress }));
  app.use(webhooksRoutes({ webhooks: services.webhooks, authenticate, verifiedAddress: services.verifiedAddress }));
  app.use(catalogRoutes({ creditsPerPicture: config.CREDITS_PER_IMAGE, maxFiles: config.UPLOAD_MAX_FILES, maxFileBytes: config.UPLOAD_MAX_FILE_BYTES }));
  app.use(
    uploadsRoutes({
      intake: services.intake, billing: deps.billing, authenticate, rateLimit: limits.uploads, tempDir,
      // An upload of a few gigabytes may take this long; a gateway that died mid-upload frees the key after it.
      idempotent: idempotency('upload', 30 * 60),
      limits: { maxFileBytes: config.UPLOAD_MAX_FILE_BYTES, maxFiles: config.UPLOAD_MAX_FILES },
      creditsPerImage: config.CREDITS_PER_IMAGE,
      qwenPerSecond: config.QWEN_MAX_PER_SECOND,
      traces: deps.queue,
    }),
  );
  app.use(
    oneCallRoutes({
      oneCall: services.oneCall, storage: deps.storage, authenticate, rateLimit: limits.uploads, tempDir, maxPictureBytes: config.IMAGE_MAX_BYTES,
      // As long as the longest wait, and the upload before it.
      idempotent: (replay) => idempotency('picture', 10 * 60, replay),
    }),
  );
  app.use(galleryRoutes({ gallery: services.gallery, operators: deps.users, authenticate }));
  app.use(editorRoutes({ editor: services.editor, authenticate, rateLimit: limits.edits }));
  app.use(
    jobsRoutes({
      service: services.jobsService, pictures: services.pictures, downloads: services.downloads, hub: deps.hub, authenticate,
      processRateLimit: limits.process, idempotent: idempotency('process', 60), traces: deps.queue,
    }),
  );
  app.use((_req, res) => {
    res.status(404).json({ error: { code: ErrorCode.NotFound, message: 'no such route' } });
  });
  app.use(errorAnswer(deps.logger));
  return app;
}

/** Requests counted by method and status, with the process's own metrics, for /metrics. */
function httpMetrics(app: express.Express): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'status'], registers: [registry] });
  app.use((req, res, next) => {
    res.on('finish', () => requests.inc({ method: req.method, status: String(res.statusCode) }));
    next();
  });
  return registry;
}

/** Anything thrown in a route, answered in the one error shape; a fault of ours logged. */
function errorAnswer(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body, unexpected } = toErrorResponse(error);
    if (unexpected) logger.error({ err: error }, 'request failed');
    // A client told "not now" is told when to try again (the rate limiter says it for 429 itself).
    if ((status === 503 || status === 429) && !res.getHeader('retry-after')) res.set('retry-after', '5');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json(body);
  };
}
