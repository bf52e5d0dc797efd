import type { WebhookDelivery, WebhookEndpoint, WebhookEventType } from '@masterpost/contracts';
import type { Pool } from '@masterpost/platform';

interface EndpointRow {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string;
  created_at: Date;
  previous_secret_until: Date | null;
  failing_since: Date | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

const ENDPOINT_COLUMNS = 'id, url, events, description, created_at, previous_secret_until, failing_since, disabled_at, disabled_reason';
const iso = (value: Date | null) => value?.toISOString() ?? null;

function endpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    created_at: row.created_at.toISOString(),
    previous_secret_valid_until: row.previous_secret_until && row.previous_secret_until > new Date() ? row.previous_secret_until.toISOString() : null,
    failing_since: iso(row.failing_since),
    disabled_at: iso(row.disabled_at),
    disabled_reason: row.disabled_reason,
  };
}

/** A seller's webhook endpoints and their deliveries; every read and write is scoped to the seller. */
export class WebhooksRepository {
  constructor(private readonly pool: Pool) {}

  async create(input: { id: string; userId: string; url: string; events: WebhookEventType[]; description: string; secret: string }): Promise<WebhookEndpoint> {
    const { rows } = await this.pool.query<EndpointRow>(
      `insert into webhook_endpoints (id, user_id, url, events, description, secret) values ($1, $2, $3, $4, $5, $6) returning ${ENDPOINT_COLUMNS}`,
      [input.id, input.userId, input.url, input.events, input.description, input.secret],
    );
    return endpoint(rows[0]!);
  }

  async list(userId: string): Promise<WebhookEndpoint[]> {
    const { rows } = await this.pool.query<EndpointRow>(`select ${ENDPOINT_COLUMNS} from webhook_endpoints where user_id = $1 order by created_at`, [userId]);
    return rows.map(endpoint);
  }

  async countLive(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>('select count(*) from webhook_endpoints where user_id = $1 and disabled_at is null', [userId]);
    return Number(rows[0]?.count ?? 0);
  }

  async remove(id: string, userId: string): Promise<WebhookEndpoint | null> {
    const { rows } = await this.pool.query<EndpointRow>(`delete from webhook_endpoints where id = $1 and user_id = $2 returning ${ENDPOINT_COLUMNS}`, [id, userId]);
    return rows[0] ? endpoint(rows[0]) : null;
  }

  /** The new secret signs from now on; the old one also until `until`. */
  async rotate(id: string, userId: string, secret: string, until: Date): Promise<WebhookEndpoint | null> {
    const { rows } = await this.pool.query<EndpointRow>(
      `update webhook_endpoints set previous_secret = secret, previous_secret_until = $4, secret = $3
        where id = $1 and user_id = $2 returning ${ENDPOINT_COLUMNS}`,
      [id, userId, secret, until],
    );
    return rows[0] ? endpoint(rows[0]) : null;
  }

  async enable(id: string, userId: string): Promise<WebhookEndpoint | null> {
    const { rows } = await this.pool.query<EndpointRow>(
      `update webhook_endpoints set disabled_at = null, disabled_reason = null, failing_since = null
        where id = $1 and user_id = $2 returning ${ENDPOINT_COLUMNS}`,
      [id, userId],
    );
    return rows[0] ? endpoint(rows[0]) : null;
  }

  async owns(endpointId: string, userId: string): Promise<boolean> {
    const { rows } = await this.pool.query('select 1 from webhook_endpoints where id = $1 and user_id = $2', [endpointId, userId]);
    return rows.length > 0;
  }

  async deliveries(endpointId: string, userId: string, limit: number, deliveryId?: string): Promise<WebhookDelivery[]> {
    const { rows } = await this.pool.query<{
      id: string; event_id: string; event_type: WebhookEventType; status: WebhookDelivery['status']; created_at: Date; delivered_at: Date | null;
      payload: Record<string, unknown>; attempts: Array<{ attempt: number; status: number | null; error: string | null; latency_ms: number; at: string }> | null;
    }>(
      `select d.id, d.event_id, d.event_type, d.status, d.created_at, d.delivered_at, d.payload,
              (select json_agg(json_build_object('attempt', a.attempt, 'status', a.status, 'error', a.error, 'latency_ms', a.latency_ms, 'at', a.at) order by a.attempt)
                 from webhook_attempts a where a.delivery_id = d.id) as attempts
         from webhook_deliveries d
        where d.endpoint_id = $1 and d.user_id = $2 and ($4::uuid is null or d.id = $4)
        order by d.created_at desc limit $3`,
      [endpointId, userId, limit, deliveryId ?? null],
    );
    return rows.map((row) => ({
      id: row.id,
      event_id: row.event_id,
      event_type: row.event_type,
      status: row.status,
      attempts: (row.attempts ?? []).map((attempt) => ({ ...attempt, at: new Date(attempt.at).toISOString() })),
      created_at: row.created_at.toISOString(),
      delivered_at: iso(row.delivered_at),
      payload: row.payload,
    }));
  }

  /**
   * A delivery sent again: pending, with its event id kept. Only one that has ended (delivered or
   * failed): one still being tried is not started a second time.
   */
  async markForRedelivery(deliveryId: string, endpointId: string, userId: string): Promise<'queued' | 'in_progress' | 'missing'> {
    const { rows } = await this.pool.query<{ status: string; updated: boolean }>(
      `with target as (select id, status from webhook_deliveries where id = $1 and endpoint_id = $2 and user_id = $3),
            changed as (update webhook_deliveries d set status = 'pending' from target
                         where d.id = target.id and target.status <> 'pending' returning d.id)
       select target.status, exists (select 1 from changed) as updated from target`,
      [deliveryId, endpointId, userId],
    );
    const row = rows[0];
    return !row ? 'missing' : row.updated ? 'queued' : 'in_progress';
  }
}
