import { readFileSync } from 'node:fs';
import AdmZip from 'adm-zip';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import Stripe from 'stripe';
import { seedGallery } from '../scripts/seed-gallery';
import { getBinary, inspectPicture, zipOf } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos } from './seller';
import { checkoutCompletedEvent, DESKTOP, launchChromium, PHONE, seriousViolations, startStripeStandIn, type StripeStandIn } from './web-browser';

/**
 * The seller's web app (packages/web, served by the gateway) in Debian's Chromium: a seller's
 * whole day, from signing up to signing out, with axe-core's check on every screen on the way.
 */
jest.setTimeout(240_000);

const WEBHOOK_SECRET = 'whsec_web_day_test_secret';
let stack: TestStack;
let stripe: StripeStandIn;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stripe = await startStripeStandIn(() => stack.gatewayUrl);
  stack = await startTestStack({
    env: { SIGNUP_CREDITS: '30', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', STRIPE_SECRET_KEY: 'sk_test_web_day', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: stripe.url },
  });
  await seedGallery(stack.databaseUrl, stack.env.STORAGE_DIR!);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: DESKTOP, acceptDownloads: true });
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await browser?.close();
  await stripe?.close();
});

/** The screen is usable with a keyboard and a screen reader: no serious axe finding. */
async function expectAccessible(screen: string): Promise<void> {
  expect({ screen, violations: await seriousViolations(page) }).toEqual({ screen, violations: [] });
}

async function balanceShown(): Promise<number> {
  await page.waitForSelector('#balance[data-available]:not([data-available=""])');
  return Number(await page.getAttribute('#balance', 'data-available'));
}

test("a seller's day: sign up, upload, estimate, process with a drop shadow, watch, review, edit a mask, download, buy, history, sign out", async () => {
  const api = request(stack.gatewayUrl);
  const catalog = (await api.get('/api/v1/catalog').expect(200)).body as { credits_per_picture: number };
  const packs = (await api.get('/payments/packs').expect(200)).body as Array<{ id: string; name: string; credits: number }>;
  const price = catalog.credits_per_picture;

  // A visitor sees the examples before signing up.
  await page.goto(stack.gatewayUrl);
  await page.waitForSelector('#gallery li');
  await expectAccessible('landing');
  await page.click('text=Create an account');
  await page.waitForSelector('h1:has-text("Create an account")');
  await expectAccessible('sign up');
  const email = 'web-day@example.com';
  const password = 'a long enough password';
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type="submit"]');

  // Upload: four photos, a file that is not one, and a ZIP of two more.
  await page.waitForSelector('h1:has-text("New pictures")');
  expect(await balanceShown()).toBe(30);
  await expectAccessible('upload');
  const photos = await distinctPhotos(6, 900);
  await page.setInputFiles('input[type="file"]', [
    ...photos.slice(0, 4).map((buffer, index) => ({ name: `product ${index + 1}.jpg`, mimeType: 'image/jpeg', buffer })),
    { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a photo at all') },
    { name: 'more.zip', mimeType: 'application/zip', buffer: zipOf([{ name: 'zip-a.jpg', data: photos[4]! }, { name: 'zip-b.jpg', data: photos[5]! }]) },
  ]);
  expect(await page.locator('#chosen-files li').count()).toBe(6);
  await page.click('#upload');
  await page.waitForSelector('#estimate');
  expect(await page.textContent('#estimate h2')).toBe('6 pictures ready');
  expect(await page.textContent('#rejected')).toContain('broken.jpg');
  expect(await page.textContent('#credits-needed')).toBe(String(6 * price));
  // Nothing is charged by an upload.
  expect(await balanceShown()).toBe(30);
  await expectAccessible('estimate');

  // Choose: the marketplaces come from the API; a drop shadow; a preview before spending.
  await page.click('#to-choose');
  await page.waitForSelector('h1:has-text("Choose the marketplace")');
  const offered = await page.evaluate<string[]>(`[...document.querySelectorAll('input[name="pipeline"]')].map((input) => input.value)`);
  expect(offered).toEqual((await api.get('/api/v1/catalog')).body.pipelines.map((pipeline: { id: string }) => pipeline.id));
  await page.check('input[name="pipeline"][value="instagram"]');
  await page.selectOption('#shadow', 'drop');
  await page.waitForSelector('canvas.sketch');
  await expectAccessible('choose');
  await page.click('#process');

  // Watch: the live status ends with every picture delivered, each with its checks.
  await page.waitForSelector('#job-status[data-finished="true"]', { timeout: 120_000 });
  expect(await page.textContent('#job-status')).toBe(`Finished: 6 of 6 done. ${6 * price} credits charged.`);
  const cards = page.locator('#results .card[data-status="done"]');
  expect(await cards.count()).toBe(6);
  expect(await cards.locator('.shadow').allTextContents()).toEqual(Array(6).fill('shadow: drop'));
  expect(await cards.first().locator('.badge[data-rule="size"]').getAttribute('title')).toMatch(/1080x1080/);
  expect(await balanceShown()).toBe(30 - 6 * price);
  await page.waitForFunction("[...document.querySelectorAll('#results img')].every((img) => img.complete)");
  await expectAccessible('job');
  // At phone width nothing spills sideways.
  await page.setViewportSize(PHONE);
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
  await page.setViewportSize(DESKTOP);
  const jobId = /\/jobs\/([0-9a-f-]{36})/.exec(page.url())![1]!;

  // Review: before/after, moved from the keyboard.
  const imageId = (await cards.first().getAttribute('data-image-id'))!;
  await cards.first().locator('text=Review').click();
  await page.waitForSelector('.before-after img[alt$="before"]');
  const slider = page.locator('.before-after input[type="range"]');
  await slider.focus();
  await page.keyboard.press('Home');
  expect(await slider.getAttribute('aria-valuetext')).toBe('0% before');
  await expectAccessible('review');

  // The editor's mask brush: erase the right half of the photo, row by row. No credits, no AI call.
  const seller = (await api.post('/auth/login').send({ email, password }).expect(200)).body.access_token as string;
  const before = await inspectPicture((await getBinary(api, `/api/v1/images/${imageId}/result`, seller).expect(200)).body as Buffer);
  const paidCalls = stack.sim.stats.requests;
  const view = page.locator('canvas.mask-view');
  await view.waitFor();
  await view.scrollIntoViewIfNeeded();
  const rows = Math.ceil(((await view.boundingBox())!.height - 5) / 30);
  for (let row = 0; row < rows; row++) {
    const box = (await view.boundingBox())!;
    const y = box.y + 5 + row * 30;
    await page.mouse.move(box.x + box.width * 0.52, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 2, y, { steps: 4 });
    await page.mouse.up();
  }
  await page.click('#apply-mask');
  await page.waitForSelector('#edit-status[data-busy="false"]:not(:empty)', { timeout: 60_000 });
  expect(await page.textContent('#edit-status')).toBe('Mask applied: done, no credits used');
  const editedBytes = (await getBinary(api, `/api/v1/images/${imageId}/result`, seller).expect(200)).body as Buffer;
  expect((await inspectPicture(editedBytes)).box!.width).toBeLessThan(before.box!.width * 0.8);
  expect(stack.sim.stats.requests).toBe(paidCalls);
  expect(await balanceShown()).toBe(30 - 6 * price);

  // The ZIP: one entry per delivered picture, the edited one as edited, and the manifest.
  await page.click('text=← All pictures of this job');
  await page.waitForSelector('#download-zip');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
  const zip = new AdmZip(readFileSync((await download.path())!));
  const progress = (await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${seller}`).expect(200)).body as {
    images: Array<{ image_id: string; output_name: string }>;
  };
  expect(zip.getEntries().map((entry) => entry.entryName).sort()).toEqual([...progress.images.map((image) => image.output_name), 'manifest.json'].sort());
  const editedName = progress.images.find((image) => image.image_id === imageId)!.output_name;
  expect(zip.getEntry(editedName)!.getData().equals(editedBytes)).toBe(true);

  // Short of credits: the hint leads to the packs; Stripe's page sends the seller back, and the
  // return page waits for Stripe's signed event (delivered here) before showing the new balance.
  await page.click('#low-balance');
  await page.waitForSelector('#packs');
  await expectAccessible('buy');
  const pack = packs[0]!;
  await page.click(`[data-pack="${pack.id}"] button`);
  await page.waitForSelector('#checkout-status');
  expect(await page.textContent('#checkout-status')).toContain('Waiting for your credits');
  await expectAccessible('checkout return');
  const session = stripe.sessions[0]!;
  expect(session.metadata.pack_id).toBe(pack.id);
  const body = checkoutCompletedEvent(session);
  const signature = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
  await api.post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', signature).send(body).expect(200);
  await page.waitForSelector('#new-balance', { timeout: 30_000 });
  const afterPurchase = 30 - 6 * price + pack.credits;
  expect(await page.textContent('#new-balance')).toBe(`${afterPurchase} credits`);
  expect(await balanceShown()).toBe(afterPurchase);

  // History: the job with its counts and credits, and the grant and the charges.
  await page.click('nav >> text=History');
  await page.waitForSelector(`#jobs tr[data-job-id="${jobId}"]`);
  const jobRow = await page.textContent(`#jobs tr[data-job-id="${jobId}"]`);
  expect(jobRow).toContain('instagram');
  expect(jobRow).toContain('6 of 6 done');
  expect(await page.textContent(`#jobs tr[data-job-id="${jobId}"] td:nth-child(5)`)).toBe(String(6 * price));
  await page.waitForSelector('#credit-history');
  expect(await page.textContent('#credit-history tr[data-kind="purchase"] td:nth-child(3)')).toBe(`+${pack.credits}`);
  expect(await page.locator('#credit-history tr[data-kind="capture"]').count()).toBeGreaterThan(0);
  await expectAccessible('history');

  // The other screens a seller may open pass the same check.
  for (const [screen, link, ready] of [
    ['examples', 'nav >> text=Examples', '#gallery li'],
    ['developers', 'nav >> text=Developers', '#key-name'],
    ['account', 'nav >> text=Account', 'h2:has-text("Change the password")'],
  ] as const) {
    await page.click(link);
    await page.waitForSelector(ready);
    await expectAccessible(screen);
  }

  // Sign out: the session is gone, a seller's screen asks to sign in again.
  await page.click('#sign-out');
  await page.waitForSelector('text=Create an account');
  expect(await page.evaluate<string | null>("localStorage.getItem('masterpost.session')")).toBeNull();
  await page.goto(`${stack.gatewayUrl}/history`);
  await page.waitForSelector('h1:has-text("Sign in")');
  await expectAccessible('sign in');
});

test('the gateway serves the app on its own paths, never in place of the API', async () => {
  const api = request(stack.gatewayUrl);
  const app = await api.get('/history').set('accept', 'text/html').expect(200);
  expect(app.text).toContain('<div id="root">');
  await api.get('/api/v1/no-such-thing').set('accept', 'text/html').expect(404).expect('content-type', /json/);
  await api.get('/credits/balance').set('accept', 'text/html').expect(401);
  expect((await api.get('/health').set('accept', 'text/html').expect(200)).body).toMatchObject({ status: 'ok' });
});

test('API keys and webhooks from the Developers screen: a key shown once, used, revoked; a webhook added and its secret rotated; one inside a network refused', async () => {
  const api = request(stack.gatewayUrl);
  await api.post('/auth/register').send({ email: 'web-dev@example.com', password: 'another long password' }).expect(201);
  await page.evaluate('localStorage.clear()');
  await page.goto(`${stack.gatewayUrl}/signin`);
  await page.fill('#email', 'web-dev@example.com');
  await page.fill('#password', 'another long password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('#balance');
  await page.click('nav >> text=Developers');

  await page.fill('#key-name', 'shop sync');
  await page.click('#key-create');
  await page.waitForSelector('#key-made:has-text("mp_")');
  const key = /mp_[A-Za-z0-9_-]+/.exec((await page.textContent('#key-made'))!)![0];
  await api.get('/credits/balance').set('x-api-key', key).expect(200);
  await page.waitForSelector(`#keys:has-text("${key.slice(0, 10)}")`);
  await page.click('#keys button:has-text("Revoke")');
  await page.waitForSelector('#keys td:has-text("revoked")');
  await api.get('/credits/balance').set('x-api-key', key).expect(401);

  const url = 'http://127.0.0.1:9/hooks';
  await page.fill('#hook-url', url);
  await page.click('#hook-add');
  await page.waitForSelector('#hook-made:has-text("whsec_")');
  await page.waitForSelector(`#hooks:has-text("${url}")`);
  const firstSecret = /whsec_\S+/.exec((await page.textContent('#hook-made'))!)![0];
  await page.click('#hooks button:has-text("New secret")');
  await page.waitForSelector('#hook-made:has-text("also signs until")');
  expect(await page.textContent('#hook-made')).not.toContain(firstSecret);
  await page.fill('#hook-url', 'http://10.0.0.1/hooks');
  await page.click('#hook-add');
  await page.waitForSelector('#hook-made.error');
  expect(await page.textContent('#hook-made')).toContain('10.0.0.1');
  await expectAccessible('developers with a key and a webhook');
});

test('a picture whose product the AI redrew is flagged: a major-drift badge with its numbers, the filter, and the seller\'s own pixels said', async () => {
  const api = request(stack.gatewayUrl);
  await api.post('/auth/register').send({ email: 'web-drift@example.com', password: 'another long password' }).expect(201);
  await page.goto(`${stack.gatewayUrl}/signin`);
  await page.evaluate('localStorage.clear()');
  await page.reload();
  await page.fill('#email', 'web-drift@example.com');
  await page.fill('#password', 'another long password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('h1:has-text("New pictures")');

  // The stand-in recolours the first output's product; the second comes back faithful.
  stack.sim.configure({ driftNext: ['drift_hue'] });
  try {
    const photos = await distinctPhotos(2, 950);
    await page.setInputFiles('input[type="file"]', photos.map((buffer, index) => ({ name: `drift ${index + 1}.jpg`, mimeType: 'image/jpeg', buffer })));
    await page.click('#upload');
    await page.waitForSelector('#estimate');
    await page.click('#to-choose');
    await page.check('input[name="pipeline"][value="etsy"]');
    await page.click('#process');
    await page.waitForSelector('#job-status[data-finished="true"]', { timeout: 120_000 });
  } finally {
    stack.sim.configure({ driftNext: [] });
  }
  const verdicts = await page.locator('#results .badge[data-drift]').evaluateAll((badges) => badges.map((badge) => badge.getAttribute('data-drift')));
  expect(verdicts.sort()).toEqual(['major', 'none']);
  const major = page.locator('#results .badge[data-drift="major"]');
  expect(await major.getAttribute('title')).toMatch(/colour ΔE mean \d+\.\d .*product pixels: your photo/);
  await expectAccessible('job with drift');

  await page.check('#major-drift-only');
  expect(await page.locator('#results .card').count()).toBe(1);
  expect(await page.locator('#results .card .badge[data-drift]').getAttribute('data-drift')).toBe('major');
  await page.uncheck('#major-drift-only');
  expect(await page.locator('#results .card').count()).toBe(2);
});
