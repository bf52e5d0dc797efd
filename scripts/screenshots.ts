import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { runScript, startTestStack } from '../e2e/harness';
import { zipOf } from '../e2e/fixtures';
import { writeOldDatabase } from '../e2e/legacy-fixture';
import { distinctPhotos } from '../e2e/seller';
import { DESKTOP, launchChromium, PHONE } from '../e2e/web-browser';
import { startMailCatcher, type CaughtMail } from '../tools/mail-catcher/src/catcher';
import { seedGallery } from './seed-gallery';
import { ROOT } from './stack';

/**
 * `npm run screenshots`: every screen of the web app at desktop and phone width, written to
 * docs/screenshots/<screen>-desktop.png and -phone.png (linked from the README). It starts its
 * own stack (a test database, the DashScope stand-in, a mail catcher for the links) and walks a
 * seller through a job, the account's mails, and leaving; then a seller moved from the old app.
 */
const OUT = path.join(ROOT, 'docs', 'screenshots');
// The mails' links name the production address; the page opens their path on this stack.
const PUBLIC_URL = 'http://masterpost.test';

async function shoot(page: Page, screen: string): Promise<void> {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport);
    // Pictures are fetched as blobs after the screen renders: wait until every one has arrived.
    await page.waitForFunction('[...document.images].every((img) => img.complete)');
    await page.screenshot({ path: path.join(OUT, `${screen}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
  console.log(`  ${screen}`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const mail = await startMailCatcher();
  const stack = await startTestStack({
    env: { SIGNUP_CREDITS: '30', STRIPE_SECRET_KEY: 'sk_test_screenshots', STRIPE_WEBHOOK_SECRET: 'whsec_screenshots', SMTP_URL: mail.smtpUrl, PUBLIC_URL },
  });
  const browser = await launchChromium();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mp-screenshots-'));
  const mailed = (to: string, kind: string) => mail.waitFor((caught) => caught.to.includes(to) && caught.kind === kind);
  try {
    await seedGallery(stack.databaseUrl, stack.env.STORAGE_DIR!);
    const page = await browser.newPage({ viewport: DESKTOP });
    const follow = async (caught: CaughtMail) => {
      const link = new URL(caught.link!);
      await page.goto(`${stack.gatewayUrl}${link.pathname}${link.search}`);
    };
    await page.goto(stack.gatewayUrl);
    await page.waitForSelector('#gallery li');
    await shoot(page, 'landing');
    await page.click('text=Create an account');
    await page.fill('#email', 'seller@example.com');
    await page.fill('#password', 'a long enough password');
    await shoot(page, 'sign-up');
    await page.click('button[type="submit"]');
    await page.waitForSelector('#verify-banner');
    await shoot(page, 'unverified');
    await follow(await mailed('seller@example.com', 'verifyEmail'));
    await page.waitForSelector('#balance[data-available="30"]');
    await shoot(page, 'verify-email');
    await page.click('text=Upload photos');
    await page.waitForSelector('h1:has-text("New pictures")');
    await shoot(page, 'upload');

    const photos = await distinctPhotos(5, 300);
    await page.setInputFiles('input[type="file"]', [
      ...photos.slice(0, 3).map((buffer, index) => ({ name: `product ${index + 1}.jpg`, mimeType: 'image/jpeg', buffer })),
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') },
      { name: 'more.zip', mimeType: 'application/zip', buffer: zipOf([{ name: 'a.jpg', data: photos[3]! }, { name: 'b.jpg', data: photos[4]! }]) },
    ]);
    await page.click('#upload');
    await page.waitForSelector('#estimate');
    await shoot(page, 'estimate');
    await page.click('#to-choose');
    await page.waitForSelector('canvas.sketch');
    await page.selectOption('#shadow', 'drop');
    await shoot(page, 'choose');
    await page.click('#process');
    await page.waitForSelector('#job-status[data-finished="true"]', { timeout: 120_000 });
    await shoot(page, 'job');
    await page.locator('#results .card[data-status="done"] >> text=Review').first().click();
    await page.waitForSelector('canvas.mask-view');
    await shoot(page, 'review');
    for (const [screen, link, ready] of [
      ['history', 'nav >> text=History', '#credit-history'],
      ['buy', 'nav >> text=Buy credits', '#packs'],
      ['gallery', 'nav >> text=Examples', '#gallery li'],
      ['developers', 'nav >> text=Developers', '#key-name'],
    ] as const) {
      await page.click(link);
      await page.waitForSelector(ready);
      await shoot(page, screen);
    }

    // The account with "pictures ready" mails on and a new address waiting for its link.
    await page.click('nav >> text=Account');
    await page.check('#notify-pictures-ready');
    await page.waitForSelector('#mails-outcome p');
    await page.fill('#new-email', 'shop@example.com');
    await page.fill('#email-password', 'a long enough password');
    await page.click('#change-email');
    await page.waitForSelector('#pending-email');
    await page.waitForSelector('#forfeit-credits');
    await shoot(page, 'account');
    await follow(await mailed('shop@example.com', 'confirmNewEmail'));
    await page.waitForSelector('#confirm-outcome[data-outcome="done"]');
    await shoot(page, 'confirm-email');

    await page.click('#sign-out');
    await page.goto(`${stack.gatewayUrl}/signin`);
    await page.waitForSelector('h1:has-text("Sign in")');
    await shoot(page, 'sign-in');
    await page.click('#forgot-link');
    await page.fill('#forgot-email', 'shop@example.com');
    await page.click('#forgot-send');
    await page.waitForSelector('#forgot-sent p');
    await shoot(page, 'forgot-password');
    await follow(await mailed('shop@example.com', 'passwordReset'));
    await page.waitForSelector('h1:has-text("Choose a new password")');
    await shoot(page, 'reset-password');
    await page.fill('#new-password', 'a newer long password');
    await page.fill('#new-password-again', 'a newer long password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('h1:has-text("New pictures")');
    await page.click('nav >> text=Account');
    await page.fill('#delete-password', 'a newer long password');
    await page.fill('#delete-confirm', 'delete my account');
    await page.click('#delete-account');
    await page.waitForSelector('#goodbye');
    await shoot(page, 'goodbye');

    // A seller moved from the old Masterpost: the access code once, then a password.
    const oldDb = path.join(workDir, 'masterpost.db');
    await writeOldDatabase(oldDb, { users: [{ email: 'moved@example.com', access_code: 'MP-MOVE-0001', credits: 40 }], transactions: [] });
    const imported = await runScript('scripts/import-legacy.ts', ['--sqlite', oldDb], { DATABASE_URL: stack.databaseUrl });
    if (imported.code !== 0) throw new Error(`the legacy import failed:\n${imported.output}`);
    await page.goto(`${stack.gatewayUrl}/signin`);
    await page.check('text=I have an access code from the old Masterpost');
    await page.fill('#email', 'moved@example.com');
    await page.fill('#password', 'MP-MOVE-0001');
    await shoot(page, 'sign-in-access-code');
    await page.click('button[type="submit"]');
    await page.waitForSelector('h1:has-text("Choose a password")');
    await shoot(page, 'choose-password');
  } finally {
    await browser.close();
    await stack.teardown();
    await mail.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
