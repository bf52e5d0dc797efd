/**
 * What to do with each DashScope answer (docs/dashscope.md, "Error response"):
 * - retry: transient (500, 408, network); BullMQ retries with exponential backoff and jitter.
 * - fail: this image fails for good, its credits are released, the seller is told why.
 * - throttle: 429; the whole fleet slows down and the job waits without using an attempt.
 * - pause: the account or configuration is broken; every worker stops calling, jobs wait.
 * - shrink: 413; the input is made smaller and sent once more.
 */
export type QwenFailureKind = 'retry' | 'fail' | 'throttle' | 'pause' | 'shrink';

export class QwenError extends Error {
  constructor(
    readonly kind: QwenFailureKind,
    readonly code: string,
    message: string,
    readonly httpStatus: number | null,
    readonly requestId: string | null,
    /** Whether the provider may have billed this call (a timeout after sending). */
    readonly possiblyBilled = false,
  ) {
    super(message);
    this.name = 'QwenError';
  }

  /** The message a seller sees for a failed image: plain words, no provider internals. */
  get sellerMessage(): string {
    if (this.code === 'DataInspectionFailed' || this.code === 'InvalidParameter.DataInspection') {
      return 'The AI provider refused this photo under its content rules. It was not charged.';
    }
    if (this.kind === 'shrink') return 'This photo is too large for the AI provider, even made smaller. It was not charged.';
    if (this.kind === 'fail') return 'The AI provider could not process this photo. It was not charged.';
    return 'The AI provider kept failing on this photo. It was not charged.';
  }
}

/**
 * Account and configuration states: no call can succeed until an operator acts. Several come
 * as 429 (docs/dashscope.md): the status alone does not tell a rate limit from an unpaid bill.
 */
const PAUSE_CODES = new Set([
  'InvalidApiKey', 'Arrearage', 'AccessDenied', 'AccessDenied.Unpurchased', 'ModelNotFound',
  'Throttling.AllocationQuota', 'CommodityNotPurchased', 'PrepaidBillOverdue', 'PostpaidBillOverdue',
]);
/**
 * The account states among them: paying the bill fixes them without any setting changing, so
 * their pause is short and the next job's call is the check (a config pause lasts until a
 * processor starts with other settings).
 */
export const ACCOUNT_STATE_CODES = new Set(['Arrearage', 'Throttling.AllocationQuota', 'CommodityNotPurchased', 'PrepaidBillOverdue', 'PostpaidBillOverdue']);
const MODERATION_CODES = new Set(['DataInspectionFailed', 'InvalidParameter.DataInspection']);
const RATE_CODES = new Set(['Throttling', 'Throttling.RateQuota']);

/** `InvalidParameter` is a bad picture, except "Model not exist.": that is our QWEN_MODEL. */
const MODEL_MISSING = /model not exist/i;

export function classifyDashScopeAnswer(status: number, code: string | undefined, message = ''): QwenFailureKind {
  const errorCode = code ?? '';
  if (PAUSE_CODES.has(errorCode)) return 'pause';
  if (errorCode === 'InvalidParameter' && MODEL_MISSING.test(message)) return 'pause';
  if (RATE_CODES.has(errorCode)) return 'throttle';
  // Another Throttling.* or a bare 429 is read as a rate limit: slowing down is safe, and a
  // state that lasts ends the picture at QWEN_MAX_THROTTLED_TRIES.
  if (status === 429 || errorCode.startsWith('Throttling')) return 'throttle';
  if (MODERATION_CODES.has(errorCode)) return 'fail';
  if (status === 413 || errorCode === 'BadRequest.TooLarge') return 'shrink';
  if (status === 401 || status === 403) return 'pause';
  if (status === 408 || status >= 500) return 'retry';
  if (status >= 400) return 'fail';
  return 'retry';
}
