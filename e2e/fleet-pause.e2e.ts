import type { RunningService } from '../scripts/stack';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, eventually, metricValue, Seller } from './seller';

/**
 * When DashScope refuses the account (a revoked key) or today's AI budget is spent, the fleet
 * stops calling: nothing fails, nothing is charged, /ready says why, and once the setting is
 * fixed (a processor started with the new key or cap) the waiting pictures are made.
 */
jest.setTimeout(180_000);

const PRICE = 30_000; // qwen-image-edit-plus, micro-USD
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    processors: 0,
    sim: { apiKey: 'sk-current-key', latencyMs: 100 },
    env: { SIGNUP_CREDITS: '60', QWEN_PAUSE_RECHECK_MS: '500' },
  });
});
cleanUpAfter(() => stack);
async function readiness(service: { url: string }): Promise<{ status: string; checks: Record<string, string> }> {
  return (await fetch(`${service.url}/ready`)).json() as Promise<{ status: string; checks: Record<string, string> }>;
}

async function stop(service: RunningService): Promise<void> {
  await new Promise<void>((resolve) => {
    service.child.once('exit', () => resolve());
    service.child.kill('SIGTERM');
  });
}

async function waitForPause(processor: RunningService, code: string): Promise<string> {
  return eventually(`a ${code} pause`, async () => {
    const ready = await readiness(processor);
    return ready.checks.ai_provider?.includes(code) ? ready.checks.ai_provider : undefined;
  });
}

test('a revoked API key pauses the fleet without failing or charging anything; a new key finishes the jobs', async () => {
  const revoked = await stack.startProcessor('processor-revoked', { DASHSCOPE_API_KEY: 'sk-revoked-key' });
  const seller = await Seller.register(stack.gatewayUrl, 'paused@example.com');
  const jobId = await seller.upload(await distinctPhotos(3, 400));
  await seller.process(jobId);

  const reason = await waitForPause(revoked, 'InvalidApiKey');
  expect(reason).toMatch(/^paused: InvalidApiKey/);
  expect((await readiness({ url: stack.gatewayUrl })).checks.ai_provider).toMatch(/paused: InvalidApiKey/);
  // Several recheck rounds later: still nothing failed, nothing charged, and no more calls made.
  const callsWhenPaused = stack.sim.stats.requests;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const waiting = await seller.progress(jobId);
  expect(waiting).toMatchObject({ finished: false, completed: 0, failed: 0, credits_charged: 0, credits_reserved: 9 });
  expect(stack.sim.stats.requests).toBe(callsWhenPaused);
  expect(stack.sim.stats.succeeded).toBe(0);
  expect(metricValue(await (await fetch(`${revoked.url}/metrics`)).text(), 'qwen_fleet_paused')).toBe(1);

  await stop(revoked);
  const fixed = await stack.startProcessor('processor-fixed', { DASHSCOPE_API_KEY: 'sk-current-key' });
  const done = await seller.waitUntilFinished(jobId, 60_000);
  expect(done).toMatchObject({ status: 'completed', completed: 3, failed: 0, credits_charged: 9 });
  expect(await seller.balance()).toEqual({ balance: 51, reserved: 0, available: 51 });
  expect((await readiness(fixed)).status).toBe('ready');
  await stop(fixed);
});

test('the daily spend cap pauses the fleet once reached; raising it finishes the waiting pictures', async () => {
  // Room for exactly two more calls today, whatever earlier tests spent.
  const cap = (stack.sim.stats.succeeded + 2) * PRICE;
  const capped = await stack.startProcessor('processor-capped', { DASHSCOPE_API_KEY: 'sk-current-key', QWEN_DAILY_SPEND_CAP_MICRO_USD: String(cap) });
  const seller = await Seller.register(stack.gatewayUrl, 'budget@example.com');
  const jobId = await seller.upload(await distinctPhotos(3, 500));
  const paidBefore = stack.sim.stats.succeeded;
  await seller.process(jobId);

  expect(await waitForPause(capped, 'daily AI spend cap')).toMatch(/\$0\.\d\d/);
  await eventually('two pictures', async () => ((await seller.progress(jobId)).completed === 2 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(await seller.progress(jobId)).toMatchObject({ finished: false, completed: 2, failed: 0, credits_charged: 6, credits_reserved: 3 });
  expect(stack.sim.stats.succeeded - paidBefore).toBe(2);
  // The spend an operator sees is what the provider billed: every paid call of the day.
  const page = await (await fetch(`${capped.url}/metrics`)).text();
  expect(metricValue(page, 'qwen_spend_today_micro_usd')).toBe(stack.sim.stats.succeeded * PRICE);
  expect(metricValue(page, 'qwen_fleet_paused')).toBe(1);

  await stop(capped);
  const raised = await stack.startProcessor('processor-raised', { DASHSCOPE_API_KEY: 'sk-current-key', QWEN_DAILY_SPEND_CAP_MICRO_USD: String(cap + 10 * PRICE) });
  expect(await seller.waitUntilFinished(jobId, 60_000)).toMatchObject({ status: 'completed', completed: 3, credits_charged: 9 });
  expect(stack.sim.stats.succeeded - paidBefore).toBe(3);
  expect((await readiness(raised)).status).toBe('ready');
  await stop(raised);
});

test('an unpaid bill answered as 429 pauses and alerts instead of being retried as a rate limit; once paid, the same processor finishes', async () => {
  stack.sim.configure({ fault: 'prepaid_bill_overdue' });
  const processor = await stack.startProcessor('processor-overdue', { DASHSCOPE_API_KEY: 'sk-current-key', QWEN_ACCOUNT_PAUSE_MS: '3000' });
  const seller = await Seller.register(stack.gatewayUrl, 'overdue@example.com');
  const jobId = await seller.upload(await distinctPhotos(2, 600));
  const requestsBefore = stack.sim.stats.requests;
  await seller.process(jobId);

  expect(await waitForPause(processor, 'PrepaidBillOverdue')).toMatch(/The prepaid bill is overdue/);
  expect(stack.logs()).toMatch(/ALERT: DashScope refuses our account or configuration/);
  // A rate limit would be retried after a 2 s cool-down, up to 200 times; an unpaid bill is not.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(stack.sim.stats.requests - requestsBefore).toBe(1);
  expect(await seller.progress(jobId)).toMatchObject({ finished: false, failed: 0, credits_charged: 0, credits_reserved: 6 });

  stack.sim.configure({ fault: 'none' });
  expect(await seller.waitUntilFinished(jobId, 60_000)).toMatchObject({ status: 'completed', completed: 2, failed: 0, credits_charged: 6 });
  await stop(processor);
});

test('a result host outside QWEN_RESULT_HOSTS pauses the fleet naming the host and the setting; once allowed, the paid results are fetched, not bought again', async () => {
  const foreignHost = 'dashscope-result-sim.oss-test-1.example.net';
  stack.sim.configure({ resultOrigin: `http://${foreignHost}` });
  // The connection would reach the stand-in: only the allow-list stands in the way.
  const resolve = `${stack.sim.resolveRule},${foreignHost}:127.0.0.1:${stack.sim.resultAddress.port}`;
  const strict = await stack.startProcessor('processor-strict-hosts', { DASHSCOPE_API_KEY: 'sk-current-key', QWEN_RESULT_RESOLVE: resolve });
  const seller = await Seller.register(stack.gatewayUrl, 'foreign-host@example.com');
  const jobId = await seller.upload(await distinctPhotos(2, 700));
  const paidBefore = stack.sim.stats.succeeded;
  await seller.process(jobId);

  const reason = await waitForPause(strict, 'ResultHostNotAllowed');
  expect(reason).toContain(`the result host ${foreignHost} is not in QWEN_RESULT_HOSTS`);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(await seller.progress(jobId)).toMatchObject({ finished: false, failed: 0, credits_charged: 0 });
  // The calls open when the first refusal paused the fleet (at most the in-flight limit, 2).
  const paidWhilePaused = stack.sim.stats.succeeded - paidBefore;
  expect([1, 2]).toContain(paidWhilePaused);

  await stop(strict);
  const allowed = await stack.startProcessor('processor-allowed-hosts', {
    DASHSCOPE_API_KEY: 'sk-current-key', QWEN_RESULT_RESOLVE: resolve, QWEN_RESULT_HOSTS: `dashscope-*.oss-*.aliyuncs.com,${foreignHost}`,
  });
  expect(await seller.waitUntilFinished(jobId, 60_000)).toMatchObject({ status: 'completed', completed: 2, failed: 0, credits_charged: 6 });
  // Each picture was paid for once: the results paid before the pause were fetched from their recorded URLs.
  expect(stack.sim.stats.succeeded - paidBefore).toBe(2);
  expect(stack.sim.stats.resultDownloads).toBeGreaterThanOrEqual(paidWhilePaused);
  stack.sim.configure({ resultOrigin: `http://dashscope-result-sim.oss-test-1.aliyuncs.com` });
  await stop(allowed);
});
