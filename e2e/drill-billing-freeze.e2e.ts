import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { dependencyAlertTime, everyAlert, firingAlerts, moneyProblems, pictureBills, promtoolTestRules, readiness, readinessUntil, ruleExpr, scrapeTarget, SeriesRecorder, service, sleep } from './drill-kit';
import { distinctPhotos, eventually, Seller } from './seller';

/**
 * Reliability 43, billing frozen: billing stops (SIGSTOP) for 20 s while a batch is being made,
 * then goes on (SIGCONT). Settlements sent meanwhile sit unanswered in its socket backlog and are
 * applied when it wakes, after their callers gave up; the retries must find them done. Every
 * picture ends, each delivered one is charged exactly once, nothing stays reserved, the gateway's
 * /ready names billing while it is frozen, and the alert rules are run on what was scraped: the
 * gateway's dependency warning fires while billing is frozen, and nothing pages.
 */
jest.setTimeout(150_000);

const FREEZE_MS = 20_000;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    // Two pictures at a time, each call 2 s: the batch is still being made when billing freezes.
    sim: { latencyMs: 2000 },
    env: { SIGNUP_CREDITS: '30', WORKER_CONCURRENCY: '2', QWEN_MAX_IN_FLIGHT: '2' },
  });
});
cleanUpAfter(() => stack);

test('billing frozen 20 s mid-batch: /ready names billing, every picture ends, each delivered one charged once', async () => {
  const recorder = SeriesRecorder.forStack(stack);
  recorder.start();
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'freeze@example.com');
    const jobId = await seller.upload(await distinctPhotos(8, 4300));
    await seller.process(jobId);
    await eventually('the first picture delivered', async () => ((await seller.progress(jobId)).completed >= 1 ? true : undefined), 60_000);

    const billing = service(stack, 'billing');
    billing.child.kill('SIGSTOP');
    const frozenAt = recorder.step;
    try {
      // Answered within the kubelet's bound, billing named, the rest still fine.
      const ready = await readinessUntil(stack.gatewayUrl, (answer) => answer.checks.billing !== 'ok');
      expect(ready.status).toBe(503);
      expect(ready.checks).toMatchObject({ billing: expect.stringMatching(/^down/), postgres: 'ok', redis: 'ok', storage: 'ok' });
      // The fault lands on work under way: a settlement meets the frozen billing.
      await eventually('a settlement that found billing away', async () => (/billing did not answer/.test(stack.logs()) ? true : undefined), FREEZE_MS);
      expect((await seller.progress(jobId)).finished).toBe(false);
      await sleep(Math.max(0, FREEZE_MS - (recorder.step - frozenAt) * 1000));
    } finally {
      billing.child.kill('SIGCONT');
    }
    const thawedAt = recorder.step;

    const done = await seller.waitUntilFinished(jobId, 90_000);
    expect(done.images).toHaveLength(8);
    const bills = await pictureBills(stack.databaseUrl, jobId);
    expect(moneyProblems(bills, done)).toEqual([]);
    // Nothing failed for billing's sake: the pictures waited for it, then were delivered and paid.
    expect(done).toMatchObject({ status: 'completed', completed: 8, failed: 0, credits_charged: 24 });
    expect(await seller.balance()).toEqual({ balance: 6, reserved: 0, available: 6 });
    // Waiting for billing made no picture go to the AI again.
    expect(Object.values(stack.sim.stats.billedByImage)).toEqual(Array(8).fill(1));
    expect((await readinessUntil(stack.gatewayUrl, (answer) => answer.status === 200)).checks.billing).toBe('ok');

    await sleep(3000);
    await recorder.stop();
    // Billing's /metrics went unanswered for the freeze: MasterpostServiceDown's condition held
    // for billing alone, and cleared after. Its `for: 2m` keeps a 20 s freeze from paging: it
    // never fires here. The gateway's /ready named billing all along, and its gauge with it:
    // MasterpostDependencyDown (a warning) fires inside the freeze for the gateway's dependency
    // `billing`, and for nothing else; no other alert fires, then or in the middle, and none at
    // the end.
    const up = 'up{job="masterpost-billing", instance="billing"}';
    const downSteps = recorder.stepsWhere(up, 0);
    expect(downSteps.length).toBeGreaterThanOrEqual(10);
    const middle = downSteps[Math.floor(downSteps.length / 2)]!;
    expect(middle).toBeGreaterThanOrEqual(frozenAt);
    expect(middle).toBeLessThanOrEqual(thawedAt);
    const end = recorder.step - 1;
    const gateway = scrapeTarget(stack, 'gateway');
    const firesAt = dependencyAlertTime(recorder, 'billing', [gateway], { from: frozenAt, to: thawedAt - 1 });
    const quiet = (at: number, except = '') => everyAlert().filter((alertname) => alertname !== except).map((alertname) => ({ eval_time: `${at}s`, alertname, exp_alerts: [] }));
    const result = promtoolTestRules(recorder, 'billing frozen 20 s', {
      promql_expr_test: [
        { expr: ruleExpr('MasterpostServiceDown'), eval_time: `${middle}s`, exp_samples: [{ labels: up, value: 0 }] },
        { expr: ruleExpr('MasterpostServiceDown'), eval_time: `${end}s`, exp_samples: [] },
        // Every picture counted as it ended, none failed: the failure ratio's alert had nothing to see.
        { expr: 'sum by (outcome) (pictures_ended_total)', eval_time: `${end}s`, exp_samples: [{ labels: '{outcome="delivered"}', value: 8 }, { labels: '{outcome="failed"}', value: 0 }] },
      ],
      alert_rule_test: [
        { eval_time: `${firesAt}s`, alertname: 'MasterpostDependencyDown', exp_alerts: firingAlerts('MasterpostDependencyDown', [{ ...gateway, dependency: 'billing' }]) },
        ...quiet(firesAt, 'MasterpostDependencyDown'),
        ...quiet(middle, 'MasterpostDependencyDown'),
        ...quiet(end),
      ],
    });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  } finally {
    await recorder.stop();
  }
});

test('readiness comes back whole once billing answers again', async () => {
  expect(await readiness(stack.gatewayUrl)).toMatchObject({ status: 200, checks: { billing: 'ok', storage: 'ok' } });
});
