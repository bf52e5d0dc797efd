import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import request from 'supertest';
import { createLogger, createPool, type Pool } from '@masterpost/platform';
import { dropDatabase, ensureDatabase, migrate } from '../../../db/migrate';
import { buildBillingApp } from '../src/app';
import { LedgerStore } from '../src/ledger/ledger.repository';
import { createSupabaseClient } from '@masterpost/platform';
import { PgFunctions, SupabaseFunctions, type SqlFunctions } from '../src/ledger/sql-functions';
import { parsePacks } from '../src/packs';
import { createStripeClient } from '../src/stripe/checkout.service';
import { prepareAsSupabase } from '../../../tools/supabase-sim/src/roles';
import { startPostgrestStandIn } from '../../../tools/supabase-sim/src/server';

/**
 * Stripe's webhooks as Stripe sends them, signed with the stripe library's own test-header
 * helper, against billing's real HTTP app and ledger on Postgres. What is checked is what a
 * seller would see: the credits on their account and the history behind them.
 */
const databaseUrl = `postgres://postgres@127.0.0.1:5432/mp_webhooks_${randomBytes(4).toString('hex')}`;
const WEBHOOK_SECRET = 'whsec_test_secret_for_masterpost';
const SERVICE_TOKEN = 'service-token-'.padEnd(40, 'x');
const SERVICE_KEY = 'service-role-key';
const stripe = new Stripe('sk_test_unused');
const packs = parsePacks(undefined);
const pro = packs.find((pack) => pack.id === 'pro')!;
const logger = createLogger('billing-test', 'silent');

let pool: Pool;
let postgrest: Awaited<ReturnType<typeof startPostgrestStandIn>>;

function appWith(sql: SqlFunctions, stripeClient: Stripe | null = stripe, publicUrl = 'http://localhost:8080') {
  return buildBillingApp({
    ledger: new LedgerStore(sql),
    packs,
    serviceToken: SERVICE_TOKEN,
    stripe: stripeClient,
    webhookSecret: WEBHOOK_SECRET,
    publicUrl,
    logger,
    ready: async () => ({ postgres: 'ok' }),
  });
}

beforeAll(async () => {
  await ensureDatabase(databaseUrl);
  // Set up as a Supabase project is (the stand-in answers the service key as service_role).
  await prepareAsSupabase(databaseUrl);
  await migrate(databaseUrl);
  pool = createPool(databaseUrl, { max: 20 });
  postgrest = await startPostgrestStandIn(pool, SERVICE_KEY);
});
afterAll(async () => {
  await postgrest.close();
  await pool.end();
  await dropDatabase(databaseUrl);
});

let sequence = 0;
function event(type: string, object: Record<string, unknown>): { id: string; body: string } {
  const id = `evt_test_${randomBytes(8).toString('hex')}`;
  const body = JSON.stringify({
    id, object: 'event', api_version: '2025-09-30.clover', created: Math.floor(Date.now() / 1000) + sequence++,
    livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, data: { object },
  });
  return { id, body };
}

function session(user: string, overrides: Record<string, unknown> = {}) {
  const id = `cs_test_${randomBytes(8).toString('hex')}`;
  return {
    id, object: 'checkout.session', mode: 'payment', status: 'complete', payment_status: 'paid', amount_total: pro.price_cents,
    currency: 'usd', payment_intent: `pi_${randomBytes(8).toString('hex')}`, client_reference_id: user,
    metadata: { user_id: user, pack_id: pro.id, credits: String(pro.credits) }, ...overrides,
  };
}

const charge = (paymentIntent: string, amountRefunded: number) => ({
  id: `ch_${paymentIntent.slice(3)}`, object: 'charge', amount: pro.price_cents, amount_refunded: amountRefunded,
  refunded: amountRefunded === pro.price_cents, payment_intent: paymentIntent, currency: 'usd',
});

/** An object exactly as Stripe's API reference prints it (fixtures/stripe-published/SOURCES.md). */
const published = (name: 'checkout-session' | 'charge' | 'dispute' | 'event') =>
  JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'stripe-published', `${name}.json`), 'utf8')) as Record<string, unknown>;

/** Stripe's published event envelope around an object; a fresh id so each delivery is a new event. */
function publishedEvent(type: string, object: Record<string, unknown>): string {
  return JSON.stringify({ ...published('event'), id: `evt_${randomBytes(12).toString('hex')}`, api_version: '2025-10-29.clover', type, data: { object } });
}

const dispute = (paymentIntent: string, status: string) => ({
  id: `dp_${paymentIntent.slice(3)}`, object: 'dispute', amount: pro.price_cents, charge: `ch_${paymentIntent.slice(3)}`,
  payment_intent: paymentIntent, status, reason: 'fraudulent', currency: 'usd',
});

describe.each(['postgres', 'supabase'] as const)('webhooks, ledger through %s', (transport) => {
  let api: ReturnType<typeof request>;
  let ledger: LedgerStore;

  beforeAll(() => {
    const sql = transport === 'postgres' ? new PgFunctions(pool) : new SupabaseFunctions(createSupabaseClient(postgrest.url, SERVICE_KEY));
    api = request(appWith(sql));
    ledger = new LedgerStore(sql);
  });

  const deliver = (body: string, header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET })) =>
    api.post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', header).send(body);

  test('bad, missing, stale and re-serialised signatures: 400, nothing written', async () => {
    const user = randomUUID();
    const { body } = event('checkout.session.completed', session(user));
    const stale = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 301 });
    const wrong = stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_someone_else' });
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    for (const [payload, header] of [[body, stale], [body, wrong], [reserialised, stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET })]] as const) {
      const answer = await deliver(payload, header).expect(400);
      expect(answer.body.error.code).toBe('invalid_signature');
    }
    await api.post('/payments/webhook').set('content-type', 'application/json').send(body).expect(400);
    expect(await ledger.account(user)).toEqual({ balance: 0, reserved: 0, available: 0 });
    expect((await pool.query('select count(*)::int as n from stripe_events where payment_key = $1', [JSON.parse(body).data.object.payment_intent])).rows[0].n).toBe(0);
  });

  test('one event delivered five times at once: one grant, every delivery answered 2xx', async () => {
    const user = randomUUID();
    const { body } = event('checkout.session.completed', session(user));
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(body)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((answer) => answer.body.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'granted']);
    expect(await ledger.account(user)).toEqual({ balance: 100, reserved: 0, available: 100 });
    expect((await ledger.history(user, 10)).map((item) => [item.kind, item.delta])).toEqual([['purchase', 100]]);
  });

  test('unpaid at completion, then the async payment succeeds: granted once; an async failure grants nothing', async () => {
    const user = randomUUID();
    const pending = session(user, { payment_status: 'unpaid' });
    expect((await deliver(event('checkout.session.completed', pending).body).expect(200)).body.outcome).toBe('recorded');
    expect((await ledger.account(user)).balance).toBe(0);
    const paid = { ...pending, payment_status: 'paid' };
    expect((await deliver(event('checkout.session.async_payment_succeeded', paid).body).expect(200)).body.outcome).toBe('granted');
    // completed redelivered late, now saying paid: still one grant.
    await deliver(event('checkout.session.completed', paid).body).expect(200);
    expect((await ledger.account(user)).balance).toBe(100);

    const unlucky = randomUUID();
    const failing = session(unlucky, { payment_status: 'unpaid' });
    await deliver(event('checkout.session.completed', failing).body).expect(200);
    await deliver(event('checkout.session.async_payment_failed', failing).body).expect(200);
    expect(await ledger.account(unlucky)).toEqual({ balance: 0, reserved: 0, available: 0 });
  });

  test("credits follow the server's pack table, never the event: a session paid another price grants nothing", async () => {
    const user = randomUUID();
    const cheap = session(user, { amount_total: 100, metadata: { user_id: user, pack_id: pro.id, credits: '100000' } });
    expect((await deliver(event('checkout.session.completed', cheap).body).expect(200)).body.outcome).toBe('ignored');
    expect((await ledger.account(user)).balance).toBe(0);
  });

  test('two partial refunds take back credits in proportion, once each, whatever the order', async () => {
    const user = randomUUID();
    const bought = session(user);
    const pi = bought.payment_intent;
    await deliver(event('checkout.session.completed', bought).body).expect(200);
    const first = event('charge.refunded', charge(pi, 250)); // $2.50 of $10: 25 credits
    const second = event('charge.refunded', charge(pi, 600)); // cumulative $6.00: 60 credits in all
    await deliver(second.body).expect(200);
    await deliver(first.body).expect(200); // the older, smaller cumulative amount arrives last
    await deliver(second.body).expect(200); // and a redelivery
    expect(await ledger.account(user)).toEqual({ balance: 40, reserved: 0, available: 40 });
    expect((await ledger.history(user, 10)).map((item) => [item.kind, item.delta])).toEqual([['reversal', -60], ['purchase', 100]]);
  });

  test('a refund that arrives before its grant: the grant then nets it out', async () => {
    const user = randomUUID();
    const bought = session(user);
    await deliver(event('charge.refunded', charge(bought.payment_intent, pro.price_cents)).body).expect(200);
    expect((await ledger.account(user)).balance).toBe(0);
    await deliver(event('checkout.session.completed', bought).body).expect(200);
    expect(await ledger.account(user)).toEqual({ balance: 0, reserved: 0, available: 0 });
    expect((await ledger.history(user, 10)).map((item) => item.kind)).toEqual(['reversal', 'purchase']);
  });

  test('a dispute after the credits were spent: the rest becomes a debt, new work is refused until it is paid; won, all is given back', async () => {
    const user = randomUUID();
    const bought = session(user);
    const pi = bought.payment_intent;
    await deliver(event('checkout.session.completed', bought).body).expect(200);
    await ledger.hold(user, 90, `job:${user}`, 3600, 'a big job');
    await ledger.settle(`job:${user}`, 'capture', 90, `image:${user}`, '30 pictures');

    await deliver(event('charge.dispute.created', dispute(pi, 'needs_response')).body).expect(200);
    expect(await ledger.account(user)).toEqual({ balance: 0, reserved: 0, available: 0, owed: 90 });
    expect((await ledger.hold(user, 3, `job2:${user}`, 3600, 'more')).status).toBe('in_debt');

    // A later purchase pays the debt first.
    await deliver(event('checkout.session.completed', session(user)).body).expect(200);
    expect(await ledger.account(user)).toEqual({ balance: 10, reserved: 0, available: 10 });

    await deliver(event('charge.dispute.closed', dispute(pi, 'won')).body).expect(200);
    // A stale "updated" after the close changes nothing: the outcome is final.
    await deliver(event('charge.dispute.updated', dispute(pi, 'under_review')).body).expect(200);
    expect(await ledger.account(user)).toEqual({ balance: 110, reserved: 0, available: 110 });
    expect((await ledger.hold(user, 3, `job3:${user}`, 3600, 'more')).status).toBe('held');
  });

  test("Stripe's published examples: a completed session grants, a partial refund takes back its share, a prevented (blocked) dispute takes nothing and stays final", async () => {
    const user = randomUUID();
    const pi = `pi_${randomBytes(12).toString('hex')}`;
    // The published session is open and unpaid; completed, it is `complete` and `paid`, and ours carries our metadata.
    const completed = {
      ...published('checkout-session'), id: `cs_test_${randomBytes(12).toString('hex')}`, status: 'complete', payment_status: 'paid',
      amount_subtotal: pro.price_cents, amount_total: pro.price_cents, payment_intent: pi, client_reference_id: user,
      metadata: { user_id: user, pack_id: pro.id, credits: String(pro.credits) },
    };
    expect((await deliver(publishedEvent('checkout.session.completed', completed)).expect(200)).body.outcome).toBe('granted');
    expect(await ledger.account(user)).toEqual({ balance: 100, reserved: 0, available: 100 });

    // The published charge, a quarter refunded: refunds are not expanded since API 2022-11-15, only the running total counts.
    const refunded = { ...published('charge'), amount: pro.price_cents, amount_captured: pro.price_cents, amount_refunded: pro.price_cents / 4, payment_intent: pi };
    await deliver(publishedEvent('charge.refunded', refunded)).expect(200);
    expect(await ledger.account(user)).toEqual({ balance: 75, reserved: 0, available: 75 });

    // A dispute Stripe blocked before it became a chargeback (API 2025-08-27): no money left us.
    const blocked = {
      ...published('dispute'), amount: pro.price_cents, payment_intent: pi, status: 'prevented',
      payment_method_details: { card: { brand: 'visa', case_type: 'block', network_reason_code: '10.4' }, type: 'card' },
    };
    await deliver(publishedEvent('charge.dispute.created', blocked)).expect(200);
    expect(await ledger.account(user)).toEqual({ balance: 75, reserved: 0, available: 75 });
    // Prevented is final: a stale update after it changes nothing.
    await deliver(publishedEvent('charge.dispute.updated', { ...blocked, status: 'needs_response' })).expect(200);
    expect(await ledger.account(user)).toEqual({ balance: 75, reserved: 0, available: 75 });
  });

  test('unknown events are acknowledged and change nothing', async () => {
    const answer = await deliver(event('customer.created', { id: 'cus_1', object: 'customer' }).body).expect(200);
    expect(answer.body).toEqual({ received: true, outcome: 'ignored' });
  });
});

test('Postgres down when an event arrives: non-2xx so Stripe retries, and the retry applies it once', async () => {
  const downPool = createPool('postgres://postgres@127.0.0.1:1/nowhere', { max: 1 });
  const down = request(appWith(new PgFunctions(downPool)));
  const up = request(appWith(new PgFunctions(pool)));
  const user = randomUUID();
  const { body } = event('checkout.session.completed', session(user));
  const sign = () => stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
  const failed = await down.post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', sign()).send(body);
  expect(failed.status).toBeGreaterThanOrEqual(500);
  for (let retry = 0; retry < 2; retry++) {
    await up.post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', sign()).send(body).expect(200);
  }
  expect(await new LedgerStore(new PgFunctions(pool)).account(user)).toEqual({ balance: 100, reserved: 0, available: 100 });
  await downPool.end();
});

test("Checkout: a session at the pack's price with the user and pack in its metadata, created on Stripe's API", async () => {
  const received: Array<{ path: string; auth: string | undefined; form: URLSearchParams }> = [];
  const stripeApi = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', auth: req.headers.authorization, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
      const id = `cs_test_${randomBytes(6).toString('hex')}`;
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_test' });
      res.end(JSON.stringify({ id, object: 'checkout.session', url: `https://checkout.stripe.com/c/pay/${id}`, mode: 'payment', payment_status: 'unpaid' }));
    });
  });
  await new Promise<void>((resolve) => stripeApi.listen(0, '127.0.0.1', resolve));
  const apiBase = `http://127.0.0.1:${(stripeApi.address() as AddressInfo).port}`;
  const billing = request(appWith(new PgFunctions(pool), createStripeClient('sk_test_123', apiBase), 'https://masterpost.example'));
  const user = randomUUID();

  const created = await billing
    .post('/internal/checkout')
    .set('authorization', `Bearer ${SERVICE_TOKEN}`)
    .send({ userId: user, email: 'buyer@example.com', pack: 'pro' })
    .expect(201);
  expect(created.body.url).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
  expect(received).toHaveLength(1);
  const call = received[0]!;
  expect(call.path).toBe('/v1/checkout/sessions');
  expect(call.auth).toBe('Bearer sk_test_123');
  expect(call.form.get('metadata[user_id]')).toBe(user);
  expect(call.form.get('metadata[pack_id]')).toBe('pro');
  expect(call.form.get('line_items[0][price_data][unit_amount]')).toBe(String(pro.price_cents));
  expect(call.form.get('success_url')).toMatch(/^https:\/\/masterpost\.example\//);

  await billing.post('/internal/checkout').set('authorization', `Bearer ${SERVICE_TOKEN}`).send({ userId: user, email: 'buyer@example.com', pack: 'gold' }).expect(400);
  const unconfigured = request(appWith(new PgFunctions(pool), null));
  const refused = await unconfigured.post('/internal/checkout').set('authorization', `Bearer ${SERVICE_TOKEN}`).send({ userId: user, email: 'b@example.com', pack: 'pro' }).expect(503);
  expect(refused.body.error.message).toMatch(/not configured/);
  await new Promise((resolve) => stripeApi.close(resolve));
});
