import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { Client } from 'pg';
import Stripe from 'stripe';
import request from 'supertest';
import { startMailCatcher, type CaughtMail, type MailCatcher } from '../tools/mail-catcher/src/catcher';
import { contractOf, type ExpectDocumented } from './contract';
import { cleanUpAfter, runScript, startTestStack, type TestStack } from './harness';
import { writeOldDatabase } from './legacy-fixture';
import { distinctPhotos, Seller } from './seller';

/**
 * Accounts a seller can keep (issue 22), on the real services with a real SMTP server catching
 * the mails the processor sends: verification before the trial credits, password reset, email
 * change, mail limits, the data export and account deletion.
 */
jest.setTimeout(180_000);

const PASSWORD = 'long enough password';
const STRIPE_WEBHOOK_SECRET = 'whsec_accounts_e2e';
let stack: TestStack;
let mail: MailCatcher;
let expectDocumented: ExpectDocumented;

beforeAll(async () => {
  mail = await startMailCatcher();
  stack = await startTestStack({
    env: { SMTP_URL: mail.smtpUrl, PUBLIC_URL: 'http://masterpost.test', SIGNUP_CREDITS: '12', STRIPE_SECRET_KEY: 'sk_test_not_called_here', STRIPE_WEBHOOK_SECRET, RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR: '3', RATE_LIMIT_AUTH_PER_MINUTE: '200' },
  });
  expectDocumented = await contractOf(stack.gatewayUrl);
});
cleanUpAfter(() => stack);
afterAll(() => mail?.close());

const api = () => request(stack.gatewayUrl);
const mailTo = (address: string, kind: string) => (caught: CaughtMail) => caught.to.includes(address) && caught.kind === kind;
const tokenOf = (caught: CaughtMail) => new URL(caught.link!).searchParams.get('token')!;

async function query<Row extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<Row[]> {
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    return (await db.query<Row>(text, values)).rows;
  } finally {
    await db.end();
  }
}

async function register(email: string): Promise<string> {
  const answer = await api().post('/auth/register').send({ email, password: PASSWORD }).expect(201);
  return answer.body.access_token as string;
}

test('signing up mails a link; until it is followed there are no credits and nothing is spent; followed once, the trial arrives once', async () => {
  const token = await register('new-seller@example.com');
  const before = await api().get('/auth/me').set('authorization', `Bearer ${token}`).expect(200);
  expectDocumented('get', '/auth/me', 200, before.body);
  expect(before.body).toMatchObject({ email_verified: false, credits: { balance: 0 } });

  // Looking around and uploading work; processing waits for the address.
  const seller = await Seller.register(stack.gatewayUrl, 'unverified-uploader@example.com');
  const jobId = await seller.upload(await distinctPhotos(1));
  const refused = await api().post('/api/v1/process').set('authorization', `Bearer ${seller.token}`).send({ job_id: jobId, pipeline: 'etsy' }).expect(403);
  expect(refused.body.error.code).toBe('email_not_verified');

  const verification = await mail.waitFor(mailTo('new-seller@example.com', 'verifyEmail'));
  expect(verification.link).toMatch(/^http:\/\/masterpost\.test\/verify-email\?token=/);
  expect(verification.html).toContain('Confirm my email');
  const followed = await api().post('/auth/verify-email').send({ token: tokenOf(verification) }).expect(200);
  expectDocumented('post', '/auth/verify-email', 200, followed.body);
  expect(followed.body).toMatchObject({ email_verified: true, credits: { balance: 12, available: 12 } });

  const again = await api().post('/auth/verify-email').send({ token: tokenOf(verification) }).expect(400);
  expect(again.body.error.code).toBe('invalid_token');
  const balance = await api().get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200);
  expect(balance.body.balance).toBe(12);

  // The link's words are not kept once the mail is sent.
  const [stored] = await query<{ text_body: string | null; outcome: string }>("select text_body, outcome from mail_outbox where kind = 'verifyEmail' and to_address = $1", ['new-seller@example.com']);
  expect(stored).toEqual({ text_body: null, outcome: 'sent' });
});

test('an expired verification link is refused, a new one asked for works, and asking is limited per address', async () => {
  const token = await register('slow-reader@example.com');
  const first = await mail.waitFor(mailTo('slow-reader@example.com', 'verifyEmail'));
  await query("update account_tokens set expires_at = now() - interval '1 minute' where purpose = 'verify_email'");
  expect((await api().post('/auth/verify-email').send({ token: tokenOf(first) }).expect(400)).body.error.code).toBe('invalid_token');

  const resent = await api().post('/auth/verify-email/resend').set('authorization', `Bearer ${token}`).expect(202);
  expectDocumented('post', '/auth/verify-email/resend', 202, resent.body);
  const second = await mail.waitFor((caught) => mailTo('slow-reader@example.com', 'verifyEmail')(caught) && caught.link !== first.link);
  await api().post('/auth/verify-email').send({ token: tokenOf(second) }).expect(200);

  // Three mails asked for an hour per address (this test's setting): the resend above and two more.
  await api().post('/auth/verify-email/resend').set('authorization', `Bearer ${token}`).expect(202);
  await api().post('/auth/verify-email/resend').set('authorization', `Bearer ${token}`).expect(202);
  const limited = await api().post('/auth/verify-email/resend').set('authorization', `Bearer ${token}`).expect(429);
  expect(limited.body.error.code).toBe('rate_limited');
});

test('a forgotten password: the same answer for an unknown address (and no mail); the link resets once and ends every other session, not API keys', async () => {
  const email = 'forgetful@example.com';
  const firstSession = await register(email);
  await api().post('/auth/verify-email').send({ token: tokenOf(await mail.waitFor(mailTo(email, 'verifyEmail'))) }).expect(200);
  const otherSession = (await api().post('/auth/login').send({ email, password: PASSWORD }).expect(200)).body.access_token as string;
  const key = (await api().post('/api/v1/keys').set('authorization', `Bearer ${firstSession}`).send({ name: 'shop' }).expect(201)).body.key as string;

  const unknown = await api().post('/auth/password/forgot').send({ email: 'nobody-here@example.com' }).expect(202);
  const known = await api().post('/auth/password/forgot').send({ email: 'Forgetful@Example.com' }).expect(202);
  expectDocumented('post', '/auth/password/forgot', 202, known.body);
  expect(unknown.body).toEqual(known.body);
  const reset = await mail.waitFor(mailTo(email, 'passwordReset'));
  expect(reset.link).toMatch(/\/reset-password\?token=/);
  // The known address's mail came; give a mail to the unknown one the same time again to show up.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(mail.mails.filter((caught) => caught.to.includes('nobody-here@example.com'))).toEqual([]);

  const renewed = await api().post('/auth/password/reset').send({ token: tokenOf(reset), new_password: 'a brand new password' }).expect(200);
  expectDocumented('post', '/auth/password/reset', 200, renewed.body);
  await api().post('/auth/password/reset').send({ token: tokenOf(reset), new_password: 'yet another password' }).expect(400);

  await api().get('/auth/me').set('authorization', `Bearer ${firstSession}`).expect(401);
  await api().get('/auth/me').set('authorization', `Bearer ${otherSession}`).expect(401);
  await api().get('/auth/me').set('authorization', `Bearer ${renewed.body.access_token as string}`).expect(200);
  await api().get('/credits/balance').set('x-api-key', key).expect(200);
  await api().post('/auth/login').send({ email, password: PASSWORD }).expect(401);
  await api().post('/auth/login').send({ email, password: 'a brand new password' }).expect(200);
});

test('changing the email: the new address confirms before it applies, the old one is told', async () => {
  const email = 'moving@example.com';
  const token = await register(email);
  await api().post('/auth/verify-email').send({ token: tokenOf(await mail.waitFor(mailTo(email, 'verifyEmail'))) }).expect(200);

  await api().post('/auth/email').set('authorization', `Bearer ${token}`).send({ new_email: 'moved@example.com', password: 'not the password' }).expect(401);
  const asked = await api().post('/auth/email').set('authorization', `Bearer ${token}`).send({ new_email: 'Moved@Example.com', password: PASSWORD }).expect(202);
  expectDocumented('post', '/auth/email', 202, asked.body);
  const confirm = await mail.waitFor(mailTo('moved@example.com', 'confirmNewEmail'));
  const notice = await mail.waitFor(mailTo(email, 'emailChangeNotice'));
  expect(notice.text).toContain('moved@example.com');
  expect(notice.link).toBeNull();

  // Not yet: the account keeps its address until the link is followed.
  const pending = await api().get('/auth/me').set('authorization', `Bearer ${token}`).expect(200);
  expect(pending.body).toMatchObject({ email, pending_email: 'moved@example.com' });
  await api().post('/auth/login').send({ email: 'moved@example.com', password: PASSWORD }).expect(401);

  const confirmed = await api().post('/auth/email/confirm').send({ token: tokenOf(confirm) }).expect(200);
  expectDocumented('post', '/auth/email/confirm', 200, confirmed.body);
  expect(confirmed.body).toMatchObject({ email: 'moved@example.com', pending_email: null, email_verified: true });
  await api().post('/auth/login').send({ email: 'moved@example.com', password: PASSWORD }).expect(200);
  await api().post('/auth/login').send({ email, password: PASSWORD }).expect(401);
});

test('a seller takes their data away, then leaves: files and rows gone, the ledger\'s totals unchanged, and the address free again', async () => {
  const email = 'leaving@example.com';
  const seller = await Seller.register(stack.gatewayUrl, email);
  await api().post('/auth/verify-email').send({ token: tokenOf(await mail.waitFor(mailTo(email, 'verifyEmail'))) }).expect(200);
  await api().post('/auth/preferences').set('authorization', `Bearer ${seller.token}`).send({ notify_pictures_ready: true }).expect(200);
  const jobId = await seller.upload(await distinctPhotos(2, 70));
  await seller.process(jobId, 'etsy');
  const finished = await seller.waitUntilFinished(jobId, 90_000);
  expect(finished.completed).toBe(2);
  const ready = await mail.waitFor(mailTo(email, 'picturesReady'));
  expect(ready.subject).toBe('Your 2 pictures are ready');
  // The link opens the job's page in the web app.
  expect(ready.text).toContain(`http://masterpost.test/jobs/${jobId}`);
  await api().post('/api/v1/keys').set('authorization', `Bearer ${seller.token}`).send({ name: 'shop' }).expect(201);
  const userId = (await api().get('/auth/me').set('authorization', `Bearer ${seller.token}`).expect(200)).body.id as string;

  const exported = await api().get('/auth/account/export').set('authorization', `Bearer ${seller.token}`).buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  }).expect(200);
  const zip = new AdmZip(exported.body as Buffer);
  const names = zip.getEntries().map((entry) => entry.entryName);
  expect(names).toEqual(expect.arrayContaining(['account.json', 'jobs.json', 'ledger.json', 'developer.json']));
  expect(names.filter((name) => name.startsWith(`pictures/${jobId}/`))).toHaveLength(2);
  expect(names.filter((name) => name.startsWith(`photos/${jobId}/`))).toHaveLength(2);
  expect(JSON.parse(zip.readAsText('account.json'))).toMatchObject({ id: userId, email, notify_pictures_ready: true });
  const ledger = JSON.parse(zip.readAsText('ledger.json')) as Array<{ kind: string; delta: number }>;
  expect(ledger.reduce((sum, movement) => sum + movement.delta, 0)).toBe(12 - 6);
  expect(JSON.parse(zip.readAsText('developer.json')).api_keys).toHaveLength(1);

  const totalsBefore = await query<{ total: string; rows: number }>('select sum(delta)::text as total, count(*)::int as rows from credit_movements');
  await api().delete('/auth/account').set('authorization', `Bearer ${seller.token}`).send({ password: PASSWORD }).expect(400);
  await api().delete('/auth/account').set('authorization', `Bearer ${seller.token}`).send({ password: 'wrong', confirm: 'delete my account' }).expect(401);
  const deleted = await api().delete('/auth/account').set('authorization', `Bearer ${seller.token}`).send({ password: PASSWORD, confirm: 'delete my account' }).expect(200);
  expectDocumented('delete', '/auth/account', 200, deleted.body);
  expect(deleted.body).toEqual({ deleted: true, forfeited_credits: 6, jobs_deleted: 1 });

  await api().get('/auth/me').set('authorization', `Bearer ${seller.token}`).expect(401);
  const storageDir = stack.env.STORAGE_DIR!;
  expect(existsSync(path.join(storageDir, 'jobs', jobId))).toBe(false);
  expect(existsSync(path.join(storageDir, 'qwen-cache', userId)) ? readdirSync(path.join(storageDir, 'qwen-cache', userId)) : []).toEqual([]);
  expect(await query<{ total: string; rows: number }>('select sum(delta)::text as total, count(*)::int as rows from credit_movements')).toEqual(totalsBefore);
  expect(await rowsNaming(email)).toEqual([]);

  // The address can make a new account; its trial was had already.
  const again = await api().post('/auth/register').send({ email, password: PASSWORD }).expect(201);
  await api().post('/auth/verify-email').send({ token: tokenOf(await mail.waitFor((caught) => mailTo(email, 'verifyEmail')(caught) && caught.receivedAt > ready.receivedAt)) }).expect(200);
  expect((await api().get('/credits/balance').set('authorization', `Bearer ${again.body.access_token as string}`).expect(200)).body.balance).toBe(0);
});

/** Every text or JSON column of every table of ours that holds the address, as `table.column`. */
async function rowsNaming(email: string): Promise<string[]> {
  const columns = await query<{ table_name: string; column_name: string }>(
    `select table_name, column_name from information_schema.columns
      where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'ARRAY', 'character varying')`,
  );
  const found: string[] = [];
  for (const { table_name, column_name } of columns) {
    const rows = await query<{ n: number }>(`select count(*)::int as n from "${table_name}" where lower("${column_name}"::text) like '%' || $1 || '%'`, [email.toLowerCase()]);
    if (rows[0]!.n > 0) found.push(`${table_name}.${column_name}`);
  }
  return found;
}


test('a purchase mails its receipt once, with the pack, its credits and what was paid', async () => {
  const email = 'buyer@example.com';
  const token = await register(email);
  const userId = (await api().get('/auth/me').set('authorization', `Bearer ${token}`).expect(200)).body.id as string;
  const pack = ((await api().get('/payments/packs').expect(200)).body as Array<{ id: string; name: string; credits: number; price_cents: number; currency: string }>)[0]!;
  const body = JSON.stringify({
    id: 'evt_receipt_1', object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000), livemode: false,
    data: { object: { id: 'cs_test_receipt', object: 'checkout.session', payment_status: 'paid', amount_total: pack.price_cents, payment_intent: 'pi_receipt', metadata: { user_id: userId, pack_id: pack.id } } },
  });
  const stripe = new Stripe('sk_test_unused');
  for (let delivery = 0; delivery < 2; delivery++) {
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
    await api().post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', header).send(body).expect(200);
  }
  const receipt = await mail.waitFor(mailTo(email, 'receipt'));
  expect(receipt.subject).toBe(`Receipt: ${pack.credits} Masterpost credits`);
  expect(receipt.text).toContain(`${pack.name} pack: ${pack.credits} credits for ${(pack.price_cents / 100).toFixed(2)} ${pack.currency.toUpperCase()}`);
  expect(receipt.text).toContain('cs_test_receipt');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(mail.mails.filter(mailTo(email, 'receipt'))).toHaveLength(1);
});

test('a seller moved from the old Masterpost who deletes their account is not brought back (nor their credits) by a later run of the import', async () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'mp-accounts-legacy-'));
  try {
    const oldDb = path.join(folder, 'masterpost.db');
    await writeOldDatabase(oldDb, { users: [{ email: 'Moved.Seller@Example.com', access_code: 'MP-AB12-CD34', credits: 40 }], transactions: [] });
    const first = await runScript('scripts/import-legacy.ts', ['--sqlite', oldDb], { DATABASE_URL: stack.databaseUrl });
    expect(first.output).toContain('sellers imported: 1');

    const session = await api().post('/auth/login').send({ email: 'moved.seller@example.com', access_code: 'MP-AB12-CD34' }).expect(200);
    const token = (await api().post('/auth/password').set('authorization', `Bearer ${session.body.access_token as string}`).send({ new_password: PASSWORD }).expect(200)).body.access_token as string;
    expect((await api().get('/auth/me').set('authorization', `Bearer ${token}`).expect(200)).body).toMatchObject({ email_verified: true, credits: { balance: 40 } });
    await api().delete('/auth/account').set('authorization', `Bearer ${token}`).send({ password: PASSWORD, confirm: 'delete my account' }).expect(200);
    expect(await rowsNaming('moved.seller@example.com')).toEqual([]);

    const again = await runScript('scripts/import-legacy.ts', ['--sqlite', oldDb], { DATABASE_URL: stack.databaseUrl });
    expect({ code: again.code }).toEqual({ code: 0 });
    expect(again.output).toContain('sellers imported: 0');
    expect(again.output).toContain('not imported (deleted their account in the new app): 1');
    await api().post('/auth/login').send({ email: 'moved.seller@example.com', access_code: 'MP-AB12-CD34' }).expect(401);
    expect(await query('select 1 from users where lower(email) = $1', ['moved.seller@example.com'])).toEqual([]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('whoever signs up with another\'s address can leave nothing behind: no key or webhook before the address is proven, and a reset by its owner ends their sessions', async () => {
  const squatter = await register('owner@example.com');
  const key = await api().post('/api/v1/keys').set('authorization', `Bearer ${squatter}`).send({ name: 'left behind' }).expect(403);
  expect(key.body.error.code).toBe('email_not_verified');
  await api().post('/api/v1/webhooks').set('authorization', `Bearer ${squatter}`).send({ url: 'https://hooks.example.com/x', events: ['job.completed'] }).expect(403);

  // The owner cannot sign up (the address is taken) and resets the password from their mailbox.
  await api().post('/auth/register').send({ email: 'owner@example.com', password: 'the owner\'s password' }).expect(409);
  await api().post('/auth/password/forgot').send({ email: 'owner@example.com' }).expect(202);
  const reset = await mail.waitFor(mailTo('owner@example.com', 'passwordReset'));
  const owner = await api().post('/auth/password/reset').send({ token: tokenOf(reset), new_password: 'the owner\'s password' }).expect(200);
  await api().get('/auth/me').set('authorization', `Bearer ${squatter}`).expect(401);
  expect((await api().get('/auth/me').set('authorization', `Bearer ${owner.body.access_token as string}`).expect(200)).body.email_verified).toBe(true);
});

test('a password change ends the email-change links still out, and deleting an account forgets the addresses it had before', async () => {
  const email = 'first-address@example.com';
  let token = await register(email);
  await api().post('/auth/verify-email').send({ token: tokenOf(await mail.waitFor(mailTo(email, 'verifyEmail'))) }).expect(200);

  // Someone who knew the password asks to move the account to their address; the owner changes the password.
  await api().post('/auth/email').set('authorization', `Bearer ${token}`).send({ new_email: 'intruder@example.com', password: PASSWORD }).expect(202);
  const intruderLink = await mail.waitFor(mailTo('intruder@example.com', 'confirmNewEmail'));
  token = (await api().post('/auth/password').set('authorization', `Bearer ${token}`).send({ current_password: PASSWORD, new_password: 'changed password' }).expect(200)).body.access_token as string;
  expect((await api().post('/auth/email/confirm').send({ token: tokenOf(intruderLink) }).expect(400)).body.error.code).toBe('invalid_token');

  // The owner moves the account, then leaves: neither address is named anywhere.
  await api().post('/auth/email').set('authorization', `Bearer ${token}`).send({ new_email: 'second-address@example.com', password: 'changed password' }).expect(202);
  await api().post('/auth/email/confirm').send({ token: tokenOf(await mail.waitFor(mailTo('second-address@example.com', 'confirmNewEmail'))) }).expect(200);
  expect((await api().get('/auth/me').set('authorization', `Bearer ${token}`).expect(200)).body.email).toBe('second-address@example.com');
  await api().delete('/auth/account').set('authorization', `Bearer ${token}`).send({ password: 'changed password', confirm: 'delete my account' }).expect(200);
  expect(await rowsNaming(email)).toEqual([]);
  expect(await rowsNaming('second-address@example.com')).toEqual([]);
});

// Last: it uses up this client's mail allowance for the hour.
test('the mail routes are limited per client address too', async () => {
  const answers: number[] = [];
  for (let index = 0; index < 22; index++) {
    answers.push((await api().post('/auth/password/forgot').send({ email: `someone-${index}@example.com` })).status);
  }
  // The earlier tests asked for some mails from this address too: the limit (20 an hour) falls
  // somewhere in these 22, and once it does every later request is refused.
  const firstRefused = answers.indexOf(429);
  expect(firstRefused).toBeGreaterThan(0);
  expect(answers.slice(0, firstRefused).every((status) => status === 202)).toBe(true);
  expect(answers.slice(firstRefused).every((status) => status === 429)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(mail.mails.filter((caught) => caught.to.some((to) => to.startsWith('someone-')))).toEqual([]);
});
