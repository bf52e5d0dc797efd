import { masterpostClient, type MasterpostClient, type Schemas } from '@masterpost/client';

export type { MasterpostClient, Schemas };
export type ProgressPicture = Schemas['Progress']['images'][number];
export type Catalog = Schemas['Catalog'];
export type PipelineId = Schemas['ProcessRequest']['pipeline'];
export type JobSettings = NonNullable<Schemas['ProcessRequest']['settings']>;

/** An answer the API refused, with the code to act on and the message to show the seller. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The app and the API share an origin: the gateway serves both. */
export function apiClient(accessToken: string | null): MasterpostClient {
  return masterpostClient({ baseUrl: window.location.origin, ...(accessToken ? { accessToken } : {}) });
}

/** Reads the API's one error shape (`{error: {code, message, ...}}`), whatever the status. */
export function errorFrom(status: number, body: unknown, fallback: string): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null | undefined)?.error;
  if (error && typeof error.message === 'string') {
    return new ApiError(error.message, status, typeof error.code === 'string' ? error.code : 'unknown', error as Record<string, unknown>);
  }
  return new ApiError(`${fallback} (HTTP ${status})`, status, 'unknown');
}

/**
 * The data of an openapi-fetch answer, or the API's error thrown as an ApiError. Every screen
 * goes through here, so every refusal reaches the seller with the API's own words.
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.error !== undefined || result.data === undefined) {
    throw errorFrom(result.response.status, result.error, `${what} failed`);
  }
  return result.data;
}

/** Any thrown value as a sentence for the seller. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
