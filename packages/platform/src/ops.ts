import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { ErrorCode } from '@masterpost/contracts';
import type { Logger } from './logger';

/**
 * The three endpoints every service answers for its operators, the same way in each: `/health`
 * (the process runs), `/ready` (each dependency named with its state; 503 when one is down) and
 * `/metrics` (Prometheus text). The gateway and billing mount them in Express, the processor
 * serves them alone.
 */
export interface OpsEndpoints {
  /** Each dependency's state: 'ok', or what is wrong with it. */
  checks: () => Promise<Record<string, string>>;
  /** Checks shown in /ready that do not make the service unready (the gateway still takes uploads while the AI is paused). */
  advisory?: string[];
  metrics?: { contentType: string; text: () => Promise<string> };
}

type Answer = { status: number; contentType: string; body: string };

async function answerOps(url: string | undefined, endpoints: OpsEndpoints): Promise<Answer | null> {
  const json = (status: number, value: unknown): Answer => ({ status, contentType: 'application/json', body: JSON.stringify(value) });
  const route = (url ?? '').split('?')[0];
  if (route === '/health') return json(200, { status: 'ok', pid: process.pid });
  if (route === '/ready') {
    const checks = await endpoints.checks();
    const advisory = new Set(endpoints.advisory ?? []);
    const ok = Object.entries(checks).every(([name, value]) => value === 'ok' || advisory.has(name));
    return json(ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks });
  }
  if (route === '/metrics' && endpoints.metrics) {
    return { status: 200, contentType: endpoints.metrics.contentType, body: await endpoints.metrics.text() };
  }
  return null;
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
}

/** For Express (`app.use(opsMiddleware(...))`): answers the three GET routes, passes on the rest. */
export function opsMiddleware(endpoints: OpsEndpoints): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    if (req.method !== 'GET') return next();
    answerOps(req.url, endpoints).then((answer) => (answer ? send(res, answer) : next()), next);
  };
}

/** A server of the three routes alone, for a service with no other HTTP (the processor). */
export function startOpsServer(port: number, endpoints: OpsEndpoints, logger: Logger): http.Server {
  const server = http.createServer((req, res) => {
    answerOps(req.method === 'GET' ? req.url : undefined, endpoints).then(
      (answer) => send(res, answer ?? { status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: ErrorCode.NotFound, message: 'no such route' } }) }),
      (error: unknown) => {
        logger.error({ err: error }, 'ops endpoint failed');
        send(res, { status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: ErrorCode.Internal, message: 'ops endpoint failed' } }) });
      },
    );
  });
  return server.listen(port);
}

/**
 * 'ok' when the call answers within the bound, otherwise what went wrong: a connection that
 * queues commands while its server is away (ioredis) would otherwise hold /ready as long.
 */
export async function probe(call: () => Promise<unknown>, timeoutMs = 1000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([call(), timeout]);
    return 'ok';
  } catch (error) {
    return `down: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
