import { Gauge, Registry } from 'prom-client';
import { createLogger, createPool, createSupabaseClient, DependencyHealth, dependencyGauge, handleShutdown, loadConfigOrExit, probe, startTracing } from '@masterpost/platform';
import { buildBillingApp } from './app';
import { loadBillingConfig } from './config';
import { ledgerGauges } from './ledger/ledger-metrics';
import { LedgerStore } from './ledger/ledger.repository';
import { Reconciliation } from './ledger/reconciliation';
import { PgFunctions, SupabaseFunctions } from './ledger/sql-functions';
import { parsePacks } from './packs';
import { createStripeClient } from './stripe/checkout.service';

async function main(): Promise<void> {
  startTracing('billing');
  const logger = createLogger('billing');
  const config = loadConfigOrExit(loadBillingConfig, (message) => logger.fatal(message));
  const pool = createPool(config.DATABASE_URL, {}, logger);
  // On Supabase the same SQL functions are called through PostgREST with the service role key.
  const supabase = config.SUPABASE_URL ? createSupabaseClient(config.SUPABASE_URL, config.SUPABASE_SERVICE_ROLE_KEY ?? '') : null;
  const ledger = new LedgerStore(supabase ? new SupabaseFunctions(supabase) : new PgFunctions(pool));
  if (supabase) logger.info({ url: config.SUPABASE_URL }, 'ledger functions are called through Supabase');
  const registry = new Registry();
  const mismatchesGauge = new Gauge({ name: 'ledger_mismatches', help: 'Differences the last ledger reconciliation found (0 when the books match)', registers: [registry] });
  const reconciledAt = new Gauge({ name: 'ledger_reconciliation_last_run_timestamp_seconds', help: 'When this instance last finished a reconciliation (0: not yet)', registers: [registry] });
  const readLedger = ledgerGauges(registry, pool, { sweepIntervalMs: config.HOLD_SWEEP_INTERVAL_MS });
  // /ready's checks also feed masterpost_dependency_up, run every few seconds meanwhile (the alerts read it).
  const dependencies = new DependencyHealth(new Gauge({ ...dependencyGauge, registers: [registry] }), { logger });
  const reconciliation = new Reconciliation(
    { pool, ledger, logger },
    { windowDays: config.RECONCILE_WINDOW_DAYS, orphanGraceSeconds: config.RECONCILE_ORPHAN_GRACE_SECONDS },
  );
  const stripe = config.STRIPE_SECRET_KEY ? createStripeClient(config.STRIPE_SECRET_KEY, config.STRIPE_API_BASE) : null;
  const app = buildBillingApp({
    ledger,
    packs: parsePacks(config.CREDIT_PACKS),
    serviceToken: config.BILLING_SERVICE_TOKEN,
    stripe,
    webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    publicUrl: config.PUBLIC_URL,
    logger,
    metrics: {
      contentType: registry.contentType,
      // While PostgreSQL is away the ledger's gauges keep their last values rather than failing the scrape.
      text: async () => {
        await readLedger().catch((error: unknown) => logger.warn({ err: error }, 'ledger metrics not read'));
        return registry.metrics();
      },
    },
    ready: dependencies.watch(async () => ({ postgres: await probe(() => pool.query('select 1')) })),
  });

  // Holds whose job vanished (Redis lost, gateway crashed mid-request) are released by TTL.
  const sweeper = setInterval(() => {
    ledger.expireHolds().then(
      (expired) => {
        if (expired.length > 0) logger.warn({ expired }, 'released expired credit holds');
      },
      (error: unknown) => logger.error({ err: error }, 'hold sweep failed'),
    );
  }, config.HOLD_SWEEP_INTERVAL_MS);

  // Once across every billing instance: whoever takes the advisory lock reconciles.
  const reconciler = setInterval(() => {
    void (async () => {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(727275) as locked');
        if (!rows[0]?.locked) return;
        try {
          mismatchesGauge.set((await reconciliation.run()).mismatches.length);
          reconciledAt.set(Date.now() / 1000);
        } finally {
          await client.query('select pg_advisory_unlock(727275)');
        }
      } finally {
        client.release();
      }
    })().catch((error: unknown) => logger.error({ err: error }, 'ledger reconciliation failed'));
  }, config.RECONCILE_EVERY_MS);

  const server = app.listen(config.PORT, () => logger.info({ port: config.PORT }, 'billing listening'));
  handleShutdown(logger, [
    async () => dependencies.stop(),
    async () => clearInterval(sweeper),
    async () => clearInterval(reconciler),
    () => new Promise((resolve) => server.close(resolve)),
    () => pool.end(),
  ]);
}

void main();
