import express, { type NextFunction, type Request, type Response } from 'express';
import type Stripe from 'stripe';
import { toErrorResponse, type Pack } from '@masterpost/contracts';
import { opsMiddleware, requestContext, traceRequests, type Logger } from '@masterpost/platform';
import type { LedgerStore } from './ledger/ledger.repository';
import { internalRoutes } from './routes/internal.routes';
import { webhookRoutes } from './routes/webhook.routes';
import { CheckoutService } from './stripe/checkout.service';
import { WebhookService } from './stripe/webhook.service';

export interface BillingDeps {
  ledger: LedgerStore;
  packs: Pack[];
  serviceToken: string;
  stripe: Stripe | null;
  webhookSecret: string | undefined;
  publicUrl: string;
  logger: Logger;
  ready: () => Promise<Record<string, string>>;
  /** Prometheus text for /metrics (the ledger's reconciliation); absent in tests that do not need it. */
  metrics?: { contentType: string; text: () => Promise<string> };
}

/** Tracing on, each ledger call is a span of its caller's trace (`ledger.capture` under the processor's `capture`). */
const LEDGER_SPANS: Record<string, string> = {
  'POST /internal/holds': 'ledger.hold',
  'POST /internal/captures': 'ledger.capture',
  'POST /internal/releases': 'ledger.release',
  'POST /internal/grants': 'ledger.grant',
};
function ledgerSpanName(req: { method?: string | undefined; url?: string | undefined }): string | null | undefined {
  const path = (req.url ?? '').split('?')[0] ?? '';
  // Probes and scrapes are not traced; other routes are named by their pattern once matched.
  if (path === '/health' || path === '/ready' || path === '/metrics') return null;
  return LEDGER_SPANS[`${req.method ?? ''} ${path}`];
}

export function buildBillingApp(deps: BillingDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(deps.logger));
  app.use(traceRequests(ledgerSpanName));
  app.use(opsMiddleware({ checks: deps.ready, metrics: deps.metrics }));
  // The webhook needs the raw body, so it is mounted before the JSON parser.
  app.use(webhookRoutes({ stripe: deps.stripe, webhookSecret: deps.webhookSecret, webhooks: new WebhookService(deps.ledger, deps.packs, deps.logger), logger: deps.logger }));
  app.use(express.json({ limit: '100kb' }));
  app.use(
    '/internal',
    internalRoutes({
      ledger: deps.ledger,
      packs: deps.packs,
      serviceToken: deps.serviceToken,
      checkout: deps.stripe ? new CheckoutService(deps.stripe, deps.publicUrl) : null,
    }),
  );
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body, unexpected } = toErrorResponse(error);
    if (unexpected) deps.logger.error({ err: error }, 'request failed');
    res.status(status).json(body);
  });
  return app;
}
