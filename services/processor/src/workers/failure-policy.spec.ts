import { BillingUnavailableError } from '@masterpost/platform';
import { decideOnFailure } from './failure-policy';
import { PermanentImageError } from '../image-errors';
import { FleetPausedError } from '../qwen/fleet-gate';
import { TwinInFlightError } from '../qwen/qwen-output.service';
import { QwenError } from '../qwen/qwen.errors';

/** Every kind of failure a picture's attempt can end in, and what becomes of the picture. */
describe('decideOnFailure', () => {
  test('a photo we cannot use fails at once, with its own message', () => {
    expect(decideOnFailure(new PermanentImageError('no_product_found', 'No product could be found in this photo. It was not charged.'))).toEqual({
      action: 'fail', code: 'no_product_found', message: 'No product could be found in this photo. It was not charged.',
    });
  });

  test('moderation fails the picture as refused content; another refusal or a second 413 as refused by the provider', () => {
    expect(decideOnFailure(new QwenError('fail', 'DataInspectionFailed', 'Input data may contain inappropriate content.', 400, 'r1'))).toMatchObject({ action: 'fail', code: 'content_refused', message: expect.stringContaining('content rules') });
    expect(decideOnFailure(new QwenError('fail', 'InvalidParameter', 'bad image', 400, 'r2'))).toMatchObject({ action: 'fail', code: 'provider_refused' });
    expect(decideOnFailure(new QwenError('shrink', 'BadRequest.TooLarge', 'too large', 413, 'r3'))).toMatchObject({ action: 'fail', code: 'provider_refused', message: expect.stringContaining('too large') });
  });

  test('a refused key pauses for a configuration; an unpaid bill pauses as an account state; a paused fleet just waits', () => {
    expect(decideOnFailure(new QwenError('pause', 'InvalidApiKey', 'Invalid API-key provided.', 401, 'r4'))).toEqual({
      action: 'pause', provider: { code: 'InvalidApiKey', reason: 'InvalidApiKey: Invalid API-key provided.', accountState: false },
    });
    expect(decideOnFailure(new QwenError('pause', 'PrepaidBillOverdue', 'The prepaid bill is overdue.', 429, 'r5'))).toMatchObject({ action: 'pause', provider: { accountState: true } });
    expect(decideOnFailure(new FleetPausedError(null))).toEqual({ action: 'pause', provider: null });
  });

  test('billing away and an identical photo under way wait without using an attempt; a 429 rate limit throttles', () => {
    expect(decideOnFailure(new BillingUnavailableError('billing unreachable'))).toEqual({ action: 'wait', ms: 5_000, why: 'billing' });
    expect(decideOnFailure(new TwinInFlightError())).toEqual({ action: 'wait', ms: 2_000, why: 'twin' });
    expect(decideOnFailure(new QwenError('throttle', 'Throttling.RateQuota', 'Requests rate limit exceeded', 429, 'r6'))).toEqual({ action: 'throttle' });
  });

  test('a 500, a network error or anything unexpected is retried, with the message its last attempt leaves', () => {
    expect(decideOnFailure(new QwenError('retry', 'InternalError', 'internal', 500, 'r7'))).toEqual({ action: 'retry', lastAttemptMessage: 'The AI provider kept failing on this photo. It was not charged.' });
    expect(decideOnFailure(new Error('ECONNRESET'))).toEqual({ action: 'retry', lastAttemptMessage: 'This photo could not be processed. It was not charged.' });
  });
});
