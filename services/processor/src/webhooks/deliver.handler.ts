import { UnrecoverableError } from 'bullmq';
import type { JobName, JobResult, WebhookDeliverPayload } from '@masterpost/contracts';
import { checkWebhookTarget, webhookHeaders, WebhookTargetError, type Logger } from '@masterpost/platform';
import type { DeliveryToSend, WebhookDeliveriesRepository } from '../adapters/webhooks.repository';
import type { SellerNotices } from '../mail/seller-notices';
import { sendWebhook } from './send-webhook';
import type { WebhookEvents } from './webhook-events';

export interface DeliverSettings {
  allowedHosts: string[];
  timeoutMs: number;
  /** An endpoint that has failed for this long, and fails a delivery for good, is turned off. */
  disableAfterMs: number;
}

/** Answers worth trying again: no answer at all, a timeout (408), too many requests (429), or a 5xx. */
export function isRetryableAnswer(status: number | null): boolean {
  return status === null || status === 408 || status === 429 || status >= 500;
}

export class DeliveryFailedError extends Error {}

/**
 * WebhookDeliver: one event to one endpoint, signed with every secret in use, the URL checked
 * again against SSRF, every attempt recorded with its status and latency. A retryable failure
 * throws for BullMQ's backoff; a refusal (another 4xx, a URL now inside a network) ends it.
 * `finalAttempt` says whether BullMQ will try again, so the last failure ends the delivery.
 */
export class WebhookDeliverHandler {
  constructor(private readonly deps: { deliveries: WebhookDeliveriesRepository; settings: DeliverSettings; logger: Logger; events?: WebhookEvents; notices?: SellerNotices }) {}

  async handle({ deliveryId }: WebhookDeliverPayload, finalAttempt: boolean): Promise<JobResult<typeof JobName.WebhookDeliver>> {
    const { deliveries, settings } = this.deps;
    const delivery = await deliveries.load(deliveryId);
    // Removed, or already delivered (a redelivery then a late retry): nothing to send.
    if (!delivery || delivery.status === 'delivered') return { status: null };
    if (delivery.endpointDisabled) {
      // Kept as failed, so the seller can send it again once the endpoint is on.
      await deliveries.markFailed(delivery.id);
      return { status: null };
    }

    let target;
    try {
      target = await checkWebhookTarget(delivery.url, settings.allowedHosts);
    } catch (error) {
      if (!(error instanceof WebhookTargetError)) throw error;
      await deliveries.recordAttempt(deliveryId, { status: null, error: error.message, latencyMs: 0 });
      // A name that did not resolve now may later; one that resolves inside a network is refused.
      await this.fail(delivery, error.message, !error.temporary || finalAttempt);
      if (error.temporary) throw new DeliveryFailedError(error.message);
      throw new UnrecoverableError(error.message);
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify(delivery.payload);
    const outcome = await sendWebhook(target, webhookHeaders(delivery.secrets, delivery.eventId, timestamp, body), body, settings.timeoutMs);
    await deliveries.recordAttempt(deliveryId, outcome);
    this.deps.logger.info({ deliveryId, eventId: delivery.eventId, status: outcome.status, latencyMs: outcome.latencyMs, error: outcome.error }, 'webhook attempt');

    if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) {
      await deliveries.markDelivered(delivery);
      return { status: outcome.status };
    }
    const reason = outcome.error ?? `answered ${outcome.status}`;
    const retryable = isRetryableAnswer(outcome.status);
    await this.fail(delivery, reason, !retryable || finalAttempt);
    if (!retryable) throw new UnrecoverableError(`the endpoint refused the delivery: ${reason}`);
    throw new DeliveryFailedError(reason);
  }

  private async fail(delivery: DeliveryToSend, reason: string, forGood: boolean): Promise<void> {
    const { deliveries, settings } = this.deps;
    const { endpointId, failingSince } = delivery;
    await deliveries.markFailing(endpointId);
    if (!forGood) return;
    await deliveries.markFailed(delivery.id);
    if (failingSince && Date.now() - failingSince.getTime() >= settings.disableAfterMs && (await deliveries.disable(endpointId, reason))) {
      this.deps.logger.warn({ endpointId, reason }, 'a webhook endpoint failing for days was turned off; the seller has a notice');
      // The seller's other endpoints hear of it, as they hear of low credits.
      await this.deps.events?.announce('endpoint.disabled', delivery.userId, endpointId, endpointId);
      await this.deps.notices?.endpointDisabled(delivery.userId, { id: endpointId, url: delivery.url, reason });
    }
  }
}
