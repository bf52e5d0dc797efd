import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createPool, type Pool } from '@masterpost/platform';
import { dropDatabase, migrate } from '../db/migrate';
import { nodeArgs, ROOT } from '../scripts/stack';
import { startSim, type SimServer } from '../tools/dashscope-sim/src/server';
import { prepareAsSupabase } from '../tools/supabase-sim/src/roles';
import { startSupabaseStandIn, type SupabaseStandIn } from '../tools/supabase-sim/src/server';

/**
 * `npm run provider-check`, the command an operator runs after a deploy, run as a process
 * against the stand-ins of DashScope, Stripe's API and Supabase: what it reports when all is
 * well, and that each fault it exists to catch fails it with the reason and the setting to change.
 */
jest.setTimeout(60_000);

const DASHSCOPE_KEY = 'sk-region-key-0123456789';
const SERVICE_KEY = 'check-service-role-key';
const ANON_KEY = 'check-anon-key';
const databaseUrl = `postgres://postgres@127.0.0.1:5432/mp_check_${randomBytes(4).toString('hex')}`;
let sim: SimServer;
let supabase: SupabaseStandIn;
let pool: Pool;
let stripeApi: http.Server;
let stripeUrl: string;
let bucketDir: string;

beforeAll(async () => {
  sim = await startSim({ apiKey: DASHSCOPE_KEY, noise: 0 });
  await prepareAsSupabase(databaseUrl);
  await migrate(databaseUrl);
  pool = createPool(databaseUrl);
  bucketDir = await mkdtemp(path.join(os.tmpdir(), 'mp-check-'));
  supabase = await startSupabaseStandIn({ serviceKey: SERVICE_KEY, anonKey: ANON_KEY, pool, storageDir: bucketDir, buckets: ['masterpost'] });
  // Stripe's API for GET /v1/balance, answering as its reference shows: the balance, or 401 for another key.
  stripeApi = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== 'Bearer sk_test_51Qcheckkey') {
      res.writeHead(401).end(JSON.stringify({ error: { message: 'Invalid API Key provided: sk_test_****oops', type: 'invalid_request_error' } }));
      return;
    }
    res.writeHead(200).end(JSON.stringify({ object: 'balance', available: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }], livemode: false, pending: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }] }));
  });
  await new Promise<void>((resolve) => stripeApi.listen(0, '127.0.0.1', resolve));
  stripeUrl = `http://127.0.0.1:${(stripeApi.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sim.close();
  await supabase.close();
  await pool.end();
  await new Promise((resolve) => stripeApi.close(resolve));
  await dropDatabase(databaseUrl);
  await rm(bucketDir, { recursive: true, force: true });
});
beforeEach(() => sim.configure({ fault: 'none', resultOrigin: 'http://dashscope-result-sim.oss-test-1.aliyuncs.com' }));

function providerCheck(overrides: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DASHSCOPE_API_KEY: DASHSCOPE_KEY,
    DASHSCOPE_BASE_URL: sim.baseUrl,
    QWEN_RESULT_RESOLVE: sim.resolveRule,
    STRIPE_SECRET_KEY: 'sk_test_51Qcheckkey',
    STRIPE_WEBHOOK_SECRET: 'whsec_oZ8nus9PHnoltEtWZ3pGITZdeHWHoqnL',
    STRIPE_API_BASE: stripeUrl,
    SUPABASE_URL: supabase.url,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    SUPABASE_ANON_KEY: ANON_KEY,
    SUPABASE_BUCKET: 'masterpost',
    ...overrides,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, nodeArgs('scripts/provider-check.ts'), { cwd: ROOT, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

test('with every provider working it reports key, region, model, result host, latency and price, and exits 0', async () => {
  const paidBefore = sim.stats.succeeded;
  const { code, output } = await providerCheck();
  expect(output).toContain('DashScope: OK');
  expect(output).toContain('key sk-…6789');
  expect(output).not.toContain(DASHSCOPE_KEY);
  expect(output).toMatch(/region not Alibaba's: 127\.0\.0\.1/);
  expect(output).toContain('model qwen-image-edit-plus');
  expect(output).toContain('result host dashscope-result-sim.oss-test-1.aliyuncs.com');
  expect(output).toMatch(/answered and fetched in \d+\.\d s \(\d+x\d+ PNG/);
  expect(output).toContain('price $0.030 a call');
  expect(output).toContain('Stripe: OK');
  expect(output).toContain('secret key accepted (test mode)');
  expect(output).toContain('Supabase: OK');
  expect(output).toContain('bucket masterpost (private)');
  expect(output).toContain('the anon key reaches no ledger function and no table');
  expect(code).toBe(0);
  expect(sim.stats.succeeded - paidBefore).toBe(1);
});

test('a result host outside the allow-list fails the check, naming the host and the setting to change', async () => {
  sim.configure({ resultOrigin: 'http://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com.example.net' });
  const { code, output } = await providerCheck();
  expect(code).toBe(1);
  expect(output).toContain('DashScope: FAILED');
  expect(output).toContain('the result host dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com.example.net is not in QWEN_RESULT_HOSTS');
  expect(output).toContain('add a pattern that matches it to QWEN_RESULT_HOSTS');
  expect(output).toMatch(/provider-check: DashScope failed$/m);
});

test('a refused key (another region\'s) and moderation of the test picture each fail it with the reason', async () => {
  const wrongRegion = await providerCheck({ DASHSCOPE_API_KEY: 'sk-beijing-key-9999' });
  expect(wrongRegion.code).toBe(1);
  expect(wrongRegion.output).toMatch(/the key is refused \(InvalidApiKey: .*\): a wrong key, or a key of another region/);

  sim.configure({ fault: 'data_inspection' });
  const moderated = await providerCheck();
  expect(moderated.code).toBe(1);
  expect(moderated.output).toContain('moderation refused the built-in test picture (DataInspectionFailed)');
});

test('Stripe and Supabase faults are named: a webhook secret of the wrong shape, a refused key, a missing bucket, a public key that reaches the ledger', async () => {
  const { code, output } = await providerCheck({ STRIPE_WEBHOOK_SECRET: 'we_1234', STRIPE_SECRET_KEY: 'sk_test_51Qwrong', SUPABASE_BUCKET: 'photos' });
  expect(code).toBe(1);
  expect(output).toContain('STRIPE_WEBHOOK_SECRET is not an endpoint signing secret');
  expect(output).toMatch(/Stripe refused the secret key or could not be reached: Invalid API Key provided/);
  expect(output).toContain('the bucket "photos" does not exist: create it (private), or set SUPABASE_BUCKET');
  expect(output).toMatch(/provider-check: Stripe, Supabase failed$/m);

  // The same project with the grants Supabase gives by default (migration 008 undone for one function).
  await pool.query('grant execute on function ledger_grant(uuid, bigint, text, text, text) to anon');
  try {
    const open = await providerCheck();
    expect(open.code).toBe(1);
    expect(open.output).toContain('the public anon key can execute ledger_grant');
  } finally {
    await pool.query('revoke execute on function ledger_grant(uuid, bigint, text, text, text) from anon');
  }
});
