import { ConfigError, checkSupabase, defaults } from '@masterpost/platform';
import { SIM_RESULT_HOST } from '../tools/dashscope-sim/src/server';
import { loadBillingConfig } from '../services/billing/src/config';
import { parsePacks } from '../services/billing/src/packs';
import { createStripeClient } from '../services/billing/src/stripe/checkout.service';
import { checkStripe } from '../services/billing/src/stripe/provider-check';
import { loadProcessorConfig } from '../services/processor/src/config';
import { checkDashScope, type CheckReport } from '../services/processor/src/qwen/provider-check';

/**
 * `npm run provider-check`: run once after a deploy, with the services' own environment. Checks
 * DashScope (one real, billed call on a built-in picture), Stripe (key shapes, the key accepted,
 * packs chargeable) and Supabase (bucket, SQL functions, what the anon key reaches), prints what
 * it found and exits 1 naming what to fix when anything fails.
 */
// The services' settings are read through their own schemas; the service token between our
// own services plays no part here, so a placeholder stands in for it when it is not set.
const environment: Record<string, string | undefined> = { BILLING_SERVICE_TOKEN: 'provider-check-needs-no-service-token', ...process.env };
// Without a key the check calls the stand-in `npm start` runs, whose results it reaches as the stack's processors do.
if (!environment.DASHSCOPE_API_KEY && !environment.QWEN_RESULT_RESOLVE) {
  environment.QWEN_RESULT_RESOLVE = `${SIM_RESULT_HOST}:127.0.0.1:${defaults.simResultPort}`;
}

async function run(name: string, check: () => Promise<Omit<CheckReport, 'name'>>): Promise<CheckReport> {
  try {
    return { name, ...(await check()) };
  } catch (error) {
    const message = error instanceof ConfigError ? error.problems.join('; ') : (error as Error).message;
    return { name, status: 'failed', details: [message] };
  }
}

async function main(): Promise<void> {
  const reports = [
    await run('DashScope', () => checkDashScope(loadProcessorConfig(environment))),
    await run('Stripe', () => {
      const config = loadBillingConfig(environment);
      return checkStripe({
        secretKey: config.STRIPE_SECRET_KEY,
        webhookSecret: config.STRIPE_WEBHOOK_SECRET,
        packs: parsePacks(config.CREDIT_PACKS),
        stripe: config.STRIPE_SECRET_KEY ? createStripeClient(config.STRIPE_SECRET_KEY, config.STRIPE_API_BASE) : null,
      });
    }),
    await run('Supabase', () =>
      checkSupabase({
        url: environment.SUPABASE_URL,
        serviceRoleKey: environment.SUPABASE_SERVICE_ROLE_KEY,
        anonKey: environment.SUPABASE_ANON_KEY,
        bucket: environment.SUPABASE_BUCKET ?? 'masterpost',
      }),
    ),
  ];
  for (const report of reports) {
    console.log(`${report.name}: ${report.status.toUpperCase()}`);
    for (const line of report.details) console.log(`  - ${line}`);
  }
  const failed = reports.filter((report) => report.status === 'failed').map((report) => report.name);
  if (failed.length > 0) {
    console.log(`\nprovider-check: ${failed.join(', ')} failed`);
    process.exit(1);
  }
  console.log('\nprovider-check: every configured provider answers as expected');
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
