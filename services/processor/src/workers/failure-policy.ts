import { BillingUnavailableError } from '@masterpost/platform';
import { PermanentImageError } from '../image-errors';
import { FleetPausedError } from '../qwen/fleet-gate';
import { TwinInFlightError } from '../qwen/qwen-output.service';
import { ACCOUNT_STATE_CODES, QwenError } from '../qwen/qwen.errors';

/**
 * What becomes of a picture whose attempt threw: the one place that reads an error and decides,
 * kept apart from the queue mechanics that carry the decision out (workers.ts, image-failures.ts), so every rule is
 * a line here and a case in its spec.
 * - fail: the picture fails now, uncharged, with a message the seller understands.
 * - pause: the AI provider refuses our account or configuration (or the fleet is paused): the
 *   picture waits without using an attempt; `provider` says what to record and for how long.
 * - wait: a condition that passes by itself (billing not answering, an identical photo's call
 *   under way): the picture waits without using an attempt.
 * - throttle: a 429 rate limit: the whole fleet cools down, the picture goes back without using
 *   an attempt, up to a cap of throttled tries.
 * - retry: anything else: BullMQ retries with backoff; the last attempt fails the picture.
 */
export type FailureDecision =
  | { action: 'fail'; code: string; message: string }
  | { action: 'pause'; provider: { code: string; reason: string; accountState: boolean } | null }
  | { action: 'wait'; ms: number; why: 'billing' | 'twin' }
  | { action: 'throttle' }
  | { action: 'retry'; lastAttemptMessage: string };

export const BILLING_RETRY_MS = 5_000;
export const TWIN_WAIT_MS = 2_000;

export function decideOnFailure(error: unknown): FailureDecision {
  if (error instanceof PermanentImageError) return { action: 'fail', code: error.code, message: error.message };
  if (error instanceof FleetPausedError) return { action: 'pause', provider: null };
  if (error instanceof BillingUnavailableError) return { action: 'wait', ms: BILLING_RETRY_MS, why: 'billing' };
  if (error instanceof TwinInFlightError) return { action: 'wait', ms: TWIN_WAIT_MS, why: 'twin' };
  if (error instanceof QwenError) {
    switch (error.kind) {
      case 'pause':
        return { action: 'pause', provider: { code: error.code, reason: `${error.code}: ${error.message}`, accountState: ACCOUNT_STATE_CODES.has(error.code) } };
      case 'throttle':
        return { action: 'throttle' };
      case 'fail':
      case 'shrink':
        return { action: 'fail', code: error.code === 'DataInspectionFailed' ? 'content_refused' : 'provider_refused', message: error.sellerMessage };
      case 'retry':
        return { action: 'retry', lastAttemptMessage: error.sellerMessage };
    }
  }
  return { action: 'retry', lastAttemptMessage: 'This photo could not be processed. It was not charged.' };
}
