import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import request from 'supertest';
import { createPool, type Pool } from '@masterpost/platform';
import { prepareAsSupabase } from '../tools/supabase-sim/src/roles';
import { startSupabaseStandIn, type SupabaseStandIn } from '../tools/supabase-sim/src/server';
import { getBinary } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * The product in its production shape: SUPABASE_URL set for every service, so billing calls the
 * ledger's SQL functions through PostgREST and the gateway and processor keep every file in the
 * Storage bucket, all through supabase-js (against a local stand-in speaking Supabase's HTTP
 * APIs). Nothing lands in the local storage folder.
 */
jest.setTimeout(120_000);

const SERVICE_KEY = 'e2e-service-role-key';
const ANON_KEY = 'e2e-anon-key-public';
let stack: TestStack;
let supabase: SupabaseStandIn;
let bucketDir: string;
let pool: Pool | undefined;

beforeAll(async () => {
  bucketDir = await mkdtemp(path.join(os.tmpdir(), 'mp-bucket-'));
  // The stand-in's rpc runs in the stack's database, which exists only once the stack starts.
  supabase = await startSupabaseStandIn({ serviceKey: SERVICE_KEY, anonKey: ANON_KEY, storageDir: bucketDir, buckets: ['pictures'], pool: () => pool! });
  stack = await startTestStack({
    env: { SIGNUP_CREDITS: '12', SUPABASE_URL: supabase.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, SUPABASE_BUCKET: 'pictures' },
    // The database starts as a Supabase project's does: API roles granted everything by default.
    beforeServices: async (databaseUrl) => {
      await prepareAsSupabase(databaseUrl);
      pool = createPool(databaseUrl);
    },
  });
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await pool?.end();
  await supabase?.close();
  await rm(bucketDir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

test('a seller signs up, uploads, processes, edits, downloads and deletes with files in the bucket and credits through rpc', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'supabase@example.com');
  const jobId = await seller.upload(await distinctPhotos(2, 7300));
  await seller.process(jobId, 'amazon');
  const done = await seller.waitUntilFinished(jobId, 60_000);
  expect(done).toMatchObject({ status: 'completed', completed: 2, credits_charged: 6 });
  expect(await seller.balance()).toMatchObject({ available: 6 });
  expect(supabase.calls).toEqual(expect.arrayContaining(['ledger_grant', 'ledger_hold', 'ledger_settle']));

  const inBucket = filesUnder(path.join(bucketDir, 'pictures'));
  for (const kind of ['uploads', 'qwen', 'cutouts', 'masks', 'results']) {
    expect({ kind, count: inBucket.filter((file) => file.startsWith(`jobs/${jobId}/${kind}/`)).length }).toEqual({ kind, count: 2 });
  }
  expect(filesUnder(path.join(stack.env.STORAGE_DIR!, 'jobs'))).toEqual([]);

  const api = request(stack.gatewayUrl);
  const imageId = done.images[0]!.image_id;
  await api.post('/api/v1/manual-editor/render').set('authorization', `Bearer ${seller.token}`).send({ image_id: imageId, settings: { format: 'png' } }).expect(200);
  const zip = new AdmZip((await getBinary(api, `/api/v1/download/${jobId}`, seller.token).expect(200)).body as Buffer);
  const names = zip.getEntries().map((entry) => entry.entryName).sort();
  expect(names).toHaveLength(3);
  expect(names.filter((name) => name.endsWith('.png'))).toHaveLength(1);
  expect(names).toContain('manifest.json');

  await api.delete(`/api/v1/jobs/${jobId}`).set('authorization', `Bearer ${seller.token}`).expect((res) => expect([200, 204]).toContain(res.status));
  expect(filesUnder(path.join(bucketDir, 'pictures')).filter((file) => file.startsWith(`jobs/${jobId}/`))).toEqual([]);
});

/** A request to the project's Data API with a key, as anyone holding the public anon key can send. */
async function dataApi(pathAndQuery: string, key: string, body?: unknown): Promise<{ status: number; json: { code?: string; message?: string } | unknown[] }> {
  const response = await fetch(`${supabase.url}/rest/v1/${pathAndQuery}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as { code?: string; message?: string } };
}

test('the public anon key can neither call a ledger function nor read or write a table', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'anon-target@example.com');
  const before = await seller.balance();
  const { rows } = await pool!.query<{ id: string }>('select id from users where email = $1', ['anon-target@example.com']);
  const userId = rows[0]!.id;

  const grant = await dataApi('rpc/ledger_grant', ANON_KEY, { p_user: userId, p_amount: 1_000_000, p_kind: 'purchase', p_reference: 'anon:steal', p_description: 'free money' });
  expect(grant).toEqual({ status: 401, json: expect.objectContaining({ code: '42501', message: 'permission denied for function ledger_grant' }) });
  expect(await seller.balance()).toEqual(before);
  expect((await dataApi('rpc/ledger_account', ANON_KEY, { p_user: userId })).json).toMatchObject({ code: '42501' });
  expect((await dataApi('rpc/ledger_history', ANON_KEY, { p_user: userId, p_limit: 10 })).json).toMatchObject({ code: '42501' });
  const { rows: tables } = await pool!.query<{ relname: string }>(`select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r' order by 1`);
  expect(tables.map((table) => table.relname)).toEqual(expect.arrayContaining(['users', 'credit_movements', 'stripe_payments']));
  for (const { relname } of tables) {
    const read = await dataApi(relname, ANON_KEY);
    expect({ relname, status: read.status, code: (read.json as { code?: string }).code }).toEqual({ relname, status: 401, code: '42501' });
  }
  // The service role, which billing uses, still reaches the ledger.
  expect(await dataApi('rpc/ledger_account', SERVICE_KEY, { p_user: userId })).toMatchObject({ status: 200 });
});
