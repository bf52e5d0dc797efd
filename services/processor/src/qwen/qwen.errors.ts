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

const PAUSE_CODES = new Set(['InvalidApiKey', 'Arrearage', 'AccessDenied', 'AccessDenied.Unpurchased', 'ModelNotFound']);
const MODERATION_CODES = new Set(['DataInspectionFailed', 'InvalidParameter.DataInspection']);

export function classifyDashScopeAnswer(status: number, code: string | undefined): QwenFailureKind {
  const errorCode = code ?? '';
  if (PAUSE_CODES.has(errorCode)) return 'pause';
  if (status === 429 || errorCode.startsWith('Throttling')) return 'throttle';
  if (MODERATION_CODES.has(errorCode)) return 'fail';
  if (status === 413 || errorCode === 'BadRequest.TooLarge') return 'shrink';
  if (status === 401 || status === 403) return 'pause';
  if (status === 408 || status >= 500) return 'retry';
  if (status >= 400) return 'fail';
  return 'retry';
}
