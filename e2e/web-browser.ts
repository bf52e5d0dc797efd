import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * What the web app's browser tests and the screenshot script share: Debian's Chromium, the
 * accessibility check, and a stand-in for Stripe's API and Checkout page.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 360, height: 740 };

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser test needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); .ci/run installs it`);
  }
  // The flags keep a headless Chromium from reaching for Google's services on a closed network.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** axe-core's serious and critical violations on the page as it is now, one line each (empty when none). */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Page code as strings: the workspace's type check has no DOM library.
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate<AxeViolation[]>("axe.run(document, { resultTypes: ['violations'] }).then((results) => results.violations)");
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => JSON.stringify(node.target)).join(', ')}`);
}

export interface StripeStandIn {
  url: string;
  /** The Checkout Sessions billing created, with what it sent Stripe. */
  sessions: Array<{ id: string; metadata: Record<string, string>; amountCents: number; successUrl: string }>;
  close(): Promise<void>;
}

/**
 * Stripe's API (POST /v1/checkout/sessions) and its Checkout page: paying is a redirect to the
 * session's success_url. Billing's PUBLIC_URL is the production address; the stack's gateway
 * port is only known once it runs, so the page sends the buyer to `gatewayUrl()` with the
 * success_url's path and query.
 */
export async function startStripeStandIn(gatewayUrl: () => string): Promise<StripeStandIn> {
  const sessions: StripeStandIn['sessions'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const id = `cs_test_web_${sessions.length + 1}`;
        const metadata: Record<string, string> = {};
        for (const [key, value] of form) {
          const name = /^metadata\[(.+)\]$/.exec(key)?.[1];
          if (name) metadata[name] = value;
        }
        sessions.push({ id, metadata, amountCents: Number(form.get('line_items[0][price_data][unit_amount]')), successUrl: form.get('success_url') ?? '' });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id, object: 'checkout.session', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pay/${id}` }));
        return;
      }
      const paying = /^\/pay\/(.+)$/.exec(url.pathname)?.[1];
      const session = sessions.find((candidate) => candidate.id === paying);
      if (req.method === 'GET' && session) {
        const back = new URL(session.successUrl.replace('{CHECKOUT_SESSION_ID}', session.id));
        res.writeHead(303, { location: `${gatewayUrl()}${back.pathname}${back.search}` });
        res.end();
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: `no route ${req.method} ${url.pathname}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sessions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Stripe's `checkout.session.completed` for a session, as Stripe would send it. */
export function checkoutCompletedEvent(session: StripeStandIn['sessions'][number]): string {
  return JSON.stringify({
    id: `evt_${session.id}`, object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000), livemode: false,
    data: { object: { id: session.id, object: 'checkout.session', payment_status: 'paid', amount_total: session.amountCents, payment_intent: `pi_${session.id}`, metadata: session.metadata } },
  });
}
