import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { startMailCatcher, type CaughtMail, type MailCatcher } from '../tools/mail-catcher/src/catcher';
import { cleanUpAfter, runScript, startTestStack, type TestStack } from './harness';
import { writeOldDatabase } from './legacy-fixture';
import { distinctPhotos } from './seller';
import { DESKTOP, launchChromium, PHONE, seriousViolations } from './web-browser';

/**
 * Accounts a seller can keep, in the web app (packages/web) in Debian's Chromium, with the mails
 * caught by a real SMTP server: an address proven by its link before anything is spent, a new
 * address, a forgotten password, the seller's data, leaving; and a seller moved from the old
 * Masterpost signing in once with the access code. axe-core checks every screen on the way.
 */
jest.setTimeout(240_000);

// The mails' links lead to the production address; the browser opens their path on this stack.
const PUBLIC_URL = 'http://masterpost.test';
const SIGNUP_CREDITS = 30;
let stack: TestStack;
let mail: MailCatcher;
let browser: Browser;
let page: Page;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'mp-web-account-'));
  mail = await startMailCatcher();
  stack = await startTestStack({ env: { SIGNUP_CREDITS: String(SIGNUP_CREDITS), SMTP_URL: mail.smtpUrl, PUBLIC_URL, RATE_LIMIT_AUTH_PER_MINUTE: '60' } });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: DESKTOP, acceptDownloads: true });
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await browser?.close();
  await mail?.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** The screen is usable with a keyboard and a screen reader, at desktop and at phone width: no serious axe finding, nothing spilling sideways. */
async function expectAccessible(screen: string): Promise<void> {
  expect({ screen, violations: await seriousViolations(page) }).toEqual({ screen, violations: [] });
  await page.setViewportSize(PHONE);
  const width = await page.evaluate<number>('document.documentElement.scrollWidth');
  await page.setViewportSize(DESKTOP);
  expect({ screen, width: Math.min(width, PHONE.width) }).toEqual({ screen, width });
}

async function balanceShown(): Promise<number> {
  await page.waitForSelector('#balance[data-available]:not([data-available=""])');
  return Number(await page.getAttribute('#balance', 'data-available'));
}

/** A mailed link opened on this stack (its path and query, as the seller's click would). */
async function follow(caught: CaughtMail): Promise<void> {
  expect(caught.link).toMatch(new RegExp(`^${PUBLIC_URL}/`));
  const link = new URL(caught.link!);
  await page.goto(`${stack.gatewayUrl}${link.pathname}${link.search}`);
}

const mailTo = (address: string, kind: string, not: CaughtMail[] = []) => mail.waitFor((caught) => caught.to.includes(address) && caught.kind === kind && !not.includes(caught));

async function signIn(email: string, secret: string): Promise<void> {
  await page.goto(`${stack.gatewayUrl}/signin`);
  await page.fill('#email', email);
  await page.fill('#password', secret);
  await page.click('button[type="submit"]');
}

test("an account a seller can keep: verified by its link, a new address, a forgotten password, the seller's data, and leaving", async () => {
  const api = request(stack.gatewayUrl);
  const email = 'keeper@example.com';
  const newEmail = 'keeper.new@example.com';
  const password = 'a long enough password';
  const newPassword = 'another long password';

  // Signed up, not yet verified: the banner says why nothing can be spent, and no credits yet.
  await page.goto(`${stack.gatewayUrl}/signup`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type="submit"]');
  await page.waitForSelector('h1:has-text("New pictures")');
  await page.waitForSelector('#verify-banner');
  expect(await page.textContent('#verify-banner')).toContain('Confirm your email to get your free credits and start processing');
  expect(await balanceShown()).toBe(0);
  // The free credits are still to come: no nudge to buy them.
  expect(await page.locator('#low-balance').count()).toBe(0);
  await expectAccessible('upload, not verified');
  const firstLink = await mailTo(email, 'verifyEmail');

  // An upload is taken; the estimate and the marketplace screen say the address comes first.
  const [photo] = await distinctPhotos(1, 600);
  await page.setInputFiles('input[type="file"]', [{ name: 'product.jpg', mimeType: 'image/jpeg', buffer: photo! }]);
  await page.click('#upload');
  await page.waitForSelector('#estimate #verify-first');
  expect(await page.textContent('#verify-first')).toContain('Confirm your email first');
  await page.click('#to-choose');
  await page.waitForSelector('h1:has-text("Choose the marketplace")');
  await page.waitForSelector('#verify-first');
  expect(await page.isDisabled('#process')).toBe(true);
  await expectAccessible('choose, not verified');
  // The API agrees: processing is refused with the code the screen stands for.
  const jobId = /\/jobs\/([0-9a-f-]{36})\/choose/.exec(page.url())![1]!;
  const token = (await api.post('/auth/login').send({ email, password }).expect(200)).body.access_token as string;
  const refused = await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'amazon' }).expect(403);
  expect(refused.body.error.code).toBe('email_not_verified');

  // A new link from the banner: the first one stops working, and its page says so.
  await page.click('#resend-verification');
  await page.waitForSelector('#verify-banner [role="status"]:has-text("on its way")');
  const secondLink = await mailTo(email, 'verifyEmail', [firstLink]);
  await follow(firstLink);
  await page.waitForSelector('#verify-outcome[data-outcome="unknown"]');
  expect(await page.textContent('#verify-outcome')).toContain('This link is unknown, used or expired');
  expect(await page.isVisible('#resend-verification-page')).toBe(true);
  expect(await balanceShown()).toBe(0);
  await expectAccessible('verify email, an old link');

  // The latest link: verified, the trial credits in the balance, the banner gone.
  await follow(secondLink);
  await page.waitForSelector('#verify-outcome[data-outcome="done"]');
  expect(await page.textContent('#verified-balance')).toBe(`${SIGNUP_CREDITS} credits`);
  await page.waitForSelector(`#balance[data-available="${SIGNUP_CREDITS}"]`);
  expect(await page.locator('#verify-banner').count()).toBe(0);
  await expectAccessible('verify email, verified');

  // Account: "pictures ready" mails turned on, kept after a reload.
  await page.click('nav >> text=Account');
  await page.waitForSelector('#notify-pictures-ready');
  expect(await page.isChecked('#notify-pictures-ready')).toBe(false);
  await page.check('#notify-pictures-ready');
  await page.waitForSelector('#mails-outcome:has-text("Saved")');
  await page.reload();
  await page.waitForSelector('#notify-pictures-ready:checked');

  // A new address: waiting until its own mailbox confirms it; the old one is told.
  await page.fill('#new-email', newEmail);
  await page.fill('#email-password', password);
  await page.click('#change-email');
  await page.waitForSelector(`#pending-email:has-text("${newEmail}")`);
  expect(await page.textContent('#pending-email')).toContain('Waiting for confirmation from');
  await expectAccessible('account, an address waiting');
  await mailTo(email, 'emailChangeNotice');
  await follow(await mailTo(newEmail, 'confirmNewEmail'));
  await page.waitForSelector('#confirm-outcome[data-outcome="done"]');
  expect(await page.textContent('#confirmed-email')).toBe(newEmail);
  await expectAccessible('confirm email');
  await page.click('text=Back to your account');
  await page.waitForSelector(`#account-email:has-text("${newEmail}")`);
  expect(await page.locator('#pending-email').count()).toBe(0);

  // Forgotten password: the mailed link sets a new one and signs the seller in.
  await page.click('#sign-out');
  await page.goto(`${stack.gatewayUrl}/signin`);
  await page.click('#forgot-link');
  await page.waitForSelector('h1:has-text("Forgot your password?")');
  await page.fill('#forgot-email', newEmail);
  await page.click('#forgot-send');
  await page.waitForSelector('#forgot-sent p');
  expect(await page.textContent('#forgot-sent')).toContain('a link is on its way (valid one hour)');
  await expectAccessible('forgot password');
  await follow(await mailTo(newEmail, 'passwordReset'));
  await page.waitForSelector('h1:has-text("Choose a new password")');
  await expectAccessible('reset password');
  await page.fill('#new-password', newPassword);
  await page.fill('#new-password-again', newPassword);
  await page.click('button[type="submit"]');
  await page.waitForSelector('h1:has-text("New pictures")');
  expect(await balanceShown()).toBe(SIGNUP_CREDITS);
  // The old password no longer signs in; the new one does.
  await page.click('#sign-out');
  await signIn(newEmail, password);
  await page.waitForSelector('#signin-error');
  await signIn(newEmail, newPassword);
  await page.waitForSelector('h1:has-text("New pictures")');

  // The seller's data: a ZIP with the account as it is now, and the photo still kept.
  await page.click('nav >> text=Account');
  await page.waitForSelector('#export-data');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-data')]);
  const zip = new AdmZip(readFileSync((await download.path())!));
  const names = zip.getEntries().map((entry) => entry.entryName);
  expect(names).toEqual(expect.arrayContaining(['account.json', 'jobs.json', 'ledger.json', 'developer.json', `photos/${jobId}/product.jpg`]));
  expect(JSON.parse(zip.readAsText('account.json'))).toMatchObject({ email: newEmail, notify_pictures_ready: true });
  await page.waitForSelector('#export-outcome:has-text("downloading")');

  // Leaving: the credits given up are shown before the seller confirms.
  await page.waitForSelector('#forfeit-credits');
  expect(await page.textContent('#forfeit-credits')).toBe(`${SIGNUP_CREDITS} credits`);
  await expectAccessible('account, verified');
  await page.fill('#delete-password', newPassword);
  await page.fill('#delete-confirm', 'delete it');
  await page.click('#delete-account');
  await page.waitForSelector('#delete-outcome .error');
  expect(await page.textContent('#delete-outcome')).toContain('delete my account');
  await page.fill('#delete-confirm', 'delete my account');
  await page.click('#delete-account');
  await page.waitForSelector('h1:has-text("Your account is deleted")');
  expect(await page.textContent('#goodbye')).toContain(`the ${SIGNUP_CREDITS} credits left with them`);
  expect(await page.evaluate<string | null>("localStorage.getItem('masterpost.session')")).toBeNull();
  await expectAccessible('goodbye');
  await signIn(newEmail, newPassword);
  await page.waitForSelector('#signin-error');
  expect(await page.textContent('h1')).toBe('Sign in');
});

test('a seller moved from the old Masterpost signs in once with the access code, chooses a password, and the code stops working', async () => {
  const email = 'moved.seller@example.com';
  const code = 'MP-MOVE-0001';
  const password = 'my new masterpost password';
  const oldDb = path.join(workDir, 'masterpost.db');
  await writeOldDatabase(oldDb, { users: [{ email, access_code: code, credits: 40 }], transactions: [] });
  const imported = await runScript('scripts/import-legacy.ts', ['--sqlite', oldDb], { DATABASE_URL: stack.databaseUrl });
  expect({ code: imported.code, output: imported.output }).toEqual({ code: 0, output: expect.stringContaining('sellers imported: 1') });

  await page.evaluate('localStorage.clear()');
  await page.goto(`${stack.gatewayUrl}/signin`);
  await page.check('text=I have an access code from the old Masterpost');
  await page.waitForSelector('label:has-text("Access code from the old Masterpost")');
  await expectAccessible('sign in with an access code');
  await page.fill('#email', email);
  await page.fill('#password', code);
  await page.click('button[type="submit"]');

  // The code signs in once, to choose a password; nothing else is reachable before that.
  await page.waitForSelector('h1:has-text("Choose a password")');
  await expectAccessible('choose a password');
  await page.goto(`${stack.gatewayUrl}/history`);
  await page.waitForSelector('h1:has-text("Choose a password")');
  await page.fill('#new-password', password);
  await page.fill('#new-password-again', password);
  await page.click('button[type="submit"]');
  await page.waitForSelector('h1:has-text("New pictures")');
  expect(await balanceShown()).toBe(40);
  // Moved sellers' addresses count as proven (the old app mailed them their code): no banner.
  await page.click('nav >> text=Account');
  await page.waitForSelector(`#email-state:has-text("${email} is confirmed")`);
  expect(await page.locator('#verify-banner').count()).toBe(0);

  // The code no longer signs in; the password does.
  await page.click('#sign-out');
  await page.goto(`${stack.gatewayUrl}/signin`);
  await page.check('text=I have an access code from the old Masterpost');
  await page.fill('#email', email);
  await page.fill('#password', code);
  await page.click('button[type="submit"]');
  await page.waitForSelector('#signin-error');
  await signIn(email, password);
  await page.waitForSelector('h1:has-text("New pictures")');
  expect(await balanceShown()).toBe(40);
});
