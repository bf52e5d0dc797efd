import { Router } from 'express';

/**
 * GET /openapi.json: the contract, made from the contracts package at start (app.ts). GET /docs: a
 * reference page over it (Scalar's API reference, loaded from its CDN by the reader's browser).
 */
export function docsRoutes(document: object): Router {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Masterpost API</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
<noscript>The reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript></body></html>`;
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.set('cache-control', 'public, max-age=300').json(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(page);
  });
  return router;
}
