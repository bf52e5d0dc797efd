import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { getBinary } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, eventually, Seller } from './seller';

/**
 * A seller's files are theirs: nobody else reaches them by any route, the seller can delete a
 * job with its files, and every job's files go by themselves after the retention period (a few
 * seconds here, 7 days by default).
 */
jest.setTimeout(180_000);

let stack: TestStack;
let api: ReturnType<typeof request>;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '30', RETENTION_SECONDS: '15', RETENTION_SWEEP_EVERY_MS: '1000' } });
  api = request(stack.gatewayUrl);
});
cleanUpAfter(() => stack);
const jobFolder = (jobId: string) => path.join(stack.env.STORAGE_DIR!, 'jobs', jobId);

async function finishedJob(seller: Seller, offset: number): Promise<{ jobId: string; imageId: string }> {
  const jobId = await seller.upload(await distinctPhotos(1, offset));
  await seller.process(jobId);
  const progress = await seller.waitUntilFinished(jobId, 60_000);
  expect(progress.status).toBe('completed');
  return { jobId, imageId: progress.images[0]!.image_id };
}

test("every route that names a job or a picture answers 404 to another seller, and the owner's calls work", async () => {
  const owner = await Seller.register(stack.gatewayUrl, 'owner@example.com');
  const stranger = await Seller.register(stack.gatewayUrl, 'stranger@example.com');
  const { jobId, imageId } = await finishedJob(owner, 100);
  const reads = [
    `/api/v1/progress/${jobId}`, `/api/v1/progress/${jobId}/stream`, `/api/v1/download/${jobId}`,
    `/api/v1/images/${imageId}/result`, `/api/v1/images/${imageId}/original`, `/api/v1/images/${imageId}/cutout`,
  ];
  for (const route of reads) {
    const answer = await api.get(route).set('authorization', `Bearer ${stranger.token}`);
    expect({ route, status: answer.status }).toEqual({ route, status: 404 });
  }
  for (const [method, route] of [['post', `/api/v1/jobs/${jobId}/cancel`], ['delete', `/api/v1/jobs/${jobId}`]] as const) {
    const answer = await api[method](route).set('authorization', `Bearer ${stranger.token}`);
    expect({ route, status: answer.status }).toEqual({ route, status: 404 });
  }
  await api.post('/api/v1/process').set('authorization', `Bearer ${stranger.token}`).send({ job_id: jobId, pipeline: 'amazon' }).expect(404);
  // The owner still has everything.
  for (const route of reads.filter((item) => !item.endsWith('/stream'))) {
    const answer = await getBinary(api, route, owner.token);
    expect({ route, status: answer.status }).toEqual({ route, status: 200 });
  }
});

test('a seller deletes a job: its files and its pages are gone, its charges stay as they were', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'deleter@example.com');
  const { jobId, imageId } = await finishedJob(seller, 200);
  expect(existsSync(jobFolder(jobId))).toBe(true);
  const answer = await api.delete(`/api/v1/jobs/${jobId}`).set('authorization', `Bearer ${seller.token}`).expect(200);
  expect(answer.body).toEqual({ job_id: jobId, deleted: true, released_credits: 0 });
  expect(existsSync(jobFolder(jobId))).toBe(false);
  await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${seller.token}`).expect(404);
  await api.get(`/api/v1/images/${imageId}/result`).set('authorization', `Bearer ${seller.token}`).expect(404);
  expect(await seller.balance()).toEqual({ balance: 27, reserved: 0, available: 27 });
});

test('after the retention period the files are deleted by the scheduled sweep, and the download says so', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'forgetful@example.com');
  const { jobId } = await finishedJob(seller, 300);
  await getBinary(api, `/api/v1/download/${jobId}`, seller.token).expect(200);
  const gone = await eventually('the sweep', async () => (existsSync(jobFolder(jobId)) ? undefined : true), 60_000);
  expect(gone).toBe(true);
  const answer = await api.get(`/api/v1/download/${jobId}`).set('authorization', `Bearer ${seller.token}`).expect(410);
  expect(answer.body.error.code).toBe('files_deleted');
  // The job itself is still listed for the seller's records.
  expect((await seller.progress(jobId)).status).toBe('completed');
  // The stored AI output of that photo went too: nothing of the seller's photo is left.
  expect(existsSync(path.join(stack.env.STORAGE_DIR!, 'qwen-cache'))).toBe(true);
  await eventually('the output store emptied', async () => {
    const users = readdirSync(path.join(stack.env.STORAGE_DIR!, 'qwen-cache'));
    return users.every((user) => readdirSync(path.join(stack.env.STORAGE_DIR!, 'qwen-cache', user)).length === 0) ? true : undefined;
  }, 60_000);
});
