import { Gauge, type Registry } from 'prom-client';
import type { Pool } from '@masterpost/platform';

/**
 * The ledger's state as gauges, read from PostgreSQL when /metrics is scraped: what is reserved
 * now, and the holds the expiry sweeper should have released already. A hold past its time to
 * live by more than a few sweeps means the sweeper is not running (or not keeping up) and
 * sellers' credits stay blocked.
 */
export function ledgerGauges(registry: Registry, pool: Pool, settings: { sweepIntervalMs: number }) {
  const holdsOpen = new Gauge({ name: 'credit_holds_open', help: 'Active credit holds (reservations of running jobs)', registers: [registry] });
  const creditsReserved = new Gauge({ name: 'credits_reserved', help: 'Credits the active holds still reserve', registers: [registry] });
  const pastTtl = new Gauge({
    name: 'credit_holds_past_ttl',
    help: 'Active holds whose time to live ended more than three sweep intervals ago (the sweeper should have released them)',
    registers: [registry],
  });
  // Three intervals of grace: one sweep may be running late without anything being wrong.
  const graceSeconds = (3 * settings.sweepIntervalMs) / 1000;
  return async (): Promise<void> => {
    const { rows } = await pool.query<{ open: number; reserved: string; past_ttl: number }>(
      `select count(*)::int as open, coalesce(sum(remaining), 0)::text as reserved,
              count(*) filter (where expires_at < now() - make_interval(secs => $1))::int as past_ttl
         from credit_holds where status = 'active'`,
      [graceSeconds],
    );
    holdsOpen.set(rows[0]?.open ?? 0);
    creditsReserved.set(Number(rows[0]?.reserved ?? 0));
    pastTtl.set(rows[0]?.past_ttl ?? 0);
  };
}
