import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createPool, type Pool } from '@masterpost/platform';
import { cleanUpAfter, runScript, startTestStack, type TestStack } from './harness';
import { distinctPhotos, eventually, metricValue, Seller } from './seller';

/**
 * The money leaks a review found, each replayed against the real stack: a picture must never be
 * delivered without being charged, charged while shown as free, or shown as charged when the
 * ledger took nothing. The books are then checked by the reconciliation command.
 */
jest.setTimeout(180_000);

let stack: TestStack;
let pool: Pool;
let api: ReturnType<typeof request>;

beforeAll(async () => {
  stack = await startTestStack({
    env: { SIGNUP_CREDITS: '30', HOLD_SWEEP_INTERVAL_MS: '200', ADMIN_EMAILS: 'first-to-sign-up@example.com', RECONCILE_EVERY_MS: '500', RECONCILE_ORPHAN_GRACE_SECONDS: '3600' },
  });
  pool = createPool(stack.databaseUrl);
  api = request(stack.gatewayUrl);
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await pool?.end();
});
afterEach(() => stack.sim.configure({ latencyMs: 0 }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function atTheAi(): Promise<void> {
  await eventually('a call at the AI', async () => (stack.sim.stats.inFlight > 0 ? true : undefined));
}

/** Makes the job's reservation run out, as a provider pause longer than its time to live would. */
async function expireHold(jobId: string): Promise<void> {
  await pool.query(`update credit_holds set expires_at = now() - interval '1 second' where reference = (select hold_reference from jobs where id = $1)`, [jobId]);
  await eventually('the reservation expired by billing', async () => {
    const { rows } = await pool.query<{ status: string }>('select h.status from credit_holds h join jobs j on j.hold_reference = h.reference where j.id = $1', [jobId]);
    return rows[0]?.status === 'expired' ? true : undefined;
  });
}

test('deleted while at the AI, then uploaded again: the hold is returned at once, no file comes back, and the second upload is charged', async () => {
  stack.sim.configure({ latencyMs: 2_500 });
  const seller = await Seller.register(stack.gatewayUrl, 'deleter@example.com');
  const [photo] = await distinctPhotos(1, 8100);
  const jobId = await seller.upload([photo!]);
  await seller.process(jobId);
  await atTheAi();
  const paidBefore = stack.sim.stats.succeeded;

  await api.delete(`/api/v1/jobs/${jobId}`).set('authorization', `Bearer ${seller.token}`).expect((res) => expect([200, 204]).toContain(res.status));
  expect(await seller.balance()).toEqual({ balance: 30, reserved: 0, available: 30 });

  // The call we pay for finishes; what the processor would have written for the deleted job does not stay.
  await eventually('the paid call answered', async () => (stack.sim.stats.succeeded > paidBefore && stack.sim.stats.inFlight === 0 ? true : undefined));
  await sleep(2_500);
  const jobDir = path.join(stack.env.STORAGE_DIR!, 'jobs', jobId);
  expect(existsSync(jobDir) ? readdirSync(jobDir, { recursive: true }) : 'gone').toBe('gone');

  stack.sim.configure({ latencyMs: 0 });
  const again = await seller.upload([photo!]);
  await seller.process(again);
  const done = await seller.waitUntilFinished(again, 60_000);
  expect(done).toMatchObject({ completed: 1, credits_charged: 3 });
  expect(done.images[0]).toMatchObject({ status: 'done', charged: true });
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 0, available: 27 });
  // Now paid for once, the same photo is made again free.
  const third = await seller.upload([photo!]);
  await seller.process(third);
  expect((await seller.waitUntilFinished(third, 60_000)).images[0]).toMatchObject({ status: 'done', charged: false });
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 0, available: 27 });
});

test('a job that outlives its reservation is charged from the balance when the seller has it, and not delivered when not', async () => {
  stack.sim.configure({ latencyMs: 2_000 });
  const seller = await Seller.register(stack.gatewayUrl, 'late@example.com');
  const covered = await seller.upload(await distinctPhotos(1, 8200));
  await seller.process(covered);
  await atTheAi();
  await expireHold(covered);
  const paid = await seller.waitUntilFinished(covered, 60_000);
  expect(paid).toMatchObject({ completed: 1, credits_charged: 3 });
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 0, available: 27 });

  const uncovered = await seller.upload(await distinctPhotos(1, 8300));
  await seller.process(uncovered);
  await atTheAi();
  await expireHold(uncovered);
  // Meanwhile the seller's credits went to other work: nothing is left to pay for this picture.
  const held = await fetch(`${stack.billingUrl}/internal/holds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.env.BILLING_SERVICE_TOKEN!}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId: await userIdOf('late@example.com'), amount: 27, reference: 'other-work:late', ttlSeconds: 3600, description: 'other work' }),
  });
  expect(held.status).toBe(201);
  const unpaid = await seller.waitUntilFinished(uncovered, 60_000);
  expect(unpaid).toMatchObject({ completed: 0, failed: 1, credits_charged: 0 });
  expect(unpaid.images[0]).toMatchObject({ status: 'failed', error: { code: 'reservation_expired' } });
  expect(unpaid.images[0]).not.toHaveProperty('result_url');
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 27, available: 0 });
});

test('one Idempotency-Key sent with another request: 422 naming it, the other job left alone; the first request still replays', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'keys@example.com');
  const jobA = await seller.upload(await distinctPhotos(1, 8400));
  const jobB = await seller.upload(await distinctPhotos(1, 8500));
  const send = (jobId: string) =>
    api.post('/api/v1/process').set('authorization', `Bearer ${seller.token}`).set('idempotency-key', 'process-key-0001').send({ job_id: jobId, pipeline: 'ebay' });
  const first = await send(jobA).expect(202);
  const other = await send(jobB).expect(422);
  expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
  expect(other.body.error.message).toContain('a different request to POST /api/v1/process');
  expect((await seller.progress(jobB)).status).toBe('uploaded');
  const replay = await send(jobA).expect(202);
  expect(replay.body).toEqual(first.body);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  await seller.waitUntilFinished(jobA, 60_000);
});

test('an address in ADMIN_EMAILS makes nobody an operator; an operator is granted by the operator command', async () => {
  const squatter = await Seller.register(stack.gatewayUrl, 'first-to-sign-up@example.com');
  await api.get('/admin/queues').set('authorization', `Bearer ${squatter.token}`).expect(403);
  expect(stack.logs()).toContain('ADMIN_EMAILS no longer makes anyone an operator');
  const missing = await runScript('scripts/operator.ts', ['grant', 'nobody@example.com'], { DATABASE_URL: stack.databaseUrl });
  expect(missing).toMatchObject({ code: 1, output: expect.stringContaining('no account with the address nobody@example.com') });
  expect((await runScript('scripts/operator.ts', ['grant', 'first-to-sign-up@example.com'], { DATABASE_URL: stack.databaseUrl })).code).toBe(0);
  await api.get('/admin/queues').set('authorization', `Bearer ${squatter.token}`).expect(200);
  expect((await runScript('scripts/operator.ts', ['revoke', 'first-to-sign-up@example.com'], { DATABASE_URL: stack.databaseUrl })).code).toBe(0);
  await api.get('/admin/queues').set('authorization', `Bearer ${squatter.token}`).expect(403);
});

test('the reconciliation finds the books clean, returns a reservation no job holds, and names a planted difference', async () => {
  const reconcile = () => runScript('scripts/reconcile.ts', ['--orphan-grace-seconds', '0'], { DATABASE_URL: stack.databaseUrl });
  // A hold whose answer was lost: billing applied it, the gateway never learnt it.
  const userId = await userIdOf('keys@example.com');
  const orphan = await fetch(`${stack.billingUrl}/internal/holds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.env.BILLING_SERVICE_TOKEN!}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId, amount: 3, reference: 'job:00000000-0000-4000-8000-000000000001:lost', ttlSeconds: 3600, description: 'lost answer' }),
  });
  expect(orphan.status).toBe(201);
  const clean = await reconcile();
  expect(clean.output).toContain('reservations returned (no job held them): 1');
  expect(clean.output).toContain('differences: 0');
  expect(clean.code).toBe(0);

  const { rows } = await pool.query<{ id: string }>(`select id from images where status = 'done' and credits_charged = 3 limit 1`);
  await pool.query('update images set credits_charged = 0 where id = $1', [rows[0]!.id]);
  const planted = await reconcile();
  expect(planted.code).toBe(1);
  expect(planted.output).toContain(`shown_charge: picture ${rows[0]!.id}`);
  expect(planted.output).toContain('shown as charged 0, the ledger took 3');
  // Billing's own scheduled run sees it too: the metric an operator alerts on, and the log line.
  const mismatches = async () => metricValue(await (await fetch(`${stack.billingUrl}/metrics`)).text(), 'ledger_mismatches');
  await eventually('billing to count the difference', async () => ((await mismatches()) === 1 ? true : undefined));
  expect(stack.logs()).toContain('ALERT: ledger reconciliation found 1 difference(s)');
  await pool.query('update images set credits_charged = 3 where id = $1', [rows[0]!.id]);
  await eventually('billing to find the books clean again', async () => ((await mismatches()) === 0 ? true : undefined));
});

async function userIdOf(email: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>('select id from users where email = $1', [email]);
  return rows[0]!.id;
}
