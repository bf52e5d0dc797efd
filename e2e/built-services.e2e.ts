import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import AdmZip from 'adm-zip';
import IORedis from 'ioredis';
import { dropDatabase } from '../db/migrate';
import { nodeArgs, ROOT, startStack, type Stack } from '../scripts/stack';
import { inspectPicture } from './fixtures';
import { distinctPhotos, Seller } from './seller';

/**
 * What the image runs: the production build (scripts/build-services.ts) made into a folder of its
 * own, outside the repository so nothing resolves from the workspace's node_modules or sources,
 * and the built migrations, gateway, billing, processor and DashScope stand-in started from it
 * with plain `node`. One picture goes through upload, process and download: a bundle that cannot
 * start, a thread module the pool cannot find, a package left out of node_modules or a file
 * looked for at the sources' place fails it.
 */
jest.setTimeout(120_000);

const id = randomBytes(4).toString('hex');
const workDir = mkdtempSync(path.join(os.tmpdir(), `masterpost-built-${id}-`));
const built = path.join(workDir, 'app');
const databaseUrl = `${process.env.TEST_DATABASE_BASE ?? 'postgres://postgres@127.0.0.1:5432'}/mp_test_${id}`;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const queuePrefix = `mpt${id}`;
let stack: Stack | undefined;

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [...nodeArgs('scripts/build-services.ts'), '--out', built], { cwd: ROOT });
  stack = await startStack({
    built,
    databaseUrl,
    redisUrl,
    queuePrefix,
    storageDir: path.join(workDir, 'storage'),
    logDir: path.join(workDir, 'logs'),
    processors: 1,
    env: { LOG_LEVEL: 'warn', CONTRACT_CHECK: 'true', SIGNUP_CREDITS: '9' },
    quiet: true,
  });
});

afterAll(async () => {
  await stack?.stop();
  await dropDatabase(databaseUrl).catch(() => undefined);
  const redis = new IORedis(redisUrl);
  const keys = await redis.keys(`${queuePrefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(workDir, { recursive: true, force: true });
});

afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) console.log(stack?.services.map((service) => `--- ${service.name}\n${service.lastOutput?.() ?? ''}`).join('\n'));
});

test('the build holds bundles, the files they read and production packages only', () => {
  for (const file of ['services/gateway/dist/main.js', 'services/processor/dist/main.js', 'services/processor/dist/render-thread.js', 'services/billing/dist/main.js',
    'tools/dashscope-sim/dist/main.js', 'tools/dashscope-sim/dist/model-thread.js', 'db/dist/migrate.js', 'db/migrations/001_core.sql', 'services/processor/prompts/p1.json',
    'node_modules/sharp/package.json', 'node_modules/bullmq/package.json']) {
    expect({ file, there: existsSync(path.join(built, file)) }).toEqual({ file, there: true });
  }
  for (const absent of ['node_modules/tsx', 'node_modules/typescript', 'node_modules/jest', 'node_modules/esbuild', 'services/gateway/src', 'packages/platform']) {
    expect({ absent, there: existsSync(path.join(built, absent)) }).toEqual({ absent, there: false });
  }
  // Every service runs its bundle, none of them through tsx.
  for (const service of stack!.services) expect(service.child.spawnargs.slice(1)).toEqual([expect.stringMatching(/^(services|tools)\/[a-z-]+\/dist\/main\.js$/)]);
});

test('one picture goes through the built services: upload, process on a render thread, download, charged', async () => {
  const seller = await Seller.register(stack!.gatewayUrl, 'built@example.com');
  const [photo] = await distinctPhotos(1, 0, 700);
  const jobId = await seller.upload([photo!]);
  await seller.process(jobId, 'amazon');
  const progress = await seller.waitUntilFinished(jobId, 45_000);
  expect({ completed: progress.completed, failed: progress.failed, errors: progress.images.map((image) => image.error) }).toEqual({ completed: 1, failed: 0, errors: [undefined] });

  const download = await fetch(`${stack!.gatewayUrl}/api/v1/download/${jobId}`, { headers: { authorization: `Bearer ${seller.token}` } });
  expect(download.status).toBe(200);
  const pictures = new AdmZip(Buffer.from(await download.arrayBuffer())).getEntries().filter((entry) => entry.entryName.endsWith('.jpg'));
  expect(pictures).toHaveLength(1);
  const picture = await inspectPicture(pictures[0]!.getData());
  expect(picture).toMatchObject({ format: 'jpeg', borderPureWhite: true });
  expect(picture.box).not.toBeNull();
  expect(await seller.balance()).toEqual({ balance: 6, reserved: 0, available: 6 });
});

test('the gateway finds the web app and the API document from its bundle', async () => {
  const page = await fetch(stack!.gatewayUrl, { headers: { accept: 'text/html' } });
  if (existsSync(path.join(ROOT, 'packages/web/dist/index.html'))) {
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(readFileSync(path.join(built, 'packages/web/dist/index.html'), 'utf8'));
  } else {
    // Not built here (`npm run web:build`): the gateway names the folder it looked in, the build's.
    expect(page.status).toBe(503);
    expect(await page.text()).toContain(path.join(built, 'packages/web/dist'));
  }
  const document = await fetch(`${stack!.gatewayUrl}/openapi.json`);
  expect(document.status).toBe(200);
  expect(((await document.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
});
