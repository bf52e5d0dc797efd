import type { Pool } from '@masterpost/platform';

export interface PictureBacklog {
  waiting: number;
  oldestSeconds: number;
}

export interface WebhookEndpointHealth {
  enabled: number;
  /** Endpoints turned on whose run of failures began more than an hour / a day ago. */
  failingOverHour: number;
  failingOverDay: number;
}

/**
 * The fleet-wide figures the alerts read, from PostgreSQL rather than from BullMQ's lists: a
 * picture waiting out a provider pause or a retry sits in BullMQ's delayed set, and it waits all
 * the same as far as the seller can tell.
 */
export class FleetMetricsRepository {
  constructor(private readonly pool: Pool) {}

  async pictureBacklog(): Promise<PictureBacklog> {
    const { rows } = await this.pool.query<{ waiting: number; oldest: number }>(
      `select count(*)::int as waiting, coalesce(extract(epoch from now() - min(j.queued_at)), 0)::float8 as oldest
         from jobs j join images i on i.job_id = j.id
        where j.status in ('queued', 'processing') and j.queued_at is not null and i.status in ('pending', 'processing')`,
    );
    return { waiting: rows[0]?.waiting ?? 0, oldestSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
  }

  async webhookEndpoints(): Promise<WebhookEndpointHealth> {
    const { rows } = await this.pool.query<{ enabled: number; hour: number; day: number }>(
      `select count(*)::int as enabled,
              count(*) filter (where failing_since < now() - interval '1 hour')::int as hour,
              count(*) filter (where failing_since < now() - interval '1 day')::int as day
         from webhook_endpoints where disabled_at is null`,
    );
    return { enabled: rows[0]?.enabled ?? 0, failingOverHour: rows[0]?.hour ?? 0, failingOverDay: rows[0]?.day ?? 0 };
  }
}
