import { useState, type FormEvent } from 'react';
import { messageOf, unwrap, type Schemas } from '../api/client';
import { dateTime } from '../components/format';
import { Empty, ErrorNote, Loaded } from '../components/status';
import { useSignedIn } from '../state/session';
import { useAsync } from '../state/use-async';

type EventType = Schemas['WebhookEndpointCreateRequest']['events'][number];
// The catalog does not list the events; a record keyed by the contract's type fails the build when one is added.
const EVENTS: Record<EventType, string> = {
  'job.completed': 'a job ended',
  'job.failed': 'a job failed',
  'picture.done': 'a picture is ready',
  'picture.failed': 'a picture failed',
  'credits.low': 'credits are running low',
  'endpoint.disabled': 'an endpoint was turned off',
};

// The document marks defaulted fields required, so the API's default overlap (a day) is spelled here.
const OLD_SECRET_OVERLAP_SECONDS = 24 * 3600;

/** API keys and webhooks: every secret shown once, when it is made. */
export function DevelopersScreen() {
  return (
    <main>
      <h1>Developers</h1>
      <p className="muted">
        Keys let your shop’s code use Masterpost (<a href="/docs">API reference</a>); webhooks tell it when pictures are ready.
      </p>
      <Keys />
      <Webhooks />
    </main>
  );
}

function Keys() {
  const { api } = useSignedIn();
  const keys = useAsync(async () => unwrap(await api.GET('/api/v1/keys'), 'loading your keys').keys, [api]);
  const [made, setMade] = useState<{ text: string; error: boolean } | null>(null);

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const name = String(new FormData(form).get('name') ?? '');
    try {
      const key = unwrap(await api.POST('/api/v1/keys', { body: { name } }), 'making the key');
      setMade({ text: `Your new key (shown only now): ${key.key}`, error: false });
      form.reset();
      keys.reload();
    } catch (error) {
      setMade({ text: messageOf(error), error: true });
    }
  };
  const revoke = async (keyId: string) => {
    try {
      unwrap(await api.DELETE('/api/v1/keys/{keyId}', { params: { path: { keyId } } }), 'revoking the key');
      keys.reload();
    } catch (error) {
      setMade({ text: messageOf(error), error: true });
    }
  };

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form onSubmit={(event) => void create(event)} className="inline-form">
        <label>
          Key name
          <input name="name" placeholder="e.g. shop sync" maxLength={100} required id="key-name" />
        </label>
        <button type="submit" id="key-create">
          Create key
        </button>
      </form>
      {made && (
        <p className={made.error ? 'error' : 'secret'} role={made.error ? 'alert' : 'status'} id="key-made">
          {made.text}
        </p>
      )}
      <Loaded state={keys} what="your keys">
        {(list) =>
          list.length === 0 ? (
            <Empty>No keys yet.</Empty>
          ) : (
            <div className="table-scroll">
              <table id="keys">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Key</th>
                    <th scope="col">Last used</th>
                    <th scope="col">State</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((key) => (
                    <tr key={key.id}>
                      <td>{key.name}</td>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>{key.last_used_at ? dateTime(key.last_used_at) : 'never'}</td>
                      <td>{key.revoked_at ? 'revoked' : 'active'}</td>
                      <td>
                        {!key.revoked_at && (
                          <button type="button" onClick={() => void revoke(key.id)} aria-label={`Revoke ${key.name}`}>
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </section>
  );
}

function Webhooks() {
  const { api } = useSignedIn();
  const hooks = useAsync(async () => unwrap(await api.GET('/api/v1/webhooks'), 'loading your webhooks').endpoints, [api]);
  const [events, setEvents] = useState<EventType[]>(['job.completed']);
  const [made, setMade] = useState<{ text: string; error: boolean } | null>(null);
  const [deliveriesOf, setDeliveriesOf] = useState<string | null>(null);

  const act = async (work: () => Promise<string | null>) => {
    try {
      const text = await work();
      if (text) setMade({ text, error: false });
      hooks.reload();
    } catch (error) {
      setMade({ text: messageOf(error), error: true });
    }
  };
  const add = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const url = String(new FormData(form).get('url') ?? '');
    void act(async () => {
      const hook = unwrap(await api.POST('/api/v1/webhooks', { body: { url, events, description: '' } }), 'adding the webhook');
      form.reset();
      return `Signing secret (shown only now): ${hook.secret}`;
    });
  };
  const path = (endpointId: string) => ({ params: { path: { endpointId } } });

  return (
    <section aria-labelledby="hooks-title">
      <h2 id="hooks-title">Webhooks</h2>
      <form onSubmit={add} className="inline-form">
        <label>
          Endpoint URL
          <input name="url" type="url" placeholder="https://your-shop.example/masterpost" required id="hook-url" />
        </label>
        <fieldset>
          <legend>Events</legend>
          {(Object.keys(EVENTS) as EventType[]).map((type) => (
            <label key={type} className="inline" title={EVENTS[type]}>
              <input
                type="checkbox"
                checked={events.includes(type)}
                onChange={(event) => setEvents((current) => (event.target.checked ? [...current, type] : current.filter((other) => other !== type)))}
              />{' '}
              {type}
            </label>
          ))}
        </fieldset>
        <button type="submit" id="hook-add" disabled={events.length === 0}>
          Add webhook
        </button>
      </form>
      {made && (
        <p className={made.error ? 'error' : 'secret'} role={made.error ? 'alert' : 'status'} id="hook-made">
          {made.text}
        </p>
      )}
      <Loaded state={hooks} what="your webhooks">
        {(list) =>
          list.length === 0 ? (
            <Empty>No webhooks yet.</Empty>
          ) : (
            <ul className="hooks" id="hooks">
              {list.map((hook) => (
                <li key={hook.id}>
                  <p>
                    <code>{hook.url}</code> <span className="muted">{hook.events.join(', ')}</span>{' '}
                    {hook.disabled_at ? <span className="error">off: {hook.disabled_reason}</span> : <span className="success">on</span>}
                  </p>
                  <div className="actions">
                    <button type="button" onClick={() => setDeliveriesOf(deliveriesOf === hook.id ? null : hook.id)} aria-expanded={deliveriesOf === hook.id}>
                      Deliveries
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        void act(async () => {
                          const rotated = unwrap(await api.POST('/api/v1/webhooks/{endpointId}/rotate-secret', { ...path(hook.id), body: { overlap_seconds: OLD_SECRET_OVERLAP_SECONDS } }), 'making a new secret');
                          const until = rotated.previous_secret_valid_until ? dateTime(rotated.previous_secret_valid_until) : 'now';
                          return `New signing secret (shown only now): ${rotated.secret}; the old one also signs until ${until}`;
                        })
                      }
                    >
                      New secret
                    </button>
                    {hook.disabled_at && (
                      <button type="button" onClick={() => void act(async () => (unwrap(await api.POST('/api/v1/webhooks/{endpointId}/enable', path(hook.id)), 'turning it on'), null))}>
                        Turn on
                      </button>
                    )}
                    <button type="button" onClick={() => void act(async () => (unwrap(await api.DELETE('/api/v1/webhooks/{endpointId}', path(hook.id)), 'removing it'), null))}>
                      Remove
                    </button>
                  </div>
                  {deliveriesOf === hook.id && <Deliveries endpointId={hook.id} />}
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}

function Deliveries({ endpointId }: { endpointId: string }) {
  const { api } = useSignedIn();
  const deliveries = useAsync(
    async () => unwrap(await api.GET('/api/v1/webhooks/{endpointId}/deliveries', { params: { path: { endpointId } } }), 'loading the deliveries').deliveries,
    [api, endpointId],
  );
  const [error, setError] = useState<string | null>(null);
  const redeliver = async (deliveryId: string) => {
    try {
      unwrap(await api.POST('/api/v1/webhooks/{endpointId}/deliveries/{deliveryId}/redeliver', { params: { path: { endpointId, deliveryId } } }), 'sending again');
      deliveries.reload();
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  return (
    <div className="deliveries">
      {error && <ErrorNote message={error} />}
      <Loaded state={deliveries} what="the deliveries">
        {(list) =>
          list.length === 0 ? (
            <Empty>Nothing sent yet.</Empty>
          ) : (
            <div className="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">State</th>
                    <th scope="col">Last attempt</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((delivery) => {
                    const last = delivery.attempts[delivery.attempts.length - 1];
                    return (
                      <tr key={delivery.id}>
                        <td>{delivery.event_type}</td>
                        <td>
                          {delivery.status} ({delivery.attempts.length} attempt{delivery.attempts.length === 1 ? '' : 's'})
                        </td>
                        <td>{last ? `${last.status ?? last.error ?? ''} in ${last.latency_ms} ms, ${dateTime(last.at)}` : '—'}</td>
                        <td>
                          {delivery.status !== 'pending' && (
                            <button type="button" onClick={() => void redeliver(delivery.id)}>
                              Send again
                            </button>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </div>
  );
}
