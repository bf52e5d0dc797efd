import AdmZip from 'adm-zip';
import request from 'supertest';
import { moneyProblems, pictureBills, readinessUntil } from './drill-kit';
import { getBinary, inspectPicture, zipOf } from './fixtures';
import { cleanUpAfter, readEvents, startTestStack, type TestStack } from './harness';
import { LocalRedisCluster } from './redis-cluster';
import { distinctPhotos, eventually, metricValue, Seller, type ProgressBody } from './seller';

/**
 * The product on a real Redis Cluster (issue 23.5): six redis-server processes, three primaries
 * with a replica each, and the services connected with REDIS_CLUSTER_NODES and a hash-tagged
 * queue prefix. BullMQ's scripts and ours (fleet gate, spend guard, idempotency, rate limits,
 * presence) touch several keys at once, which a cluster allows only within one slot: any key
 * outside the prefix's slot fails its command with CROSSSLOT, and the seller would see it.
 *
 * One cluster and one stack for the file (two processors); the DashScope stand-in enforces no
 * rate of its own here, so what it counts per sliding second is what the fleet sent.
 */
jest.setTimeout(240_000);

const RATE = 2;
const IN_FLIGHT = 3;

let cluster: LocalRedisCluster | undefined;
let stack: TestStack;

beforeAll(async () => {
  cluster = await LocalRedisCluster.start({ nodeTimeoutMs: 1000 });
  stack = await startTestStack({
    processors: 2,
    redisClusterNodes: cluster.addresses,
    sim: { latencyMs: 600, jitterMs: 200 },
    env: {
      SIGNUP_CREDITS: '100',
      QWEN_MAX_PER_SECOND: String(RATE),
      QWEN_MAX_IN_FLIGHT: String(IN_FLIGHT),
      WORKER_CONCURRENCY: '3',
      // A cap far above what the file spends: the spend guard's two-key scripts run on every call.
      QWEN_DAILY_SPEND_CAP_MICRO_USD: '1000000000',
    },
  });
}, 120_000);
// Declared first, so the stack (whose teardown cleans the cluster's keys) stops before the cluster.
cleanUpAfter(() => stack);
afterAll(async () => {
  await cluster?.stop();
});

test('a seller\'s whole flow on the cluster with two processors: upload, progress as it happens, ZIP, each picture charged once, the fleet\'s rate held', async () => {
  const api = request(stack.gatewayUrl);
  expect(stack.env.QUEUE_PREFIX).toMatch(/^\{mpt[0-9a-f]+\}$/);
  const seller = await Seller.register(stack.gatewayUrl, 'cluster-seller@example.com');
  const [first, second, third, left, right] = await distinctPhotos(5, 7300);
  const upload = () =>
    api
      .post('/api/v1/upload')
      .set('authorization', `Bearer ${seller.token}`)
      .set('idempotency-key', 'cluster-upload-0001')
      .attach('files', first!, 'first.jpg')
      .attach('files', second!, 'second.jpg')
      .attach('files', third!, 'third.jpg')
      .attach('files', zipOf([{ name: 'shoot/left.jpg', data: left! }, { name: 'shoot/right.jpg', data: right! }]), 'shoot.zip')
      .expect(201);
  const uploaded = await upload();
  expect(uploaded.body.files_count).toBe(5);
  // The same upload again (a client retrying): the idempotency record, kept in the cluster, answers it.
  const again = await upload();
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body.job_id).toBe(uploaded.body.job_id);
  const jobId = uploaded.body.job_id as string;

  await seller.process(jobId, 'ebay');
  const events = await readEvents(`${stack.gatewayUrl}/api/v1/progress/${jobId}/stream`, seller.token, 120_000);
  expect(events.at(-1)?.event).toBe('done');
  const progressEvents = events.filter((event) => event.event === 'progress');
  expect(progressEvents.at(-1)?.data).toMatchObject({ status: 'completed', completed: 5, failed: 0, credits_charged: 15 });
  // The stream also reads every 2 s as a safety net; updates closer together than that came from
  // the processors' messages, published and received through the cluster's pub/sub.
  const gaps = progressEvents.slice(1).map((event, index) => event.at - progressEvents[index]!.at);
  expect(Math.min(...gaps)).toBeLessThan(1000);

  const download = await getBinary(api, `/api/v1/download/${jobId}`, seller.token).expect(200);
  const zip = new AdmZip(download.body as Buffer);
  expect(zip.getEntries().map((entry) => entry.entryName).sort()).toEqual(['first.jpg', 'left.jpg', 'manifest.json', 'right.jpg', 'second.jpg', 'third.jpg']);
  for (const entry of zip.getEntries().filter((candidate) => candidate.entryName.endsWith('.jpg'))) {
    const picture = await inspectPicture(entry.getData());
    expect({ name: entry.entryName, format: picture.format, width: picture.width, border: picture.borderPureWhite }).toEqual({ name: entry.entryName, format: 'jpeg', width: 1600, border: true });
  }
  const manifest = JSON.parse(zip.getEntry('manifest.json')!.getData().toString('utf8')) as { images: Array<{ status: string }> };
  expect(manifest.images.map((image) => image.status)).toEqual(Array(5).fill('done'));

  // Reserved 15, captured 15 exactly once: nothing held, nothing charged twice.
  expect(await seller.balance()).toEqual({ balance: 85, reserved: 0, available: 85 });
  expect(moneyProblems(await pictureBills(stack.databaseUrl, jobId), await seller.progress(jobId))).toEqual([]);

  // The fleet gate's state is in the cluster: the two processors together never sent more than
  // RATE calls in any sliding second, nor more than IN_FLIGHT at once, as the provider counted;
  // and they did reach the rate, so the limit was what held them.
  const { stats } = stack.sim;
  expect(stats.maxPerSecond).toBe(RATE);
  expect(stats.maxInFlight).toBeLessThanOrEqual(IN_FLIGHT);
  expect(stats.succeeded).toBe(5);
  expect(Object.values(stats.billedByImage)).toEqual(Array(5).fill(1));
  const processors = stack.services.filter((running) => running.name.startsWith('processor'));
  const calls = await Promise.all(processors.map(async (running) => metricValue(await (await fetch(`${running.url}/metrics`)).text(), 'qwen_calls_total', 'outcome="success"')));
  expect(calls.reduce((sum, value) => sum + value, 0)).toBe(5);
  expect(calls.filter((value) => value > 0)).toHaveLength(2);
});

test('the primary holding the queues is killed mid-batch: its replica takes over, every picture ends, nothing is charged twice', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'cluster-failover@example.com');
  const jobId = await seller.upload(await distinctPhotos(8, 7400));
  const acceptedBefore = stack.sim.stats.accepted;
  await seller.process(jobId, 'ebay');
  await eventually('the batch\'s first call to the provider', async () => (stack.sim.stats.accepted > acceptedBefore ? true : undefined));

  // Every key of ours is in the prefix's slot, so its primary holds all the queue traffic.
  const slot = await cluster!.keySlot(stack.env.QUEUE_PREFIX!);
  const owner = await cluster!.ownerOf(slot);
  expect(owner.replicas).toHaveLength(1);
  await cluster!.kill(owner.primary);
  const promoted = await cluster!.waitForPromotion(slot, owner.primary);
  expect(promoted).toBe(owner.replicas[0]);

  // Not finished in time: the failure shows where the queues' jobs are (waiting, running, waiting
  // for children, lost), beside the services' logs the harness prints.
  const outcome = await seller.waitUntilFinished(jobId, 120_000).catch(async (error: unknown) => ({
    notFinished: String(error),
    queues: await cluster!.queueSnapshot(stack.env.QUEUE_PREFIX!, ['images', 'jobs']).catch((reason: unknown) => String(reason)),
  }));
  expect(outcome).toMatchObject({ finished: true });
  const progress = outcome as ProgressBody;
  // Every picture delivered, or failed with a message the seller reads; each delivered one
  // captured exactly once, a failed one never, the job's charge their sum.
  expect(moneyProblems(await pictureBills(stack.databaseUrl, jobId), progress)).toEqual([]);
  expect(progress.completed + progress.failed).toBe(8);
  expect(progress.completed).toBeGreaterThan(0);
  expect(await seller.balance()).toEqual({ balance: 100 - 3 * progress.completed, reserved: 0, available: 100 - 3 * progress.completed });
  // No picture went to the provider twice because of the failover.
  expect(Math.max(...Object.values(stack.sim.stats.billedByImage))).toBe(1);

  // Work goes on without anyone restarting anything: the services say ready, and a new job
  // (rate limit, idempotency and queue scripts now on the promoted primary) is made and paid.
  const processors = stack.services.filter((running) => running.name.startsWith('processor'));
  expect(processors).toHaveLength(2);
  for (const running of [stack.gatewayUrl, ...processors.map((processor) => processor.url)]) {
    expect((await readinessUntil(running, (ready) => ready.status === 200)).checks.redis).toBe('ok');
  }
  const after = await seller.upload(await distinctPhotos(1, 7500));
  await seller.process(after, 'ebay');
  expect(await seller.waitUntilFinished(after, 60_000)).toMatchObject({ status: 'completed', completed: 1, credits_charged: 3 });
});
