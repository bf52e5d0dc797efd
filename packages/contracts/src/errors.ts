/**
 * One vocabulary of error codes for every service. The public API answers
 * `{"error": {"code", "message", ...details}}` (docs/api.md); internal calls use the same shape
 * so a billing refusal can be passed on to the seller unchanged.
 */
export const ErrorCode = {
  InvalidInput: 'invalid_input',
  InvalidSettings: 'invalid_settings',
  InvalidMask: 'invalid_mask',
  InvalidCredentials: 'invalid_credentials',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  BadRequest: 'bad_request',
  RateLimited: 'rate_limited',
  AlreadyFinished: 'already_finished',
  FilesDeleted: 'files_deleted',
  InvalidSignature: 'invalid_signature',
  NestedArchive: 'nested_archive',
  /** The one-call route's picture failed (moderation, no product found...): `reason` says why; nothing was charged. */
  PictureFailed: 'picture_failed',
  EmailTaken: 'email_taken',
  /** A mailed link that is unknown, used already, or expired. */
  InvalidToken: 'invalid_token',
  /** Spending waits until the address is proven (the link in the verification mail). */
  EmailNotVerified: 'email_not_verified',
  /** Jobs still being processed: cancel them (or wait) before deleting the account. */
  JobsRunning: 'jobs_running',
  InsufficientCredits: 'insufficient_credits',
  AccountInDebt: 'account_in_debt',
  AlreadyProcessing: 'already_processing',
  NotFinished: 'not_finished',
  NoImages: 'no_images',
  UploadTooLarge: 'upload_too_large',
  TooManyFiles: 'too_many_files',
  UnsupportedFile: 'unsupported_file',
  CorruptImage: 'corrupt_image',
  ImageTooLarge: 'image_too_large',
  ImageTooSmall: 'image_too_small',
  UnsafeArchive: 'unsafe_archive',
  ArchiveTooLarge: 'archive_too_large',
  CorruptArchive: 'corrupt_archive',
  PaymentsUnavailable: 'payments_unavailable',
  ServiceUnavailable: 'service_unavailable',
  RequestInProgress: 'request_in_progress',
  IdempotencyKeyReused: 'idempotency_key_reused',
  Internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

/** An error that already knows how it should be answered over HTTP. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(): ErrorBody {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const inner = (value as { error: unknown }).error;
  return typeof inner === 'object' && inner !== null && 'code' in inner && 'message' in inner;
}

/**
 * Maps anything thrown in a request to the public error shape: AppErrors as they are, body
 * parser failures as 400/413, everything else as a 500 without internals (no stack traces).
 */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; unexpected: boolean } {
  if (error instanceof AppError) return { status: error.status, body: error.toBody(), unexpected: false };
  if (isDependencyOutage(error)) {
    return {
      status: 503,
      body: { error: { code: ErrorCode.ServiceUnavailable, message: 'a service we depend on is unavailable right now; nothing was charged, try again shortly' } },
      unexpected: false,
    };
  }
  const candidate = error as { type?: string; status?: number; expose?: boolean; message?: string };
  if (candidate && typeof candidate.status === 'number' && candidate.expose) {
    const code =
      candidate.status === 413 ? ErrorCode.UploadTooLarge : candidate.type === 'entity.parse.failed' ? ErrorCode.InvalidInput : ErrorCode.BadRequest;
    const message = candidate.type === 'entity.parse.failed' ? 'the request body is not valid JSON' : (candidate.message ?? 'bad request');
    return { status: candidate.status, body: { error: { code, message } }, unexpected: false };
  }
  return {
    status: 500,
    body: { error: { code: ErrorCode.Internal, message: 'something went wrong on our side; nothing was charged for it' } },
    unexpected: true,
  };
}

/** Redis, Postgres or billing being down: the request may succeed later, so 503, never 500. */
export function isDependencyOutage(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message, code } = error as { name?: string; message?: string; code?: string };
  if (name === 'BillingUnavailableError') return true;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003'].includes(code)) return true;
  return /enableOfflineQueue|Connection is closed|Connection terminated|timeout exceeded when trying to connect/i.test(message ?? '');
}
