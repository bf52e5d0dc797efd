import { defaults, env, parseConfig } from '@masterpost/platform';
import { packsProblem } from './packs';

export function loadBillingConfig(source: Record<string, string | undefined> = process.env) {
  return parseConfig(
    'billing',
    {
      LOG_LEVEL: env.logLevel(),
      PORT: env.port(defaults.billingPort),
      DATABASE_URL: env.string(defaults.databaseUrl),
      /** Callers (gateway, processor) present this as a bearer token on /internal routes. */
      BILLING_SERVICE_TOKEN: env.secret(32),
      STRIPE_SECRET_KEY: env.optionalString(),
      STRIPE_WEBHOOK_SECRET: env.optionalString(),
      STRIPE_API_BASE: env.optionalString(),
      PUBLIC_URL: env.url('http://localhost:8080'),
      // JSON of packs replacing the defaults (packs.ts); checked here so a bad one stops the start, named.
      CREDIT_PACKS: env.optionalString().superRefine((raw, context) => {
        const problem = packsProblem(raw);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }),
      HOLD_SWEEP_INTERVAL_MS: env.int(60_000, 100),
      // The books checked against the jobs (ledger/reconciliation.ts): how often, over how many
      // days of finished jobs, and how old a reservation no job holds must be before it is returned.
      RECONCILE_EVERY_MS: env.int(15 * 60_000, 500),
      RECONCILE_WINDOW_DAYS: env.int(30, 1, 3650),
      RECONCILE_ORPHAN_GRACE_SECONDS: env.int(600, 0),
      SUPABASE_URL: env.optionalString(),
      SUPABASE_SERVICE_ROLE_KEY: env.optionalString(),
    },
    source,
  );
}
export type BillingConfig = ReturnType<typeof loadBillingConfig>;
