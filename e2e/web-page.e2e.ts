import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { getBinary, inspectPicture, productPhoto } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';

/**
 * The web page, in a real browser (Debian's Chromium, driven by playwright-core): a seller signs
 * up, uploads a photo, picks a marketplace and a shadow, sees the picture with its marketplace
 * checks, changes its shadow in the editor, and erases half of it with the mask brush.
 */
jest.setTimeout(180_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let stack: TestStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser test needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); .ci/run installs it`);
  }
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '10', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  // The flags keep a headless Chromium from reaching for Google's services on a closed network.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 900, height: 1400 } });
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await browser?.close();
});

/** The editor's status once its request has ended ("…" while it runs). */
async function editOutcome(): Promise<string | null> {
  await page.waitForFunction("!/…$/.test(document.getElementById('edit-status').textContent)", undefined, { timeout: 30_000 });
  return page.textContent('#edit-status');
}

async function signIn(email: string, password: string): Promise<string> {
  const answer = await request(stack.gatewayUrl).post('/auth/login').send({ email, password }).expect(200);
  return answer.body.access_token as string;
}

test('upload, shadow choice, the checks, a settings edit and a mask stroke, all from the page', async () => {
  const email = 'page@example.com';
  const password = 'a long enough password';
  await page.goto(stack.gatewayUrl);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[data-action="register"]');
  await page.waitForSelector('#work:not([hidden])');
  expect(await page.textContent('#who')).toContain('10 credits available');

  const photo = await productPhoto({ width: 900, height: 900, colour: '#2e86c1', shape: 'box' });
  await page.setInputFiles('#files', { name: 'teapot box.jpg', mimeType: 'image/jpeg', buffer: photo });
  await page.selectOption('#pipeline', 'instagram');
  await page.selectOption('#shadow', 'reflection');
  await page.click('#go');

  const card = page.locator('#results .card[data-status="done"]');
  await card.waitFor({ timeout: 90_000 });
  expect(await card.locator('.shadow').textContent()).toBe('shadow: reflection');
  expect(await card.locator('.pass').textContent()).toContain("passes instagram's checks");
  await page.locator('#download:not([hidden])').waitFor();
  const imageId = (await card.getAttribute('data-image-id'))!;

  // What the page shows is what the API serves.
  const token = await signIn(email, password);
  const api = request(stack.gatewayUrl);
  const before = await inspectPicture((await getBinary(api, `/api/v1/images/${imageId}/result`, token).expect(200)).body as Buffer);
  const paidCalls = stack.sim.stats.requests;

  // The editor: another shadow.
  await card.locator('button.edit').click();
  await page.waitForSelector('#editor:not([hidden])');
  await page.selectOption('#edit-shadow', 'drop');
  await page.click('#apply');
  expect(await editOutcome()).toBe('settings applied: done, no credits used');
  expect(await page.locator('#results .card .shadow').textContent()).toBe('shadow: drop');

  // The mask brush: erase the right half of the picture, row by row.
  await page.check('#mode-erase');
  await page.fill('#brush', '40');
  // The mouse reaches only what is in the viewport: the whole canvas is brought into it (its lower
  // part was below the fold whenever the page had scrolled less), after the cards above have
  // reloaded their pictures (which moves it), and each stroke reads the canvas's place again.
  await page.waitForFunction('[...document.images].every((img) => img.complete)');
  await page.locator('#view').scrollIntoViewIfNeeded();
  const rows = Math.ceil(((await page.locator('#view').boundingBox())!.height - 5) / 30);
  for (let row = 0; row < rows; row++) {
    const view = (await page.locator('#view').boundingBox())!;
    const y = view.y + 5 + row * 30;
    await page.mouse.move(view.x + view.width * 0.52, y);
    await page.mouse.down();
    await page.mouse.move(view.x + view.width - 2, y, { steps: 4 });
    await page.mouse.up();
  }
  await page.click('#apply-mask');
  expect(await editOutcome()).toBe('mask applied: done, no credits used');

  // For a person to look at: WEB_PAGE_SCREENSHOT=/tmp/page.png npx jest e2e/web-page
  if (process.env.WEB_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.WEB_PAGE_SCREENSHOT, fullPage: true });
  const after = await inspectPicture((await getBinary(api, `/api/v1/images/${imageId}/result`, token).expect(200)).body as Buffer);
  expect(after.box!.width).toBeLessThan(before.box!.width * 0.8);
  expect(stack.sim.stats.requests).toBe(paidCalls);
  const balance = await api.get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200);
  expect(balance.body.available).toBe(7);
});

test('API keys and webhooks from the page: a key shown once, used, revoked; a webhook added, one inside a network refused', async () => {
  // Signed in by the test above, as a seller coming back to the page would be.
  await page.waitForSelector('#integrations:not([hidden])');
  await page.fill('#key-name', 'shop sync');
  await page.click('#key-create');
  await page.waitForFunction("document.getElementById('key-made').textContent.includes('mp_')");
  const key = /mp_[A-Za-z0-9_-]+/.exec((await page.textContent('#key-made'))!)![0];
  const api = request(stack.gatewayUrl);
  await api.get('/credits/balance').set('x-api-key', key).expect(200);
  await page.waitForFunction(`document.getElementById('keys').textContent.includes('${key.slice(0, 10)}')`);
  await page.click('#keys button:has-text("Revoke")');
  await page.waitForFunction("document.getElementById('keys').textContent.includes('revoked')");
  await api.get('/credits/balance').set('x-api-key', key).expect(401);

  const receiver = http.createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    await page.fill('#hook-url', url);
    await page.click('#hook-add');
    await page.waitForFunction("document.getElementById('hook-made').textContent.includes('whsec_')");
    await page.waitForFunction(`document.getElementById('hooks').textContent.includes('${url}')`);
    const firstSecret = /whsec_\S+/.exec((await page.textContent('#hook-made'))!)![0];
    await page.click('#hooks button:has-text("New secret")');
    await page.waitForFunction("document.getElementById('hook-made').textContent.includes('also signs until')");
    expect(await page.textContent('#hook-made')).not.toContain(firstSecret);
    await page.fill('#hook-url', 'http://10.0.0.1/hooks');
    await page.click('#hook-add');
    await page.waitForFunction("document.getElementById('hook-made').className === 'error'");
    expect(await page.textContent('#hook-made')).toContain('10.0.0.1');
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
});
