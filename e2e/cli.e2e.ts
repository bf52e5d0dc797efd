import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { masterpostClient } from '@masterpost/client';
import { ROOT } from '../scripts/stack';
import { inspectPicture, zipOf } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, eventually } from './seller';

/**
 * The command-line client (issue 17) as a seller runs it: its own process, its key in its own
 * config folder, against the real services. A folder with a broken photo (listed as refused,
 * exit 1), a run interrupted with Ctrl-C and resumed without a second upload, and a folder
 * the balance cannot pay for (exit 2, no job made).
 */
jest.setTimeout(240_000);

const PASSWORD = 'long enough password';
let stack: TestStack;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'masterpost-cli-'));

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '60' } });
});

cleanUpAfter(() => stack);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Ended {
  code: number | null;
  output: string;
}

/** One seller's CLI: every run shares the config folder, as runs on one computer do. */
class Cli {
  readonly configDir = mkdtempSync(path.join(scratch, 'config-'));

  constructor(private readonly extraEnv: Record<string, string> = {}) {}

  start(args: string[]): { output: () => string; ended: Promise<Ended>; interrupt: () => void } {
    // stdin is not a terminal, as in a script: nothing may be asked.
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MASTERPOST_CONFIG_DIR: this.configDir, MASTERPOST_URL: stack.gatewayUrl, ...this.extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ended = new Promise<Ended>((resolve) => child.on('close', (code) => resolve({ code, output })));
    return { output: () => output, ended, interrupt: () => child.kill('SIGINT') };
  }

  run(args: string[]): Promise<Ended> {
    return this.start(args).ended;
  }
}

async function newSeller(email: string): Promise<{ userId: string; key: string }> {
  const session = await request(stack.gatewayUrl).post('/auth/register').send({ email, password: PASSWORD }).expect(201);
  const made = await masterpostClient({ baseUrl: stack.gatewayUrl, accessToken: session.body.access_token as string }).POST('/api/v1/keys', { body: { name: 'cli test' } });
  return { userId: session.body.user.id as string, key: made.data!.key };
}

async function jobsOf(userId: string): Promise<number> {
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    return (await db.query<{ n: number }>('select count(*)::int as n from jobs where user_id = $1', [userId])).rows[0]!.n;
  } finally {
    await db.end();
  }
}

function folderOf(name: string, files: Array<{ name: string; data: Buffer }>): string {
  const folder = path.join(scratch, name);
  mkdirSync(folder, { recursive: true });
  for (const file of files) writeFileSync(path.join(folder, file.name), file.data);
  return folder;
}

const picturesIn = (folder: string) => readdirSync(folder).filter((name) => !name.startsWith('.') && name !== 'manifest.json').sort();
const stateIn = (folder: string) => JSON.parse(readFileSync(path.join(folder, '.masterpost-job.json'), 'utf8')) as { job_id: string; phase: string; marketplace: string };

test('login with a key (stored 0600), a folder with a broken photo: the five pictures in --out under their names at 2000x2000, the broken one listed as refused (exit 1), 15 credits charged', async () => {
  const seller = await newSeller('cli-first@example.com');
  const cli = new Cli();
  const login = await cli.run(['login', '--key', seller.key]);
  expect(login).toMatchObject({ code: 0 });
  expect(login.output).toContain('60 credits available');
  const configFile = path.join(cli.configDir, 'config.json');
  expect(statSync(configFile).mode & 0o777).toBe(0o600);
  expect(statSync(cli.configDir).mode & 0o777).toBe(0o700);
  expect(JSON.parse(readFileSync(configFile, 'utf8'))).toEqual({ url: stack.gatewayUrl, api_key: seller.key });

  const photos = await distinctPhotos(5);
  const names = ['bottle.jpg', 'box.jpg', 'disc.jpg', 'lamp.jpg', 'mug.jpg'];
  const broken = photos[0]!.subarray(0, Math.floor(photos[0]!.length / 2));
  const folder = folderOf('first', [...names.map((name, index) => ({ name, data: photos[index]! })), { name: 'broken.jpg', data: broken }]);
  const out = path.join(scratch, 'first-ready');

  // Without a terminal and without --yes nothing is sent.
  const unasked = await cli.run(['process', folder, '--marketplace', 'amazon', '--shadow', 'drop', '--out', out]);
  expect(unasked.code).toBe(2);
  expect(unasked.output).toContain('pass --yes');
  expect(await jobsOf(seller.userId)).toBe(0);

  const run = await cli.run(['process', folder, '--marketplace', 'amazon', '--shadow', 'drop', '--out', out, '--yes', '--wait']);
  expect(run.code).toBe(1);
  expect(run.output).toContain('6 pictures x 3 credits = 18 credits');
  expect(run.output).toMatch(/broken\.jpg: corrupt_image: .+/);
  expect(run.output).toContain('15 credits charged; 45 credits available');
  expect(run.output).toContain('Delivered 5 of 5 pictures');

  expect(picturesIn(out)).toEqual(names);
  for (const name of names) {
    const picture = await inspectPicture(readFileSync(path.join(out, name)));
    expect({ name, width: picture.width, height: picture.height, format: picture.format }).toEqual({ name, width: 2000, height: 2000, format: 'jpeg' });
  }
  // The compliance summary says what manifest.json says.
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { images: Array<{ compliance: { passed: boolean } | null; credits_charged: number }> };
  const passing = manifest.images.filter((image) => image.compliance?.passed).length;
  expect(run.output).toContain(`amazon checks: ${passing} of 5 pictures pass`);
  expect(manifest.images.reduce((sum, image) => sum + image.credits_charged, 0)).toBe(15);
  expect(stateIn(out)).toMatchObject({ phase: 'downloaded', marketplace: 'amazon' });
  expect(await jobsOf(seller.userId)).toBe(1);

  const balance = await cli.run(['balance']);
  expect(balance).toMatchObject({ code: 0 });
  expect(balance.output).toContain('45 credits available (balance 45, 0 reserved');

  // status takes the --out folder as well as a job id.
  const status = await cli.run(['status', out]);
  expect(status.code).toBe(1);
  expect(status.output).toContain(`Job ${stateIn(out).job_id} (amazon): completed.`);
  expect(status.output).toContain('broken.jpg: corrupt_image');
});

test('interrupted with Ctrl-C while processing, the same command resumes the job: no second upload, each picture made once, exit 0', async () => {
  const seller = await newSeller('cli-resume@example.com');
  // Signing in with email and password: a key is made and stored, the password is not.
  const cli = new Cli({ MASTERPOST_PASSWORD: PASSWORD });
  expect(await cli.run(['login', '--email', 'cli-resume@example.com'])).toMatchObject({ code: 0 });
  const stored = readFileSync(path.join(cli.configDir, 'config.json'), 'utf8');
  expect(stored).toMatch(/"api_key": "mp_/);
  expect(stored).not.toContain(PASSWORD);

  const photos = await distinctPhotos(5, 20);
  const folder = folderOf('resume', photos.map((data, index) => ({ name: `item-${index}.jpg`, data })));
  const out = path.join(scratch, 'resume-ready');
  const args = ['process', folder, '--marketplace', 'etsy', '--out', out, '--yes'];

  stack.sim.reset();
  stack.sim.configure({ latencyMs: 3000 });
  let jobId: string;
  try {
    const first = cli.start(args);
    await eventually('the job to be processing', async () => (first.output().includes('Processing job') ? true : undefined), 60_000);
    first.interrupt();
    const interrupted = await first.ended;
    expect(interrupted.code).toBe(130);
    expect(interrupted.output).toContain('Interrupted.');
    jobId = stateIn(out).job_id;
    expect(stateIn(out).phase).toBe('processing');
    expect(picturesIn(out)).toEqual([]);
  } finally {
    stack.sim.configure({ latencyMs: 0 });
  }

  const again = await cli.run(args);
  expect(again.code).toBe(0);
  expect(again.output).toContain(`Resuming job ${jobId}`);
  expect(again.output).not.toContain('Uploading');
  expect(again.output).toContain('Delivered 5 of 5 pictures');
  expect(again.output).toContain('15 credits charged');
  expect(stateIn(out)).toMatchObject({ job_id: jobId, phase: 'downloaded' });
  expect(picturesIn(out)).toEqual(photos.map((_, index) => `item-${index}.jpg`));
  // One upload, one job, and the AI asked once a picture.
  expect(await jobsOf(seller.userId)).toBe(1);
  expect(stack.sim.stats.requests).toBeLessThanOrEqual(5);
  const progress = await masterpostClient({ baseUrl: stack.gatewayUrl, apiKey: JSON.parse(stored).api_key as string }).GET('/api/v1/progress/{jobId}', { params: { path: { jobId } } });
  expect(progress.data).toMatchObject({ finished: true, status: 'completed', completed: 5, credits_charged: 15 });
});

test('two folders at once that the balance pays for only one of: one run delivers, the other stops with exit 2 and leaves no job behind, whichever check catches it', async () => {
  const seller = await newSeller('cli-race@example.com');
  const cli = new Cli();
  expect(await cli.run(['login', '--key', seller.key])).toMatchObject({ code: 0 });
  // 11 pictures each: 33 credits a run, 66 for both, 60 available. The loser is caught before
  // its upload, by the upload's estimate, or by a 402 at process time (its upload then deleted).
  const photos = await distinctPhotos(22, 70, 300);
  const runs = ['a', 'b'].map((name, run) => {
    const folder = folderOf(`race-${name}`, photos.slice(run * 11, run * 11 + 11).map((data, index) => ({ name: `${name}-${index}.jpg`, data })));
    return cli.start(['process', folder, '--marketplace', 'instagram', '--out', path.join(scratch, `race-${name}-ready`), '--yes']).ended;
  });
  const ended = await Promise.all(runs);
  expect(ended.map((run) => run.code).sort()).toEqual([0, 2]);
  const loser = ended.find((run) => run.code === 2)!;
  expect(loser.output).toMatch(/this needs 33 credits and \d+ are available; buy credits at /);
  expect(await jobsOf(seller.userId)).toBe(1);
  expect((await cli.run(['balance'])).output).toContain('27 credits available');
});

test('a folder the balance cannot pay for (photos and a ZIP of them: 21 pictures, 63 credits, 60 available): exit 2 with what is needed and where to buy, nothing uploaded', async () => {
  const seller = await newSeller('cli-short@example.com');
  const cli = new Cli();
  expect(await cli.run(['login', '--key', seller.key])).toMatchObject({ code: 0 });
  const photos = await distinctPhotos(21, 40, 200);
  const zip = zipOf(photos.slice(5).map((data, index) => ({ name: `shoot/zipped-${index}.jpg`, data })));
  const folder = folderOf('short', [...photos.slice(0, 5).map((data, index) => ({ name: `loose-${index}.jpg`, data })), { name: 'shoot.zip', data: zip }]);
  const out = path.join(scratch, 'short-ready');

  const run = await cli.run(['process', folder, '--marketplace', 'ebay', '--out', out, '--yes']);
  expect(run.code).toBe(2);
  expect(run.output).toContain('21 pictures x 3 credits = 63 credits (5 photos, 1 ZIP holding 16)');
  expect(run.output).toContain(`this needs 63 credits and 60 are available; buy credits at ${stack.gatewayUrl}`);
  expect(run.output).not.toContain('Uploading');
  expect(await jobsOf(seller.userId)).toBe(0);
  expect(() => readdirSync(out)).toThrow();
  expect((await cli.run(['balance'])).output).toContain('60 credits available');
});
