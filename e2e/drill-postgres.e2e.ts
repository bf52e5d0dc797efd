import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { dependencyAlertTime, everyAlert, firingAlerts, moneyProblems, pictureBills, PrivatePostgres, promtoolTestRules, query, readinessUntil, scrapeTarget, SeriesRecorder, service, sleep } from './drill-kit';
import { distinctPhotos, eventually, Seller } from './seller';

/**
 * Reliability 43, PostgreSQL restarted: the database goes down hard (immediate shutdown, every
 * connection cut) while a batch is being made and comes back 20 s later. Every service's /ready
 * names PostgreSQL while it is away; every picture then ends, each delivered one charged exactly
 * once, the AI paid once a picture (an answer that came while the database was away is kept in
 * Redis and recorded by the retry), nothing stays reserved, and the alert rules are run on what
 * was scraped: the dependency warning fires for the three services while the database is away.
 * 20 s, as for billing: the warning's `for:` (10 s) after the checks see it, with room to spare on
 * a busy machine; a restart of a few seconds rightly warns nobody. The server is the drill's own:
 * the machine's PostgreSQL serves every other test file and is never restarted. The services run
 * with their default retry settings, as in production.
 */
jest.setTimeout(150_000);

const DOWN_MS = 20_000;
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
    // The fault lands on a paid call under way: its answer comes back after PostgreSQL is gone
    // (the stand-in answers 1.5 s after it accepts, and runs in this process, which stopping the
    // database blocks), so it cannot be recorded when it comes.
    await eventually('a call to the AI under way', async () => (stack.sim.stats.inFlight >= 1 && Date.now() - (stack.sim.stats.acceptedAt.at(-1) ?? 0) < 1000 ? true : undefined), 30_000);

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
    // Paid AI calls (our cost, never the seller's): one a picture. An answer that came while
    // PostgreSQL was away could not be recorded then; it was kept in Redis, and the picture's
    // retry recorded and used it instead of paying again (qwen-output.service.ts).
    const paid = Object.values(stack.sim.stats.billedByImage);
    expect(paid.filter((calls) => calls !== 1)).toEqual([]);
    expect(paid.length).toBeGreaterThanOrEqual(done.completed);
    // And the books say so: each delivered picture has exactly one paid call recorded, late or
    // not (none missing, which the reconciliation would call unpaid, none twice).
    const recorded = await query<{ id: string; calls: number }>(
      stack.databaseUrl,
      `select i.id, (select count(*)::int from qwen_calls c where c.image_id = i.id and c.outcome = 'success') as calls
         from images i where i.job_id = $1 and i.status = 'done' and not i.reused_output`,
      [jobId],
    );
    expect(recorded.filter((picture) => picture.calls !== 1)).toEqual([]);
    expect(recorded).toHaveLength(done.completed);
    // The answer that came during the outage was one of them, recorded late by its retry.
    expect(stack.logs().match(/is recorded now, and used: not paid again/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    for (const name of ['gateway', 'billing', 'processor']) {
      expect((await readinessUntil(service(stack, name).url, (answer) => answer.status === 200)).checks.postgres).toBe('ok');
    }

    await sleep(3000);
    await recorder.stop();
    // Every /metrics kept answering (billing's and the processor's keep their last database
    // figures rather than failing the scrape), so nothing pages: MasterpostServiceDown's condition
    // never holds. Each service's dependency gauge showed PostgreSQL down as its /ready did, and
    // MasterpostDependencyDown (a warning) fires for all three inside the outage, for PostgreSQL
    // alone; two seconds in it is still waiting out its `for:`, and after the restart every alert
    // is quiet. The pictures' counter agrees with what the seller sees: as many delivered, as many
    // failed (none, unless a picture's attempts all met the outage).
    for (const running of stack.services.filter((candidate) => !candidate.name.startsWith('dashscope'))) {
      const job = `masterpost-${running.name.replace(/-.*$/, '')}`;
      expect({ instance: running.name, down: recorder.stepsWhere(`up{job="${job}", instance="${running.name}"}`, 0) }).toEqual({ instance: running.name, down: [] });
    }
    const targets = ['gateway', 'billing', 'processor'].map((name) => scrapeTarget(stack, name));
    const firesAt = dependencyAlertTime(recorder, 'postgres', targets, { from: downAt, to: upAt - 1 });
    const during = Math.min(downAt + 2, upAt);
    const end = recorder.step - 1;
    const quiet = (at: number, except = '') => everyAlert().filter((alertname) => alertname !== except).map((alertname) => ({ eval_time: `${at}s`, alertname, exp_alerts: [] }));
    const result = promtoolTestRules(recorder, 'PostgreSQL restarted', {
      promql_expr_test: [
        { expr: 'sum by (outcome) (pictures_ended_total)', eval_time: `${end}s`, exp_samples: [{ labels: '{outcome="delivered"}', value: done.completed }, { labels: '{outcome="failed"}', value: done.failed }] },
      ],
      alert_rule_test: [
        ...quiet(during),
        { eval_time: `${firesAt}s`, alertname: 'MasterpostDependencyDown', exp_alerts: firingAlerts('MasterpostDependencyDown', targets.map((target) => ({ ...target, dependency: 'postgres' }))) },
        ...quiet(firesAt, 'MasterpostDependencyDown'),
        ...quiet(end),
      ],
    });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  } finally {
    await recorder.stop();
  }
});
