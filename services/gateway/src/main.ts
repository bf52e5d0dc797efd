import { fleetKeys } from '@masterpost/contracts';
import { Gauge } from 'prom-client';
import { BillingClient, probe, loadConfigOrExit, createLogger, createPool, createRedis, handleShutdown, createStorage, storageProbe, startTracing, DependencyHealth, dependencyGauge } from '@masterpost/platform';
import { buildGatewayApp } from './app';
import { loadGatewayConfig } from './config';
import { JobsRepository } from './adapters/jobs.repository';
import { ProgressHub } from './adapters/progress-hub';
import { EditQueue } from './adapters/edit-queue';
import { QueueAdapter } from './adapters/queue.adapter';
import { UsersRepository } from './adapters/users.repository';
import { TokenService } from './services/auth.service';

async function main(): Promise<void> {
  startTracing('gateway');
  const logger = createLogger('gateway');
  const config = loadConfigOrExit(loadGatewayConfig, (message) => logger.fatal(message));
  if (process.env.ADMIN_EMAILS) logger.warn('ADMIN_EMAILS no longer makes anyone an operator: grant accounts with `npm run operator -- grant EMAIL`');
  const pool = createPool(config.DATABASE_URL, {}, logger);
  const producer = createRedis(config, 'producer', logger);
  const subscriber = createRedis(config, 'subscriber', logger);
  // The producer connection fails fast instead of queueing commands, so nothing may use it before
  // it is connected: the rate limiters load their script into Redis as they are built.
  if (producer.status !== 'ready') {
    logger.info('waiting for Redis');
    await new Promise<void>((resolve) => producer.once('ready', () => resolve()));
  }
  const queue = new QueueAdapter(producer, config.QUEUE_PREFIX, {
    attempts: config.IMAGE_ATTEMPTS,
    delayMs: config.IMAGE_RETRY_DELAY_MS,
    keepFinishedSeconds: config.FINISHED_JOBS_KEEP_SECONDS,
  }, logger);
  const edits = new EditQueue(producer, createRedis(config, 'subscriber', logger), config.QUEUE_PREFIX, logger);
  const hub = new ProgressHub(subscriber, config.QUEUE_PREFIX);
  await hub.start();
  const billing = new BillingClient(config.BILLING_URL, config.BILLING_SERVICE_TOKEN);

  const users = new UsersRepository(pool);
  const storage = createStorage(config);
  const storageReady = storageProbe(storage, 'gateway');
  // /ready's checks also feed masterpost_dependency_up, run every few seconds meanwhile (the alerts read it).
  const dependencyUp = new Gauge({ ...dependencyGauge, registers: [] });
  const dependencies = new DependencyHealth(dependencyUp, { logger });
  const app = buildGatewayApp({
    config,
    redis: producer,
    edits,
    pool,
    users,
    jobs: new JobsRepository(pool),
    queue,
    hub,
    billing,
    storage,
    tokens: new TokenService(config.JWT_SECRET, config.JWT_TTL_SECONDS, users),
    logger,
    // Probed at once, each within its bound: the kubelet gives /ready 4 s, and a frozen billing
    // would otherwise hold the answer for the billing client's whole 10 s timeout.
    metrics: [dependencyUp],
    checks: dependencies.watch(async () => {
      const [paused, redis, postgres, billingUp, storageState] = await Promise.all([
        producer.get(fleetKeys(config.QUEUE_PREFIX).paused).catch(() => null),
        probe(() => producer.ping()),
        probe(() => pool.query('select 1')),
        probe(async () => {
          if (!(await billing.ping())) throw new Error('no answer to /health');
        }),
        storageReady(),
      ]);
      return {
        redis,
        postgres,
        billing: billingUp,
        storage: storageState,
        ai_provider: paused ? `paused: ${(JSON.parse(paused) as { reason: string }).reason}` : 'ok',
      };
    }),
  });

  const server = app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'gateway listening'));
  handleShutdown(logger, [
    () => new Promise((resolve) => server.close(resolve)),
    async () => dependencies.stop(),
    () => queue.close(),
    () => edits.close(),
    () => pool.end(),
    async () => {
      producer.disconnect();
      subscriber.disconnect();
    },
  ]);
}

void main();
