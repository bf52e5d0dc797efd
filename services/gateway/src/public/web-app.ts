import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/** Where `npm run web:build` (packages/web) writes the seller's web app. */
export const WEB_APP_DIR = path.resolve(__dirname, '../../../../packages/web/dist');

/** Paths that are the API's or the operators': never answered with the app, whatever they ask. */
const NOT_THE_APP = /^\/(api|auth|credits|payments|health|ready|metrics|openapi\.json|docs|admin)(\/|$)/;

/**
 * The web app as static files, and its index.html for the app's own paths (/history,
 * /jobs/..., a reload anywhere), so the app's router can show them. Built files carry a content
 * hash in their names and are kept a year; index.html is asked for again every time.
 */
export function webAppRoutes(dir: string = WEB_APP_DIR): Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  router.use(
    express.static(dir, {
      index: false,
      setHeaders: (res, file) => res.setHeader('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
    }),
  );
  // A middleware, not a route: a request passed on must not carry this as its matched route (the
  // contract check reads req.route to find the answer's operation).
  router.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_THE_APP.test(req.path) || path.extname(req.path) !== '' || !req.accepts('html')) return next();
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send(`The web app is not built: run \`npm run web:build\` (it writes ${dir}).`);
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
