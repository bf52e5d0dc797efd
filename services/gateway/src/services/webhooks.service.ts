import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode, isUuid, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from '@masterpost/contracts';
import { checkWebhookTarget, newWebhookSecret, WebhookTargetError } from '@masterpost/platform';
import type { QueueAdapter } from '../adapters/queue.adapter';
import type { WebhooksRepository } from '../adapters/webhooks.repository';

const ENDPOINTS_PER_SELLER = 20;

/**
 * A seller's webhook endpoints: registered (the URL checked against SSRF, the secret shown once),
 * listed, removed, their secret rotated with an overlap, re-enabled, their deliveries listed and
 * sent again. Deliveries themselves are the processor's (services/processor/src/webhooks).
 */
export class WebhooksService {
  constructor(private readonly deps: { webhooks: WebhooksRepository; queue: QueueAdapter; allowedHosts: string[] }) {}

  async create(userId: string, request: { url: string; events: WebhookEventType[]; description: string }): Promise<WebhookEndpoint & { secret: string }> {
    await this.checkUrl(request.url);
    if ((await this.deps.webhooks.countLive(userId)) >= ENDPOINTS_PER_SELLER) {
      throw new AppError(400, ErrorCode.InvalidInput, `a seller may have ${ENDPOINTS_PER_SELLER} endpoints; remove one first`, { field: 'url' });
    }
    const secret = newWebhookSecret();
    const created = await this.deps.webhooks.create({ id: randomUUID(), userId, url: request.url, events: [...new Set(request.events)], description: request.description, secret });
    return { ...created, secret };
  }

  async list(userId: string): Promise<{ endpoints: WebhookEndpoint[] }> {
    return { endpoints: await this.deps.webhooks.list(userId) };
  }

  async remove(userId: string, endpointId: string): Promise<WebhookEndpoint> {
    return this.found(isUuid(endpointId) ? await this.deps.webhooks.remove(endpointId, userId) : null);
  }

  async rotateSecret(userId: string, endpointId: string, overlapSeconds: number): Promise<{ secret: string; previous_secret_valid_until: string | null }> {
    const secret = newWebhookSecret();
    const until = new Date(Date.now() + overlapSeconds * 1000);
    const rotated = this.found(isUuid(endpointId) ? await this.deps.webhooks.rotate(endpointId, userId, secret, until) : null);
    return { secret, previous_secret_valid_until: rotated.previous_secret_valid_until };
  }

  async enable(userId: string, endpointId: string): Promise<WebhookEndpoint> {
    return this.found(isUuid(endpointId) ? await this.deps.webhooks.enable(endpointId, userId) : null);
  }

  async deliveries(userId: string, endpointId: string): Promise<{ deliveries: WebhookDelivery[] }> {
    if (!isUuid(endpointId) || !(await this.deps.webhooks.owns(endpointId, userId))) throw new AppError(404, ErrorCode.NotFound, 'no such endpoint');
    return { deliveries: await this.deps.webhooks.deliveries(endpointId, userId, 100) };
  }

  async redeliver(userId: string, endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const marked = isUuid(endpointId) && isUuid(deliveryId) ? await this.deps.webhooks.markForRedelivery(deliveryId, endpointId, userId) : 'missing';
    if (marked === 'missing') throw new AppError(404, ErrorCode.NotFound, 'no such delivery');
    if (marked === 'in_progress') throw new AppError(409, ErrorCode.RequestInProgress, 'this delivery is still being tried; send it again once it has ended');
    await this.deps.queue.redeliver(deliveryId);
    const [delivery] = await this.deps.webhooks.deliveries(endpointId, userId, 1, deliveryId);
    return delivery!;
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await checkWebhookTarget(url, this.deps.allowedHosts);
    } catch (error) {
      if (error instanceof WebhookTargetError) throw new AppError(400, ErrorCode.InvalidInput, error.message, { field: 'url' });
      throw error;
    }
  }

  private found(endpoint: WebhookEndpoint | null): WebhookEndpoint {
    if (!endpoint) throw new AppError(404, ErrorCode.NotFound, 'no such endpoint');
    return endpoint;
  }
}
