import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { everyAlert, moneyProblems, pictureBills, PrivatePostgres, promtoolTestRules, readinessUntil, SeriesRecorder, service, sleep } from './drill-kit';
import { distinctPhotos, eventually, Seller } from './seller';

/**
 * Reliability 43, PostgreSQL restarted: the database goes down hard (immediate shutdown, every
 * connection cut) while a batch is being made and comes back 5 s later. Every service's /ready
 * names PostgreSQL while it is away; every picture then ends, each delivered one charged exactly
 * once, nothing stays reserved, and the alert rules are run on what was scraped. The server is the
 * drill's own: the machine's PostgreSQL serves every other test file and is never restarted.
 * The services run with their default retry settings, as in production.
 */
jest.setTimeout(150_000);

const DOWN_MS = 5000;
let postgres: PrivatePostgres;
let stack: TestStack;

beforeAll(async () => {
  postgres = await PrivatePostgres.start();
  stack = await startTestStack({
    databaseBase: postgres.base,
    sim: { latencyMs: 1500 },
    env: { SIGNUP_CREDITS: '30', WORKER_CONCURRENCY: '2', QWEN_MAX_IN_FLIGHT: '2' },
  });
});
cleanUpAfter(() => stack);
afterAll(() => postgres?.remove());

test('PostgreSQL restarted mid-batch: /ready names it everywhere, every picture ends, each delivered one charged once', async () => {
  const recorder = SeriesRecorder.forStack(stack);
  recorder.start();
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'pg-restart@example.com');
    const jobId = await seller.upload(await distinctPhotos(8, 5100));
    await seller.process(jobId);
    await eventually('the first picture delivered', async () => ((await seller.progress(jobId)).completed >= 1 ? true : undefined), 60_000);

    postgres.down();
    const downAt = recorder.step;
    try {
      const downNamed = (answer: { status: number; checks: Record<string, string> }) => answer.status === 503 && /^down/.test(answer.checks.postgres ?? '');
      const readies = await Promise.all(['gateway', 'billing', 'processor'].map((name) => readinessUntil(service(stack, name).url, downNamed, DOWN_MS)));
      // PostgreSQL alone is named: Redis, storage and the rest answer as before.
      for (const ready of readies) expect(Object.entries(ready.checks).filter(([name, state]) => name !== 'postgres' && state !== 'ok' && name !== 'ai_rate')).toEqual([]);
      await sleep(Math.max(0, DOWN_MS - (recorder.step - downAt) * 1000));
    } finally {
      postgres.up();
    }
    const upAt = recorder.step;

    const done = await seller.waitUntilFinished(jobId, 90_000);
    expect(done.images).toHaveLength(8);
    expect(done.finished).toBe(true);
    const bills = await pictureBills(stack.databaseUrl, jobId);
    expect(moneyProblems(bills, done)).toEqual([]);
    expect(done.completed + done.failed).toBe(8);
    // Some pictures were made after the restart (the fault met work under way).
    expect(done.completed).toBeGreaterThanOrEqual(2);
    await eventually('every reservation resolved', async () => ((await seller.balance()).reserved === 0 ? true : undefined), 30_000);
    expect(await seller.balance()).toEqual({ balance: 30 - done.credits_charged, reserved: 0, available: 30 - done.credits_charged });
    // Paid AI calls (our cost, never the seller's): at most one more for a picture than it would
    // have cost. A call that succeeds while PostgreSQL is away cannot record its result URL
    // (qwen-output.service.ts records it before the download), so the retry pays again: a known
    // gap, docs/operations.md "Drills". Once fixed, this becomes `=== 1`.
    const paid = Object.values(stack.sim.stats.billedByImage);
    expect(paid.every((calls) => calls >= 1 && calls <= 2)).toBe(true);
    for (const name of ['gateway', 'billing', 'processor']) {
      expect((await readinessUntil(service(stack, name).url, (answer) => answer.status === 200)).checks.postgres).toBe('ok');
    }

    await sleep(3000);
    await recorder.stop();
    // Every /metrics kept answering (billing's and the processor's keep their last database
    // figures rather than failing the scrape), so no rule's condition is met by a 5 s restart and
    // none should page: promtool confirms that none fires, during the outage or after.
    for (const running of stack.services.filter((candidate) => !candidate.name.startsWith('dashscope'))) {
      const job = `masterpost-${running.name.replace(/-.*$/, '')}`;
      expect({ instance: running.name, down: recorder.stepsWhere(`up{job="${job}", instance="${running.name}"}`, 0) }).toEqual({ instance: running.name, down: [] });
    }
    const during = Math.min(downAt + 2, upAt);
    const end = recorder.step - 1;
    const quiet = (at: number) => everyAlert().map((alertname) => ({ eval_time: `${at}s`, alertname, exp_alerts: [] }));
    const result = promtoolTestRules(recorder, 'PostgreSQL restarted', { alert_rule_test: [...quiet(during), ...quiet(end)] });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  } finally {
    await recorder.stop();
  }
});
