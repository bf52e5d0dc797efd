import { readFileSync } from 'node:fs';
import path from 'node:path';
import IORedis from 'ioredis';
import { parse } from 'yaml';
import { alertRules, dashboardQueries, exportedNames, metricNames } from '../deploy/metric-names';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, metricValue, Seller } from './seller';

/**
 * What operations rely on, against the real services: KEDA's Redis keys are the lists BullMQ
 * really keeps the waiting pictures in, and every metric the dashboard and the alerts name is one
 * the services export.
 */
jest.setTimeout(120_000);

let stack: TestStack;
beforeAll(async () => {
  // No processor yet: the pictures stay in the queue, as they do while KEDA has scaled to zero.
  stack = await startTestStack({ processors: 0, sim: { latencyMs: 50 } });
});
cleanUpAfter(() => stack);

/** Names Prometheus itself makes for every target, not the services. */
const MADE_BY_PROMETHEUS = new Set(['up']);

test('KEDA reads the lists the waiting pictures are in; processed, every metric the dashboard and alerts name is exported', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'operations@example.com');
  const jobId = await seller.upload(await distinctPhotos(2, 900));
  await seller.process(jobId);

  const scaler = parse(readFileSync(path.join(__dirname, '..', 'deploy', 'kubernetes', 'base', 'processor-scaler.yaml'), 'utf8')) as { spec: { triggers: Array<{ name: string; metadata: { listName: string } }> } };
  const prefix = stack.env.QUEUE_PREFIX ?? '';
  // The manifests use the production prefix; the test stack runs on its own.
  const listOf = (trigger: string) => scaler.spec.triggers.find((candidate) => candidate.name === trigger)?.metadata.listName.replace(/^masterpost:/, `${prefix}:`) ?? 'none';
  const redis = new IORedis(stack.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    expect(await redis.llen(listOf('wait-images'))).toBe(2);
  } finally {
    redis.disconnect();
  }

  const processor = await stack.startProcessor('processor-ops');
  expect(await seller.waitUntilFinished(jobId, 60_000)).toMatchObject({ status: 'completed', completed: 2 });

  const pages = await Promise.all([stack.gatewayUrl, stack.billingUrl, processor.url].map(async (url) => (await fetch(`${url}/metrics`)).text()));
  const exported = new Set(pages.flatMap((page) => [...exportedNames(page)]));
  const queries = [...dashboardQueries().map(({ panel, expr }) => ({ where: `dashboard panel "${panel}"`, expr })), ...alertRules().map(({ alert, expr }) => ({ where: `alert ${alert}`, expr }))];
  const unknown = queries.flatMap(({ where, expr }) => metricNames(expr).filter((name) => !exported.has(name) && !MADE_BY_PROMETHEUS.has(name)).map((name) => `${where}: ${name}`));
  expect(unknown).toEqual([]);

  // The histograms the dashboard reads have the picture in them, and the new gauges say what happened.
  const processorPage = pages[2] ?? '';
  expect(metricValue(processorPage, 'render_seconds_count')).toBeGreaterThanOrEqual(2);
  expect(metricValue(processorPage, 'qwen_call_seconds_count')).toBeGreaterThanOrEqual(2);
  expect(metricValue(processorPage, 'pictures_waiting')).toBe(0);
  expect(metricValue(processorPage, 'pictures_oldest_waiting_seconds')).toBe(0);
  expect(metricValue(processorPage, 'qwen_fleet_paused_cause')).toBe(0);
  expect(metricValue(pages[1] ?? '', 'credits_reserved')).toBe(0);
  expect(metricValue(pages[1] ?? '', 'credit_holds_past_ttl')).toBe(0);
});
