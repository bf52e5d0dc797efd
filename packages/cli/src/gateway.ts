import { masterpostClient, type MasterpostClient } from '@masterpost/client';
import { configFile, gatewayUrl, readConfig } from './config-store';
import { CliError, ExitCode, usageError } from './exit-codes';

/**
 * The one way the commands reach the gateway: the typed client (every path, body and answer
 * checked by the compiler against the OpenAPI document), and one place that turns an error
 * answer or an unreachable gateway into a sentence and an exit status.
 */
export interface Connection {
  client: MasterpostClient;
  /** The gateway's address, also its web page (where credits are bought and passwords reset). */
  url: string;
}

/** A client with the stored key (or `$MASTERPOST_API_KEY`, for CI jobs that keep no config). */
export async function signedIn(urlOption: string | undefined): Promise<Connection> {
  const stored = await readConfig();
  const apiKey = process.env.MASTERPOST_API_KEY ?? stored?.api_key;
  if (!apiKey) throw usageError(`not signed in: run "masterpost login" first (there is no key in ${configFile()})`);
  const url = gatewayUrl(urlOption, stored);
  return { client: masterpostClient({ baseUrl: url, apiKey }), url };
}

/** Before signing in, only the public routes (login, the catalog) are used. */
export function anonymous(url: string): Connection {
  return { client: masterpostClient({ baseUrl: url }), url };
}

/**
 * For the public routes (the gallery, the packs, a mailed link, a forgotten password): no key
 * is needed, but the gateway is the one logged in to unless told otherwise.
 */
export async function publicGateway(urlOption: string | undefined): Promise<Connection> {
  return anonymous(gatewayUrl(urlOption, await readConfig()));
}

export interface ErrorDetails {
  code: string | undefined;
  message: string | undefined;
  /** Everything else the error carried: `needed`/`available` on 402, `field` on 400. */
  details: Record<string, unknown>;
}

/** Every error answer is `{error: {code, message, ...}}`; a proxy's HTML page is read as nothing. */
export function errorDetails(body: unknown): ErrorDetails {
  const inner = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof inner !== 'object' || inner === null) return { code: undefined, message: undefined, details: {} };
  const { code, message, ...details } = inner as Record<string, unknown>;
  return { code: typeof code === 'string' ? code : undefined, message: typeof message === 'string' ? message : undefined, details };
}

export const buyCreditsAt = (url: string): string => `buy credits at ${url}`;

export function insufficientCredits(needed: number, available: number, url: string): CliError {
  return usageError(`this needs ${needed} credits and ${available} are available; ${buyCreditsAt(url)}`);
}

/**
 * An error answer as the user should read it. `what` says what was being done ("uploading"),
 * since the gateway's message alone ("no such job") lacks the context.
 */
export function failure(what: string, connection: Connection, answer: { error?: unknown; response: Response }): CliError {
  const { status } = answer.response;
  const { code, message, details } = errorDetails(answer.error);
  const said = message ?? `HTTP ${status}`;
  // A wrong password given to an account action is the user's typo, not a dead key.
  if (code === 'invalid_credentials') return usageError(`${what}: ${said}`);
  if (status === 401) {
    return usageError(`the gateway at ${connection.url} refused the API key (${said}): run "masterpost login" again`);
  }
  if (code === 'email_not_verified') {
    return usageError(`${what}: ${said}. Follow the link we mailed you (or run "masterpost account verify <link>"); "masterpost account resend-verification" sends a new one`);
  }
  if (code === 'insufficient_credits' && typeof details.needed === 'number' && typeof details.available === 'number') {
    return insufficientCredits(details.needed, details.available, connection.url);
  }
  if (status === 402) return usageError(`${what}: ${said}; ${buyCreditsAt(connection.url)}`);
  if (status === 429 || status >= 500) {
    const retryAfter = answer.response.headers.get('retry-after');
    return new CliError(`${what}: the gateway answered ${status} ${code ?? ''} (${said})${retryAfter ? `; try again in ${retryAfter} s` : '; try again shortly'}`, ExitCode.Unavailable);
  }
  return usageError(`${what}: ${said}${code ? ` (${code})` : ''}`);
}

/**
 * Runs one request, turning "fetch failed" (the gateway is down, the address is wrong) into a
 * sentence naming the address and the cause, instead of undici's bare TypeError. Only that
 * TypeError: anything else (a photo that vanished while being read) keeps its own message.
 */
export async function reach<T>(connection: Connection, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof TypeError) throw unreachable(connection, error);
    throw error;
  }
}

export function unreachable(connection: Connection, error: unknown): CliError {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
  return new CliError(`cannot reach the gateway at ${connection.url} (${why}); is the address right? (--url or $MASTERPOST_URL)`, ExitCode.Unavailable);
}

/** Worth trying again: the gateway restarting, a proxy's 502, a rate limit. */
export const isTransient = (status: number): boolean => status === 429 || status >= 500;
