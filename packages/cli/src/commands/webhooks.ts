import type { Schemas } from '@masterpost/client';
import { webhookEventTypes, type WebhookEventType } from '@masterpost/contracts';
import { ExitCode, usageError } from '../exit-codes';
import { failure, reach, signedIn } from '../gateway';
import { print } from '../output';

/**
 * `masterpost webhooks ...`: the seller's completion-webhook endpoints (where the gateway POSTs
 * job.completed, picture.failed, ... signed with the endpoint's secret), managed from a terminal
 * instead of the web page. Each subcommand is one request; an error answer (a refused URL, no
 * such endpoint, a delivery still being tried) is printed as the gateway says it and ends with
 * exit 2 (failure() keeps 3 for the gateway's own faults, which a retry may cure).
 */
type Endpoint = Schemas['WebhookEndpoint'];
type Delivery = Schemas['WebhookDelivery'];

interface UrlOption {
  url?: string;
}

export async function listWebhooks(options: UrlOption): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () => connection.client.GET('/api/v1/webhooks'));
  if (!answer.data) throw failure('listing the webhook endpoints', connection, answer);
  const { endpoints } = answer.data;
  if (endpoints.length === 0) {
    print('No webhook endpoints. Add one with: masterpost webhooks add <url> --events job.completed');
    return ExitCode.Delivered;
  }
  for (const endpoint of endpoints) for (const line of describeEndpoint(endpoint)) print(line);
  return ExitCode.Delivered;
}

export async function addWebhook(url: string, options: UrlOption & { events: string; description?: string }): Promise<ExitCode> {
  const events = eventsIn(options.events);
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () =>
    connection.client.POST('/api/v1/webhooks', { body: { url, events, description: options.description ?? '' } }),
  );
  // The gateway's message names what it refused (the URL's address, an unknown event), so the URL is not repeated here.
  if (!answer.data) throw failure('adding the endpoint', connection, answer);
  const { secret, ...endpoint } = answer.data;
  print(`Added endpoint ${endpoint.id}`);
  for (const line of describeEndpoint(endpoint).slice(1)) print(line);
  // The gateway keeps only what signs; this is the one time the secret can be read.
  print(`  signing secret: ${secret}`);
  print('  It is shown this once: keep it where your receiver can read it, to check each delivery\'s signature.');
  return ExitCode.Delivered;
}

export async function removeWebhook(endpointId: string, options: UrlOption): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () => connection.client.DELETE('/api/v1/webhooks/{endpointId}', { params: { path: { endpointId } } }));
  if (!answer.data) throw failure(`removing endpoint ${endpointId}`, connection, answer);
  print(`Removed endpoint ${answer.data.id} (${answer.data.url}); nothing more is sent to it.`);
  return ExitCode.Delivered;
}

export async function rotateWebhookSecret(endpointId: string, options: UrlOption & { overlap?: string }): Promise<ExitCode> {
  const overlap = options.overlap === undefined ? undefined : overlapSeconds(options.overlap);
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () =>
    connection.client.POST('/api/v1/webhooks/{endpointId}/rotate-secret', {
      params: { path: { endpointId } },
      // The document marks the field required (its default is a day), so the default is sent as such.
      body: { overlap_seconds: overlap ?? DEFAULT_OVERLAP_SECONDS },
    }),
  );
  if (!answer.data) throw failure(`rotating the secret of endpoint ${endpointId}`, connection, answer);
  const { secret, previous_secret_valid_until: until } = answer.data;
  print(`New signing secret of endpoint ${endpointId}: ${secret}`);
  print('It is shown this once.');
  // Both secrets sign every delivery until then, so the receiver can be switched over without missing one.
  print(until ? `The old secret still signs deliveries (beside the new one) until ${until}.` : 'The old secret no longer signs: deliveries are signed with the new one only.');
  return ExitCode.Delivered;
}

export async function enableWebhook(endpointId: string, options: UrlOption): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () => connection.client.POST('/api/v1/webhooks/{endpointId}/enable', { params: { path: { endpointId } } }));
  if (!answer.data) throw failure(`enabling endpoint ${endpointId}`, connection, answer);
  print(`Endpoint ${answer.data.id} (${answer.data.url}) is enabled: events are delivered to it again.`);
  return ExitCode.Delivered;
}

export async function listDeliveries(endpointId: string, options: UrlOption): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () => connection.client.GET('/api/v1/webhooks/{endpointId}/deliveries', { params: { path: { endpointId } } }));
  if (!answer.data) throw failure(`reading the deliveries of endpoint ${endpointId}`, connection, answer);
  const { deliveries } = answer.data;
  if (deliveries.length === 0) {
    print(`No deliveries to endpoint ${endpointId} yet.`);
    return ExitCode.Delivered;
  }
  print(`Recent deliveries to endpoint ${endpointId}, newest first:`);
  for (const delivery of deliveries) for (const line of describeDelivery(delivery)) print(line);
  return ExitCode.Delivered;
}

export async function redeliver(endpointId: string, deliveryId: string, options: UrlOption): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () =>
    connection.client.POST('/api/v1/webhooks/{endpointId}/deliveries/{deliveryId}/redeliver', { params: { path: { endpointId, deliveryId } } }),
  );
  if (!answer.data) throw failure(`redelivering ${deliveryId}`, connection, answer);
  const delivery = answer.data;
  print(`Delivery ${delivery.id} (${delivery.event_type} ${delivery.event_id}) is queued to be sent again, with the same event id.`);
  print(`See how it went with: masterpost webhooks deliveries ${endpointId}`);
  return ExitCode.Delivered;
}

/** `job.completed,picture.failed`: checked here, so a typo is named with the choices rather than sent. */
function eventsIn(list: string): WebhookEventType[] {
  const names = list.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) throw usageError(`--events needs at least one of ${webhookEventTypes.join(', ')}`);
  const unknown = names.filter((name) => !(webhookEventTypes as readonly string[]).includes(name));
  if (unknown.length) throw usageError(`unknown event${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}: choose from ${webhookEventTypes.join(', ')}`);
  return [...new Set(names)] as WebhookEventType[];
}

/** The gateway's limit on the overlap: whole seconds up to a week; a day unless told. */
const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;
const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

function overlapSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || seconds > MAX_OVERLAP_SECONDS) throw usageError(`--overlap takes whole seconds from 0 to ${MAX_OVERLAP_SECONDS} (a week), not "${value}"`);
  return seconds;
}

function describeEndpoint(endpoint: Endpoint): string[] {
  const lines = [`${endpoint.id}  ${endpoint.url}`, `  events: ${endpoint.events.join(', ')}`];
  if (endpoint.description) lines.push(`  description: ${endpoint.description}`);
  if (endpoint.disabled_at) {
    lines.push(`  DISABLED since ${endpoint.disabled_at}${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}; turn it on again with: masterpost webhooks enable ${endpoint.id}`);
  } else if (endpoint.failing_since) {
    lines.push(`  failing since ${endpoint.failing_since}: deliveries are being retried`);
  }
  if (endpoint.previous_secret_valid_until) lines.push(`  the previous secret signs too until ${endpoint.previous_secret_valid_until}`);
  lines.push(`  created ${endpoint.created_at}`);
  return lines;
}

function describeDelivery(delivery: Delivery): string[] {
  const lines = [`${delivery.id}  ${delivery.event_type}  ${delivery.event_id}  ${delivery.status}${delivery.delivered_at ? ` at ${delivery.delivered_at}` : ''}`];
  if (delivery.attempts.length === 0) lines.push('  not tried yet');
  for (const attempt of delivery.attempts) {
    const outcome = attempt.status !== null ? `HTTP ${attempt.status}` : `no answer${attempt.error ? ` (${attempt.error})` : ''}`;
    lines.push(`  attempt ${attempt.attempt}: ${outcome} in ${attempt.latency_ms} ms, ${attempt.at}${attempt.status !== null && attempt.error ? ` (${attempt.error})` : ''}`);
  }
  return lines;
}
