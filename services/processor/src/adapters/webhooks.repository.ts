import type { WebhookEventType } from '@masterpost/contracts';
import type { Pool } from '@masterpost/platform';

export interface DeliveryToSend {
  id: string;
  endpointId: string;
  userId: string;
  eventId: string;
  eventType: WebhookEventType;
  payload: Record<string, unknown>;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  url: string;
  /** Every secret that signs now: the current one, and a rotated one until its overlap ends. */
  secrets: string[];
  endpointDisabled: boolean;
  failingSince: Date | null;
}

/** The processor's reads and writes of webhook endpoints, deliveries and attempts. */
export class WebhookDeliveriesRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * One delivery per live endpoint of the seller that wants the event; an existing one (same
   * event) is kept. Answers the event's deliveries not tried yet, so a dispatch retried after it
   * made them still sends them (their queue entries are deduplicated by delivery id).
   */
  async createDeliveries(event: { eventId: string; type: WebhookEventType; userId: string; payload: Record<string, unknown> }): Promise<string[]> {
    await this.pool.query(
      `insert into webhook_deliveries (id, endpoint_id, user_id, event_id, event_type, payload)
       select gen_random_uuid(), e.id, e.user_id, $2, $3, $4 from webhook_endpoints e
        where e.user_id = $1 and e.disabled_at is null and $3 = any (e.events)
       on conflict (endpoint_id, event_id) do nothing`,
      [event.userId, event.eventId, event.type, JSON.stringify(event.payload)],
    );
    const { rows } = await this.pool.query<{ id: string }>(
      `select id from webhook_deliveries where user_id = $1 and event_id = $2 and status = 'pending' and attempts = 0`,
      [event.userId, event.eventId],
    );
    return rows.map((row) => row.id);
  }

  /** A picture's event content: ids, its name, what it cost, and why it failed. */
  async pictureEvent(imageId: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.pool.query<{ job_id: string; filename: string; status: string; credits_charged: number; error_code: string | null; error_message: string | null }>(
      'select job_id, filename, status, credits_charged, error_code, error_message from images where id = $1',
      [imageId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      picture_id: imageId, job_id: row.job_id, filename: row.filename, status: row.status, credits_charged: row.credits_charged,
      ...(row.status === 'done' ? { result_url: `/api/v1/images/${imageId}/result` } : { error: { code: row.error_code, message: row.error_message } }),
    };
  }

  /** A job's event content: its end and its counts. */
  async jobEvent(jobId: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.pool.query<{ status: string; total: string; delivered: string; credits_charged: string }>(
      `select j.status, count(i.id) as total, count(i.id) filter (where i.status = 'done') as delivered, coalesce(sum(i.credits_charged), 0) as credits_charged
         from jobs j left join images i on i.job_id = j.id where j.id = $1 group by j.id`,
      [jobId],
    );
    const row = rows[0];
    if (!row) return null;
    const total = Number(row.total);
    const delivered = Number(row.delivered);
    return { job_id: jobId, status: row.status, total, delivered, failed: total - delivered, credits_charged: Number(row.credits_charged), download_url: `/api/v1/download/${jobId}` };
  }

  /** An endpoint turned off: which, and why. */
  async endpointEvent(endpointId: string): Promise<Record<string, unknown> | null> {
    const { rows } = await this.pool.query<{ url: string; disabled_at: Date | null; disabled_reason: string | null }>(
      'select url, disabled_at, disabled_reason from webhook_endpoints where id = $1',
      [endpointId],
    );
    const row = rows[0];
    return row ? { endpoint_id: endpointId, url: row.url, disabled_at: row.disabled_at?.toISOString() ?? null, reason: row.disabled_reason } : null;
  }

  async load(deliveryId: string): Promise<DeliveryToSend | null> {
    const { rows } = await this.pool.query<{
      id: string; endpoint_id: string; user_id: string; event_id: string; event_type: WebhookEventType; payload: Record<string, unknown>;
      status: DeliveryToSend['status']; attempts: number; url: string; secret: string; previous_secret: string | null; previous_secret_until: Date | null;
      disabled_at: Date | null; failing_since: Date | null;
    }>(
      `select d.id, d.endpoint_id, d.user_id, d.event_id, d.event_type, d.payload, d.status, d.attempts,
              e.url, e.secret, e.previous_secret, e.previous_secret_until, e.disabled_at, e.failing_since
         from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id where d.id = $1`,
      [deliveryId],
    );
    const row = rows[0];
    if (!row) return null;
    const overlapping = row.previous_secret && row.previous_secret_until && row.previous_secret_until > new Date() ? [row.previous_secret] : [];
    return {
      id: row.id, endpointId: row.endpoint_id, userId: row.user_id, eventId: row.event_id, eventType: row.event_type, payload: row.payload,
      status: row.status, attempts: row.attempts, url: row.url, secrets: [row.secret, ...overlapping], endpointDisabled: row.disabled_at !== null,
      failingSince: row.failing_since,
    };
  }

  async recordAttempt(deliveryId: string, outcome: { status: number | null; error: string | null; latencyMs: number }): Promise<number> {
    const { rows } = await this.pool.query<{ attempts: number }>(
      `with next as (update webhook_deliveries set attempts = attempts + 1, last_status = $2, last_error = $3 where id = $1 returning attempts)
       insert into webhook_attempts (delivery_id, attempt, status, error, latency_ms) select $1, attempts, $2, $3, $4 from next returning attempt as attempts`,
      [deliveryId, outcome.status, outcome.error, outcome.latencyMs],
    );
    return rows[0]?.attempts ?? 0;
  }

  async markDelivered(delivery: DeliveryToSend): Promise<void> {
    await this.pool.query(`update webhook_deliveries set status = 'delivered', delivered_at = now() where id = $1`, [delivery.id]);
    await this.pool.query('update webhook_endpoints set failing_since = null where id = $1', [delivery.endpointId]);
  }

  /** The endpoint is failing from now, unless it already was. */
  async markFailing(endpointId: string): Promise<void> {
    await this.pool.query('update webhook_endpoints set failing_since = coalesce(failing_since, now()) where id = $1', [endpointId]);
  }

  async markFailed(deliveryId: string): Promise<void> {
    await this.pool.query(`update webhook_deliveries set status = 'failed' where id = $1 and status = 'pending'`, [deliveryId]);
  }

  /** Disabled once, with a notice for the seller (an email waiting to be sent). */
  async disable(endpointId: string, reason: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ user_id: string; url: string }>(
      `update webhook_endpoints set disabled_at = now(), disabled_reason = $2 where id = $1 and disabled_at is null returning user_id, url`,
      [endpointId, reason],
    );
    const endpoint = rows[0];
    if (!endpoint) return false;
    await this.pool.query(
      `insert into notices (id, user_id, kind, subject, body) values (gen_random_uuid(), $1, 'webhook_disabled', $2, $3)`,
      [endpoint.user_id, 'A webhook endpoint was turned off', `Deliveries to ${endpoint.url} kept failing (${reason}), so it was turned off. Fix it, then turn it on again with POST /api/v1/webhooks/${endpointId}/enable; the deliveries it missed are listed there and can be sent again.`],
    );
    return true;
  }
}
