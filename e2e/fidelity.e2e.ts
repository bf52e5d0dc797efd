import AdmZip from 'adm-zip';
import request from 'supertest';
import { createPool, type Pool } from '@masterpost/platform';
import { fidelityPhoto } from '../services/processor/src/fidelity/fidelity-fixtures';
import { cleanUpAfter, readEvents, startTestStack, type TestStack } from './harness';
import { metricValue } from './seller';

/**
 * Product fidelity through the whole product (issue 20): the drift report reaches the seller's
 * progress and manifest, `on_major_drift: retry` asks the AI once more at our cost (one more
 * paid call, the seller charged once), and `fail` fails the picture with its reason and
 * charges nothing. The stand-in drifts per call (`driftNext`), as Qwen does now and then.
 */
jest.setTimeout(240_000);

let stack: TestStack;
let api: ReturnType<typeof request>;
let pool: Pool;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '10' } });
  api = request(stack.gatewayUrl);
  pool = createPool(stack.databaseUrl);
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await pool?.end();
});
afterEach(() => stack.sim.configure({ drift: 'none', driftNext: [] }));

interface Picture {
  image_id: string;
  status: string;
  error: { code: string; message: string } | null;
  compliance: { drift?: { verdict: string; product_pixels: string; retries: number; delta_e_mean: number } } | null;
}

async function processOne(email: string, settings: Record<string, unknown>): Promise<{ token: string; jobId: string; picture: Picture }> {
  const registered = await api.post('/auth/register').send({ email, password: 'long enough password' }).expect(201);
  const token = registered.body.access_token as string;
  const uploaded = await api.post('/api/v1/upload').set('authorization', `Bearer ${token}`).attach('files', await fidelityPhoto({ width: 900, height: 900 }), 'bottle.jpg').expect(201);
  const jobId = uploaded.body.job_id as string;
  await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'amazon', settings }).expect(202);
  await readEvents(`${stack.gatewayUrl}/api/v1/progress/${jobId}/stream`, token, 120_000);
  const progress = await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${token}`).expect(200);
  return { token, jobId, picture: progress.body.images[0] as Picture };
}

async function balance(token: string): Promise<{ balance: number; reserved: number }> {
  return (await api.get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200)).body as { balance: number; reserved: number };
}

async function paidCalls(imageId: string): Promise<Array<{ outcome: string; cost: number }>> {
  const { rows } = await pool.query<{ outcome: string; cost: string }>('select outcome, cost_micro_usd as cost from qwen_calls where image_id = $1 order by id', [imageId]);
  return rows.map((row) => ({ outcome: row.outcome, cost: Number(row.cost) }));
}

test('a faithful output: drift `none`, the seller\'s pixels, in progress and in the manifest', async () => {
  const { token, jobId, picture } = await processOne('faithful@example.com', {});
  expect(picture.status).toBe('done');
  expect(picture.compliance?.drift).toMatchObject({ verdict: 'none', product_pixels: 'original', retries: 0 });
  const zip = await api.get(`/api/v1/download/${jobId}`).set('authorization', `Bearer ${token}`).buffer(true).parse((res, callback) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => callback(null, Buffer.concat(chunks)));
  }).expect(200);
  const manifest = JSON.parse(new AdmZip(zip.body as Buffer).readAsText('manifest.json')) as { images: Array<{ compliance: Picture['compliance'] }> };
  expect(manifest.images[0]?.compliance?.drift).toMatchObject({ verdict: 'none', product_pixels: 'original', retries: 0 });
});

test('on_major_drift: retry asks the AI once more at our cost; the seller pays once for the faithful picture', async () => {
  const before = stack.sim.stats.succeeded;
  stack.sim.configure({ driftNext: ['drift_hue'] });
  const { token, picture } = await processOne('retry@example.com', { on_major_drift: 'retry', product_pixels: 'ai' });
  expect(picture.status).toBe('done');
  expect(picture.compliance?.drift).toMatchObject({ verdict: 'none', retries: 1, product_pixels: 'ai' });
  expect(stack.sim.stats.succeeded - before).toBe(2);
  const calls = await paidCalls(picture.image_id);
  expect(calls.map((call) => call.outcome)).toEqual(['success', 'drift_retry']);
  expect(calls.every((call) => call.cost > 0)).toBe(true);
  expect(await balance(token)).toMatchObject({ balance: 7, reserved: 0 });
  const processor = stack.services.find((service) => service.name.startsWith('processor'))!;
  expect(metricValue(await (await fetch(`${processor.url}/metrics`)).text(), 'qwen_drift_retries_total')).toBe(1);
});

test('on_major_drift: fail fails a drifted picture with its reason and charges nothing', async () => {
  stack.sim.configure({ drift: 'drift_label' });
  const before = stack.sim.stats.succeeded;
  const { token, picture } = await processOne('strict@example.com', { on_major_drift: 'fail' });
  expect(picture.status).toBe('failed');
  expect(picture.error).toMatchObject({ code: 'product_drift', message: expect.stringMatching(/changed the product.*not charged/) });
  expect(stack.sim.stats.succeeded - before).toBe(1);
  expect(await balance(token)).toEqual({ balance: 10, reserved: 0, available: 10 });
});

test('on_major_drift: deliver (the default) delivers a drifted picture, flagged `major`, with the seller\'s pixels', async () => {
  stack.sim.configure({ drift: 'drift_hue' });
  const { token, picture } = await processOne('lenient@example.com', {});
  expect(picture.status).toBe('done');
  expect(picture.compliance?.drift).toMatchObject({ verdict: 'major', product_pixels: 'original', retries: 0 });
  expect((await balance(token)).balance).toBe(7);
});
