import { createLogger } from './logger';
import { DependencyHealth, type DependencyGauge } from './dependency-health';

/** The gauge as a scrape would read it: each dependency's current value. */
class RecordedGauge implements DependencyGauge {
  readonly values = new Map<string, number>();
  set(labels: { dependency: string }, value: number): void {
    this.values.set(labels.dependency, value);
  }
  reset(): void {
    this.values.clear();
  }
}

const logger = createLogger('dependency-health-spec', 'silent');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('what /ready answers is what the gauge shows: ok is 1, anything else 0, figures left out, a check gone leaves nothing behind', async () => {
  const gauge = new RecordedGauge();
  const health = new DependencyHealth(gauge, { logger, everyMs: 60_000 });
  let states: Record<string, string> = { postgres: 'ok', storage: 'down: storage: could not store health/processor', ai_provider: 'paused: Arrearage', ai_rate: 'ok: 2 calls a second' };
  const checks = health.watch(async () => states, ['ai_rate']);
  try {
    expect(await checks()).toEqual(states);
    expect(Object.fromEntries(gauge.values)).toEqual({ postgres: 1, storage: 0, ai_provider: 0 });
    states = { postgres: 'ok', storage: 'ok', ai_rate: 'adapted: 1.20 calls a second' };
    await checks();
    expect(Object.fromEntries(gauge.values)).toEqual({ postgres: 1, storage: 1 });
  } finally {
    health.stop();
  }
});

test('the checks run on their own meanwhile, one run at a time, and stop at shutdown', async () => {
  const gauge = new RecordedGauge();
  const health = new DependencyHealth(gauge, { logger, everyMs: 20 });
  let runs = 0;
  let open = 0;
  let mostOpen = 0;
  let billing = 'ok';
  health.watch(async () => {
    runs++;
    mostOpen = Math.max(mostOpen, ++open);
    // A probe that takes longer than the interval, as one waiting out its bound does.
    await sleep(50);
    open--;
    return { billing };
  });
  try {
    await sleep(30);
    billing = 'down: no answer within 1000 ms';
    await sleep(200);
    expect(gauge.values.get('billing')).toBe(0);
    expect(mostOpen).toBe(1);
  } finally {
    health.stop();
  }
  await sleep(80);
  const stoppedAt = runs;
  await sleep(100);
  expect(runs).toBe(stoppedAt);
  expect(stoppedAt).toBeGreaterThanOrEqual(3);
});

test('a run that throws is logged and the next one still sets the gauge', async () => {
  const gauge = new RecordedGauge();
  const health = new DependencyHealth(gauge, { logger, everyMs: 20 });
  let calls = 0;
  health.watch(async () => {
    calls++;
    if (calls === 1) throw new Error('a check that was not bounded');
    return { redis: 'ok' };
  });
  try {
    await sleep(120);
    expect(gauge.values.get('redis')).toBe(1);
  } finally {
    health.stop();
  }
});
