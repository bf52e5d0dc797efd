import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Router } from 'express';
import { publicRoutes } from '@masterpost/contracts';
import { accountRoutes } from './account.routes';
import { authRoutes } from './auth.routes';
import { catalogRoutes } from './catalog.routes';
import { creditsRoutes } from './credits.routes';
import { docsRoutes } from './docs.routes';
import { editorRoutes } from './editor.routes';
import { galleryRoutes } from './gallery.routes';
import { jobsRoutes } from './jobs.routes';
import { keysRoutes } from './keys.routes';
import { webhooksRoutes } from './webhooks.routes';
import { oneCallRoutes } from './one-call.routes';
import { stripeWebhookRoutes } from './stripe-webhook.routes';
import { uploadsRoutes } from './uploads.routes';

/**
 * A route missing from the OpenAPI document is a bug: every route the gateway's routers register
 * is in the contracts' route table the document is made from. Bull Board (/admin/queues) is an
 * operator's page, not the API. The routers only register handlers here; none of them runs.
 */
const unused = {} as never;
const pass = ((_req: unknown, _res: unknown, next: () => void) => next()) as never;

function registered(router: Router): string[] {
  return router.stack.flatMap((layer) => {
    const route = layer.route as { path: string; methods: Record<string, boolean> } | undefined;
    if (!route) return [];
    const openApiPath = route.path.replace(/:(\w+)/g, '{$1}');
    return Object.keys(route.methods).map((method) => `${method} ${openApiPath}`);
  });
}

test('every route the gateway serves is in the OpenAPI route table, with the same method', () => {
  const routers = [
    authRoutes({ accounts: unused, authenticate: pass, authenticateSession: pass }),
    creditsRoutes({ billing: unused, authenticate: pass, emailOf: unused }),
    catalogRoutes({ creditsPerPicture: 3, maxFiles: 1, maxFileBytes: 1 }),
    docsRoutes({}),
    uploadsRoutes({
      intake: unused, billing: unused, authenticate: pass, rateLimit: pass, idempotent: pass,
      tempDir: mkdtempSync(path.join(os.tmpdir(), 'documented-')), limits: { maxFiles: 1, maxFileBytes: 1 }, creditsPerImage: 3, qwenPerSecond: 1,
    }),
    galleryRoutes({ gallery: unused, operators: unused, authenticate: pass }),
    editorRoutes({ editor: unused, authenticate: pass, rateLimit: pass }),
    jobsRoutes({ service: unused, pictures: unused, downloads: unused, hub: unused, authenticate: pass, processRateLimit: pass, idempotent: pass }),
    stripeWebhookRoutes({ billingUrl: 'http://127.0.0.1:1' }),
    keysRoutes({ keys: unused, authenticate: pass, verifiedAddress: pass }),
    webhooksRoutes({ webhooks: unused, authenticate: pass, verifiedAddress: pass }),
    accountRoutes({
      lifecycle: unused, deletion: unused, exports: unused, authenticate: pass,
      limits: { auth: pass, uploads: pass, process: pass, edits: pass, mailsFromClient: pass, mailsToAddress: () => pass, exports: pass },
    }),
    oneCallRoutes({
      oneCall: unused, storage: unused, authenticate: pass, rateLimit: pass, idempotent: () => pass,
      tempDir: mkdtempSync(path.join(os.tmpdir(), 'documented-')), maxPictureBytes: 1,
    }),
  ];
  const served = routers.flatMap(registered);
  const documented = new Set(publicRoutes.map((route) => `${route.method} ${route.path}`));
  expect(served.length).toBeGreaterThan(20);
  expect(served.filter((route) => !documented.has(route))).toEqual([]);
});
