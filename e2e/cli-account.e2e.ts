import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import sharp from 'sharp';
import Stripe from 'stripe';
import { ROOT } from '../scripts/stack';
import { seedGallery } from '../scripts/seed-gallery';
import { startMailCatcher, type CaughtMail, type MailCatcher } from '../tools/mail-catcher/src/catcher';
import { inspectPicture } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, eventually } from './seller';
import { checkoutCompletedEvent, startStripeStandIn, type StripeStandIn } from './web-browser';

/**
 * The command-line client's account, money and editing commands as one seller runs them, in its
 * own process against one real stack (mails caught by a real SMTP server, Stripe's API a local
 * stand-in): signing up and proving the address from the mailed link, a key made that works and
 * stops working once revoked, a pack bought on Checkout, a job's pictures listed, edited and
 * masked for free, a job cancelled and one deleted, the gallery, a new address and password, the
 * data's ZIP, and the account deleted after which the sign-in fails. The tests run in order and
 * share the seller, as one seller's day would.
 */
jest.setTimeout(120_000);

const PASSWORD = 'long enough password';
const SECOND_PASSWORD = 'another good password';
const THIRD_PASSWORD = 'a third good password';
const WEBHOOK_SECRET = 'whsec_cli_account_test_secret';
const EMAIL = 'cli-seller@example.com';
const NEW_EMAIL = 'cli-seller-moved@example.com';
let stack: TestStack;
let mail: MailCatcher;
let stripe: StripeStandIn;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'masterpost-cli-account-'));

beforeAll(async () => {
  mail = await startMailCatcher();
  stripe = await startStripeStandIn(() => stack.gatewayUrl);
  stack = await startTestStack({
    env: {
      SIGNUP_CREDITS: '60', SMTP_URL: mail.smtpUrl, PUBLIC_URL: 'http://masterpost.test', RATE_LIMIT_AUTH_PER_MINUTE: '200',
      STRIPE_SECRET_KEY: 'sk_test_cli_account', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: stripe.url,
    },
  });
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await stripe?.close();
  await mail?.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Ended {
  code: number | null;
  stdout: string;
  /** stdout and stderr as they came. */
  output: string;
}

/** One computer's CLI: every run shares the config folder; stdin is not a terminal, as in a script. */
class Cli {
  readonly configDir = mkdtempSync(path.join(scratch, 'config-'));

  start(args: string[], env: Record<string, string> = {}): { output: () => string; ended: Promise<Ended> } {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MASTERPOST_CONFIG_DIR: this.configDir, MASTERPOST_URL: stack.gatewayUrl, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ended = new Promise<Ended>((resolve) => child.on('close', (code) => resolve({ code, stdout, output })));
    return { output: () => output, ended };
  }

  run(args: string[], env: Record<string, string> = {}): Promise<Ended> {
    return this.start(args, env).ended;
  }

  get configFile(): string {
    return path.join(this.configDir, 'config.json');
  }

  storedKey(): string {
    return (JSON.parse(readFileSync(this.configFile, 'utf8')) as { api_key: string }).api_key;
  }
}

const cli = new Cli();
const withPassword = (password = PASSWORD) => ({ MASTERPOST_PASSWORD: password });
const mailTo = (address: string, kind: string, not: CaughtMail[] = []) => mail.waitFor((caught) => caught.to.includes(address) && caught.kind === kind && !not.includes(caught));

/** What the gateway answers a request made with this key: what a seller's own script would see. */
async function balanceWithKey(key: string): Promise<{ status: number; available?: number }> {
  const response = await fetch(`${stack.gatewayUrl}/credits/balance`, { headers: { 'x-api-key': key } });
  return { status: response.status, available: response.ok ? ((await response.json()) as { available: number }).available : undefined };
}

function folderOf(name: string, photos: Buffer[]): string {
  const folder = path.join(scratch, name);
  mkdirSync(folder, { recursive: true });
  photos.forEach((photo, index) => writeFileSync(path.join(folder, `${name}-${index}.jpg`), photo));
  return folder;
}

const jobIdIn = (folder: string) => (JSON.parse(readFileSync(path.join(folder, '.masterpost-job.json'), 'utf8')) as { job_id: string }).job_id;

test('signup with an address to prove: no key until the mailed link is pasted into "account verify", which brings the free credits; then login, and the account shows it all', async () => {
  const signup = await cli.run(['signup', '--email', EMAIL], withPassword());
  expect(signup).toMatchObject({ code: 0 });
  expect(signup.output).toContain(`We mailed a link to ${EMAIL}`);
  expect(existsSync(cli.configFile)).toBe(false);
  expect(await cli.run(['signup', '--email', EMAIL], withPassword())).toMatchObject({ code: 2, output: expect.stringContaining('already has an account') });

  const link = (await mailTo(EMAIL, 'verifyEmail')).link!;
  const verified = await cli.run(['account', 'verify', link]);
  expect(verified).toMatchObject({ code: 0 });
  expect(verified.output).toContain(`${EMAIL} is verified: 60 credits available`);
  // A link works once.
  const again = await cli.run(['account', 'verify', link]);
  expect(again.code).toBe(2);
  expect(again.output).toContain('invalid_token');

  expect(await cli.run(['login', '--email', EMAIL], withPassword())).toMatchObject({ code: 0 });
  expect((await cli.run(['account', 'notifications', 'maybe'])).code).toBe(2);
  expect(await cli.run(['account', 'notifications', 'on'])).toMatchObject({ code: 0 });
  const shown = await cli.run(['account']);
  expect(shown).toMatchObject({ code: 0 });
  expect(shown.stdout.split('\n')).toEqual(expect.arrayContaining([
    `${EMAIL} at ${stack.gatewayUrl}`, '  address: verified', '  credits: 60 available (balance 60, 0 reserved)', '  mail me when my pictures are ready: on', '  password: set',
  ]));
});

test('keys: a key made with "keys create" (alone on stdout) works for an API call, is listed, is kept when the question cannot be asked, and is refused at once after "keys revoke --yes"', async () => {
  const wrong = await cli.run(['keys', 'list'], withPassword('not the password'));
  expect(wrong.code).toBe(2);
  expect(wrong.output).toContain(`wrong email or password for ${EMAIL}`);
  expect((await cli.run(['keys', 'create', '--name', '   '], withPassword())).code).toBe(2);

  const made = await cli.run(['keys', 'create', '--name', 'shop sync'], withPassword());
  expect(made).toMatchObject({ code: 0 });
  const key = made.stdout.trim();
  expect(key).toMatch(/^mp_[A-Za-z0-9_-]{40,}$/);
  expect(await balanceWithKey(key)).toEqual({ status: 200, available: 60 });

  const listed = await cli.run(['keys', 'list'], withPassword());
  expect(listed).toMatchObject({ code: 0 });
  const rows = listed.stdout.trim().split('\n').map((line) => line.split('\t'));
  expect(rows.find((row) => row[2] === 'shop sync')?.[1]).toBe(`${key.slice(0, 10)}…`);
  expect(rows.find((row) => row[5] === '(this computer\'s key)')?.[1]).toBe(`${cli.storedKey().slice(0, 10)}…`);

  const unasked = await cli.run(['keys', 'revoke', 'shop sync'], withPassword());
  expect(unasked.code).toBe(2);
  expect(unasked.output).toContain('pass --yes');
  expect((await balanceWithKey(key)).status).toBe(200);

  const revoked = await cli.run(['keys', 'revoke', 'shop sync', '--yes'], withPassword());
  expect(revoked).toMatchObject({ code: 0 });
  expect(revoked.output).toContain('Revoked key "shop sync"');
  expect((await balanceWithKey(key)).status).toBe(401);
  // The CLI's own key is untouched.
  expect(await cli.run(['balance'])).toMatchObject({ code: 0, output: expect.stringContaining('60 credits available') });
});

test('buy: the packs are listed; "buy pro --wait" prints the Stripe Checkout address made for this seller and pack, and ends once Stripe\'s confirmation adds the credits', async () => {
  const packs = await cli.run(['buy']);
  expect(packs).toMatchObject({ code: 0 });
  expect(packs.stdout.split('\n')).toEqual(expect.arrayContaining(['starter\tStarter\t10 credits\t$1.00', 'pro\tPro\t100 credits\t$10.00']));
  expect(await cli.run(['buy', 'platinum'])).toMatchObject({ code: 2, output: expect.stringContaining('unknown pack "platinum": choose one of starter, pro') });

  const buying = cli.start(['buy', 'pro', '--wait']);
  await eventually('the Checkout address', async () => (buying.output().includes('Waiting for the payment') ? true : undefined), 30_000);
  const session = stripe.sessions.at(-1)!;
  expect(session.metadata).toMatchObject({ pack_id: 'pro' });
  expect(session.amountCents).toBe(1000);
  const body = checkoutCompletedEvent(session);
  const signature = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
  const delivered = await fetch(`${stack.gatewayUrl}/payments/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
  expect(delivered.status).toBe(200);

  const bought = await buying.ended;
  expect(bought.code).toBe(0);
  expect(bought.stdout.split('\n')[0]).toBe(`${stripe.url}/pay/${session.id}`);
  expect(bought.output).toContain('Paid: 100 credits added (Pro); 160 credits available.');
});

let imageId: string;
let delivered: Awaited<ReturnType<typeof inspectPicture>>;
const ready = path.join(scratch, 'edit-ready');

test('edit: a delivered picture listed by "status --pictures" is made again as a PNG with a drop shadow, then cut out along a painted mask: new pictures, no credits, no AI call', async () => {
  const processed = await cli.run(['process', folderOf('edit', await distinctPhotos(2, 300, 700)), '--marketplace', 'shopify', '--out', ready, '--yes']);
  expect(processed).toMatchObject({ code: 0 });
  const status = await cli.run(['status', ready, '--pictures']);
  expect(status).toMatchObject({ code: 0 });
  const pictures = status.stdout.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim().split('\t'));
  expect(pictures.map((columns) => [columns[1], columns[2], columns[3]])).toEqual([['edit-0.jpg', 'done', 'checks pass'], ['edit-1.jpg', 'done', 'checks pass']]);
  expect(pictures[0]!.join(' ')).toMatch(/drift (none|minor|major) \(colour ΔE/);
  imageId = pictures[0]![0]!;
  delivered = await inspectPicture(readFileSync(path.join(ready, 'edit-0.jpg')));

  const original = path.join(scratch, 'original.jpg');
  expect(await cli.run(['image', imageId, 'original', '--out', original])).toMatchObject({ code: 0 });
  expect(readFileSync(original)).toEqual(readFileSync(path.join(scratch, 'edit', 'edit-0.jpg')));

  const paidCalls = stack.sim.stats.requests;
  expect(await cli.run(['edit', imageId, '--coverage', '2'])).toMatchObject({ code: 2, output: expect.stringContaining('--coverage: ') });
  expect(await cli.run(['edit', imageId])).toMatchObject({ code: 2, output: expect.stringContaining('nothing to change') });
  const shadowed = path.join(scratch, 'shadowed.png');
  const edited = await cli.run(['edit', imageId, '--format', 'png', '--shadow', 'drop', '--out', shadowed]);
  expect(edited).toMatchObject({ code: 0 });
  expect(edited.output).toContain('no credits charged');
  const shadowedPicture = await inspectPicture(readFileSync(shadowed));
  expect(shadowedPicture.format).toBe('png');
  // The drop shadow falls down and to the right: what is not white now reaches further right than before.
  expect(shadowedPicture.box!.left + shadowedPicture.box!.width).toBeGreaterThan(delivered.box!.left + delivered.box!.width + 10);
  const after = await cli.run(['status', ready, '--pictures']);
  expect(after.stdout).toMatch(new RegExp(`${imageId}\\tedit-0\\.jpg -> edit-0\\.png\\tdone\\t.*\\tshadow drop`));

  // The mask to paint on, with its right half erased, sent back: only the left half of the product is left.
  const maskFile = path.join(scratch, 'mask.png');
  expect(await cli.run(['image', imageId, 'mask', '--out', maskFile])).toMatchObject({ code: 0 });
  const mask = readFileSync(maskFile);
  const { width, height } = await sharp(mask).metadata();
  const black = await sharp({ create: { width: Math.ceil(width! / 2), height: height!, channels: 3, background: '#000000' } }).png().toBuffer();
  const erased = path.join(scratch, 'erased.png');
  writeFileSync(erased, await sharp(mask).composite([{ input: black, left: Math.floor(width! / 2), top: 0 }]).png().toBuffer());
  expect(await cli.run(['edit', imageId, '--mask', original])).toMatchObject({ code: 2, output: expect.stringContaining('is not a PNG') });
  const masked = path.join(scratch, 'masked.png');
  expect(await cli.run(['edit', imageId, '--mask', erased, '--shadow', 'none', '--out', masked])).toMatchObject({ code: 0 });
  expect((await inspectPicture(readFileSync(masked))).box!.width).toBeLessThan(delivered.box!.width * 0.75);

  expect(stack.sim.stats.requests).toBe(paidCalls);
  expect(await cli.run(['balance'])).toMatchObject({ output: expect.stringContaining('154 credits available') });
});

test('cancel and delete: a running job is cancelled (its unstarted pictures\' credits back), a finished one cannot be; delete asks, then removes the job and its files', async () => {
  const finished = await cli.run(['cancel', ready]);
  expect(finished.code).toBe(2);
  expect(finished.output).toContain('already_finished');

  const busy = path.join(scratch, 'busy-ready');
  // Each AI call takes 4 s and a processor makes at most 4 pictures at once (2 at the AI): of 8,
  // half are still waiting to start when the cancel comes, even on a busy machine.
  stack.sim.configure({ latencyMs: 4000 });
  let released: number;
  try {
    const queued = await cli.run(['process', folderOf('busy', await distinctPhotos(8, 400, 600)), '--marketplace', 'ebay', '--out', busy, '--yes', '--no-wait']);
    expect(queued).toMatchObject({ code: 0 });
    const cancelled = await cli.run(['cancel', busy]);
    expect(cancelled).toMatchObject({ code: 0 });
    released = Number(/(\d+) credits? released/.exec(cancelled.output)?.[1]);
    expect(released).toBeGreaterThan(0);
  } finally {
    stack.sim.configure({ latencyMs: 0 });
  }
  const ended = await eventually('the cancelled job to settle', async () => {
    const status = await cli.run(['status', busy]);
    // A finished job gets the full report; one still settling, a line of what it reserves.
    return status.stdout.includes('Delivered ') ? status : undefined;
  }, 60_000);
  const delivered = Number(/Delivered (\d+) of 8/.exec(ended.stdout)?.[1]);
  expect(delivered).toBeLessThan(8);
  expect(ended.stdout).toMatch(/busy-\d\.jpg: cancelled/);
  // What the cancel released is exactly the pictures it kept from being made.
  expect(released).toBe((8 - delivered) * 3);
  // Only what was delivered is charged: 154 before, 3 credits a picture.
  expect((await cli.run(['balance'])).output).toContain(`${154 - delivered * 3} credits available`);

  const jobId = jobIdIn(ready);
  const unasked = await cli.run(['delete', jobId]);
  expect(unasked.code).toBe(2);
  expect(unasked.output).toContain('pass --yes');
  expect((await cli.run(['status', jobId])).code).toBe(0);
  const deleted = await cli.run(['delete', ready, '--yes']);
  expect(deleted).toMatchObject({ code: 0 });
  expect(deleted.output).toContain(`The copies downloaded into ${ready} are yours`);
  expect(await cli.run(['status', jobId])).toMatchObject({ code: 2, output: expect.stringContaining('no such job') });
  expect((await cli.run(['image', imageId])).code).toBe(2);
  expect(readdirSync(ready)).toContain('edit-0.jpg');
});

test('gallery and catalog need no sign-in: the examples are listed and --out writes each before and after picture', async () => {
  expect(await seedGallery(stack.databaseUrl, stack.env.STORAGE_DIR!)).toBe(3);
  const stranger = new Cli();
  const catalog = await stranger.run(['catalog']);
  expect(catalog).toMatchObject({ code: 0 });
  expect(catalog.stdout).toContain('3 credits a delivered picture');
  expect(catalog.stdout).toMatch(/ {2}amazon\t2000x2000 jpeg/);

  const out = path.join(scratch, 'gallery');
  const gallery = await stranger.run(['gallery', '--out', out]);
  expect(gallery).toMatchObject({ code: 0 });
  expect(gallery.stdout).toContain('Bottle for Amazon (amazon)');
  expect(gallery.stdout).toContain(`  before: ${stack.gatewayUrl}/api/v1/gallery/`);
  const files = readdirSync(out).sort();
  expect(files).toHaveLength(6);
  expect(files.filter((name) => name.startsWith('bottle-for-amazon-'))).toEqual([expect.stringMatching(/-after\.jpg$/), expect.stringMatching(/-before\.jpg$/)]);
  expect((await inspectPicture(readFileSync(path.join(out, files.find((name) => name.startsWith('bottle-for-amazon-') && name.endsWith('-after.jpg'))!)))).width).toBe(2000);
});

test('the account: a new address confirmed from its link, a new password, a forgotten one reset from its link, the data\'s ZIP, and deleting it, after which the sign-in fails', async () => {
  expect(await cli.run(['account', 'email', NEW_EMAIL], withPassword('wrong password'))).toMatchObject({ code: 2, output: expect.stringContaining('password is wrong') });
  expect(await cli.run(['account', 'email', NEW_EMAIL], withPassword())).toMatchObject({ code: 0 });
  const confirmed = await cli.run(['account', 'confirm-email', (await mailTo(NEW_EMAIL, 'confirmNewEmail')).link!]);
  expect(confirmed).toMatchObject({ code: 0, output: expect.stringContaining(`Your address is now ${NEW_EMAIL}`) });

  const changed = await cli.run(['account', 'password'], { ...withPassword(), MASTERPOST_NEW_PASSWORD: SECOND_PASSWORD });
  expect(changed).toMatchObject({ code: 0 });
  expect((await new Cli().run(['login', '--email', NEW_EMAIL], withPassword())).code).toBe(2);
  expect((await new Cli().run(['login', '--email', NEW_EMAIL], withPassword(SECOND_PASSWORD))).code).toBe(0);

  expect(await cli.run(['account', 'forgot-password'])).toMatchObject({ code: 0 });
  const reset = await cli.run(['account', 'reset-password', (await mailTo(NEW_EMAIL, 'passwordReset')).link!], { MASTERPOST_NEW_PASSWORD: THIRD_PASSWORD });
  expect(reset).toMatchObject({ code: 0 });
  expect((await new Cli().run(['login', '--email', NEW_EMAIL], withPassword(SECOND_PASSWORD))).code).toBe(2);
  // The stored key outlives every password change.
  const balance = await cli.run(['balance']);
  expect(balance.code).toBe(0);
  const available = Number(/(\d+) credits available/.exec(balance.output)?.[1]);

  const zipFile = path.join(scratch, 'my-data.zip');
  const exported = await cli.run(['account', 'export', '--out', zipFile]);
  expect(exported).toMatchObject({ code: 0 });
  const zip = new AdmZip(zipFile);
  const json = (name: string) => JSON.parse(zip.getEntry(name)!.getData().toString('utf8')) as unknown;
  expect(json('account.json')).toMatchObject({ email: NEW_EMAIL });
  const jobs = json('jobs.json') as Array<{ id: string; status: string }>;
  expect(jobs.map((job) => job.id)).toEqual([jobIdIn(path.join(scratch, 'busy-ready'))]);
  expect((json('ledger.json') as Array<{ kind: string; reference: string }>).find((movement) => movement.kind === 'purchase')?.reference).toBe(`stripe:session:${stripe.sessions.at(-1)!.id}`);
  expect(zip.getEntries().some((entry) => entry.entryName.startsWith(`photos/${jobs[0]!.id}/`))).toBe(true);
  expect(exported.output).toContain(`${NEW_EMAIL}: 1 job,`);

  const key = cli.storedKey();
  expect(await cli.run(['account', 'delete'], withPassword(THIRD_PASSWORD))).toMatchObject({ code: 2, output: expect.stringContaining('pass --yes') });
  expect(await cli.run(['account', 'delete', '--yes'], withPassword(SECOND_PASSWORD))).toMatchObject({ code: 2, output: expect.stringContaining('password is wrong') });
  const gone = await cli.run(['account', 'delete', '--yes'], withPassword(THIRD_PASSWORD));
  expect(gone).toMatchObject({ code: 0 });
  // What is given up is said before it goes, and again once gone.
  expect(gone.output).toContain(`gives up its ${available} credits`);
  expect(gone.output).toContain(`${available} credits given up, 1 job deleted`);
  expect(existsSync(cli.configFile)).toBe(false);
  expect((await balanceWithKey(key)).status).toBe(401);
  const login = await new Cli().run(['login', '--email', NEW_EMAIL], withPassword(THIRD_PASSWORD));
  expect(login.code).toBe(2);
  expect(login.output).toContain('wrong email or password');
});
