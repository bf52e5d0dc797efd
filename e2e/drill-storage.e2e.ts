import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPool, type Pool } from '@masterpost/platform';
import { prepareAsSupabase } from '../tools/supabase-sim/src/roles';
import { startSupabaseStandIn, type SupabaseStandIn } from '../tools/supabase-sim/src/server';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { dependencyAlertTime, everyAlert, firingAlerts, moneyProblems, pictureBills, promtoolTestRules, readinessUntil, scrapeTarget, SeriesRecorder, service, sleep } from './drill-kit';
import { distinctPhotos, eventually, metricValue, Seller } from './seller';

/**
 * Reliability 43, the object store failing writes: the stack keeps its files in a Supabase
 * Storage bucket (the stand-in, as in production with SUPABASE_URL), and for 20 s mid-batch every
 * upload to it answers 500 while reads still work. The gateway's and the processor's /ready name
 * storage while it lasts (each writes a tiny object under `health/`); every picture then ends,
 * delivered and charged once or failed with a message and not charged, nothing stays reserved,
 * and the alert rules are run on what was scraped: the dependency warning fires for both while
 * the store refuses writes. 20 s, as for billing: long enough for the warning's `for:` (10 s)
 * after the checks see it. A read-only folder would not do: the tests run as root, whom file
 * modes do not stop.
 *
 * Attempts are few and close together (2, 500 ms apart) so that pictures whose attempts all
 * meet the fault fail within it: both endings are exercised.
 */
jest.setTimeout(150_000);

const FAULT_MS = 20_000;
const SERVICE_KEY = 'drill-service-role-key';
let stack: TestStack;
let supabase: SupabaseStandIn;
let bucketDir: string;
let pool: Pool | undefined;

beforeAll(async () => {
  bucketDir = await mkdtemp(path.join(os.tmpdir(), 'mp-drill-bucket-'));
  supabase = await startSupabaseStandIn({ serviceKey: SERVICE_KEY, storageDir: bucketDir, buckets: ['pictures'], pool: () => pool! });
  stack = await startTestStack({
    sim: { latencyMs: 1500 },
    env: {
      SIGNUP_CREDITS: '30',
      SUPABASE_URL: supabase.url,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
      SUPABASE_BUCKET: 'pictures',
      WORKER_CONCURRENCY: '2',
      QWEN_MAX_IN_FLIGHT: '2',
      IMAGE_ATTEMPTS: '2',
      IMAGE_RETRY_DELAY_MS: '500',
      // The books are checked every 2 s instead of every 15 min, so the drill reads the
      // reconciliation of the outage.
      RECONCILE_EVERY_MS: '2000',
    },
    beforeServices: async (databaseUrl) => {
      await prepareAsSupabase(databaseUrl);
      pool = createPool(databaseUrl);
    },
  });
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await pool?.end();
  await supabase?.close();
  await rm(bucketDir, { recursive: true, force: true });
});

test('the object store refusing writes mid-batch: /ready names storage, every picture ends, nothing charged for a failed one', async () => {
  const recorder = SeriesRecorder.forStack(stack);
  recorder.start();
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'storage-fault@example.com');
    const jobId = await seller.upload(await distinctPhotos(8, 6100));
    await seller.process(jobId);
    await eventually('the first picture delivered', async () => ((await seller.progress(jobId)).completed >= 1 ? true : undefined), 60_000);

    supabase.faults.uploadStatus = 500;
    const faultAt = recorder.step;
    try {
      const storageNamed = (answer: { status: number; checks: Record<string, string> }) => answer.status === 503 && /^down: storage: could not store health\//.test(answer.checks.storage ?? '');
      const readies = await Promise.all(['gateway', 'processor'].map((name) => readinessUntil(service(stack, name).url, storageNamed, FAULT_MS)));
      // Storage alone is named.
      for (const ready of readies) expect(Object.entries(ready.checks).filter(([check, state]) => check !== 'storage' && state !== 'ok' && check !== 'ai_rate')).toEqual([]);
      // The fault met pictures being made, not only the probes.
      await eventually('a picture write refused', async () => (/could not store jobs\//.test(stack.logs()) ? true : undefined), FAULT_MS);
      await sleep(Math.max(0, FAULT_MS - (recorder.step - faultAt) * 1000));
    } finally {
      supabase.faults.uploadStatus = null;
    }
    const clearedAt = recorder.step;
    expect(supabase.faults.refused).toBeGreaterThan(2);
    for (const name of ['gateway', 'processor']) {
      expect((await readinessUntil(service(stack, name).url, (answer) => answer.status === 200)).checks.storage).toBe('ok');
    }

    const done = await seller.waitUntilFinished(jobId, 90_000);
    expect(done.images).toHaveLength(8);
    const bills = await pictureBills(stack.databaseUrl, jobId);
    expect(moneyProblems(bills, done)).toEqual([]);
    expect(done.completed + done.failed).toBe(8);
    // Both endings happened: pictures whose every attempt met the fault failed, with a message
    // the seller reads and nothing charged; the others were delivered once the store took writes.
    expect(done.failed).toBeGreaterThanOrEqual(1);
    expect(done.completed).toBeGreaterThanOrEqual(1);
    for (const image of done.images.filter((picture) => picture.status === 'failed')) {
      expect(image.error?.message).toMatch(/not charged/);
    }
    await eventually('every reservation resolved', async () => ((await seller.balance()).reserved === 0 ? true : undefined), 30_000);
    expect(await seller.balance()).toEqual({ balance: 30 - 3 * done.completed, reserved: 0, available: 30 - 3 * done.completed });

    // A paid result whose output could not be stored is fetched again from its recorded URL by
    // the next attempt: the AI was paid once a picture, and the books, checked after the job
    // ended, show no difference.
    expect(Object.values(stack.sim.stats.billedByImage).every((calls) => calls === 1)).toBe(true);
    const endedAt = Date.now() / 1000;
    const billing = service(stack, 'billing');
    const books = await eventually(
      'a reconciliation after the job ended',
      async () => {
        const page = await (await fetch(`${billing.url}/metrics`)).text();
        return metricValue(page, 'ledger_reconciliation_last_run_timestamp_seconds') > endedAt ? page : undefined;
      },
      30_000,
    );
    expect(metricValue(books, 'ledger_mismatches')).toBe(0);

    await sleep(3000);
    await recorder.stop();
    // /metrics kept answering, so nothing pages as a service down. The gateway's and the
    // processor's dependency gauges showed storage down as their /ready did: MasterpostDependencyDown
    // (a warning) fires for both inside the fault, for storage alone, and is quiet after it.
    // The failed pictures are counted as they ended, as failures of ours (processing_failed: their
    // attempts ran out), and more than a tenth of the pictures failed; PictureFailureRatioHigh
    // still stays quiet, and should: its floor is 20 pictures ended in 10 minutes, so that one small
    // batch's bad luck pages nobody. At a fleet's volume the same fault fires it (its unit tests in
    // deploy/prometheus/alerts.test.yml); here the warning above is what told the operator.
    const end = recorder.step - 1;
    const targets = ['gateway', 'processor'].map((name) => scrapeTarget(stack, name));
    const firesAt = dependencyAlertTime(recorder, 'storage', targets, { from: faultAt, to: clearedAt - 1 });
    const ours = 'sum(increase(pictures_ended_total{outcome="failed", reason="processing_failed"}[10m]))';
    const ended = 'sum(increase(pictures_ended_total[10m]))';
    const quiet = (at: number, except = '') => everyAlert().filter((alertname) => alertname !== except).map((alertname) => ({ eval_time: `${at}s`, alertname, exp_alerts: [] }));
    const result = promtoolTestRules(recorder, 'storage refusing writes', {
      promql_expr_test: [
        { expr: 'sum by (outcome) (pictures_ended_total)', eval_time: `${end}s`, exp_samples: [{ labels: '{outcome="delivered"}', value: done.completed }, { labels: '{outcome="failed"}', value: done.failed }] },
        { expr: 'sum(pictures_ended_total{outcome="failed", reason="processing_failed"})', eval_time: `${end}s`, exp_samples: [{ labels: '{}', value: done.failed }] },
        { expr: `${ours} / ${ended} > bool 0.1`, eval_time: `${end}s`, exp_samples: [{ labels: '{}', value: 1 }] },
        { expr: `${ended} >= bool 20`, eval_time: `${end}s`, exp_samples: [{ labels: '{}', value: 0 }] },
      ],
      alert_rule_test: [
        ...quiet(faultAt + 2),
        { eval_time: `${firesAt}s`, alertname: 'MasterpostDependencyDown', exp_alerts: firingAlerts('MasterpostDependencyDown', targets.map((target) => ({ ...target, dependency: 'storage' }))) },
        ...quiet(firesAt, 'MasterpostDependencyDown'),
        ...quiet(end),
      ],
    });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  } finally {
    await recorder.stop();
  }
});
