import { isErrorBody, type CreditBalance, type HistoryPage, type Pack } from '@masterpost/contracts';
import { currentRequestId } from './request-context';
import { traceHeaders } from './tracing';

/**
 * The billing service's internal API, as its callers see it. The gateway and the processor
 * change credits only through this client; every call carries a unique reference, so a
 * retried call after a timeout changes nothing the second time.
 */
export type HoldStatus = 'held' | 'duplicate' | 'insufficient' | 'in_debt';
/**
 * `from_balance`: a capture whose hold had expired, taken from the available balance instead;
 * `insufficient`: such a capture the balance could not cover (the picture is not delivered).
 */
export type SettleStatus = 'applied' | 'duplicate' | 'hold_closed' | 'hold_missing' | 'from_balance' | 'insufficient';

export type LedgerState = CreditBalance;

export interface HoldResult extends LedgerState {
  status: HoldStatus;
}
export interface SettleResult {
  status: SettleStatus;
  amount: number;
}
export interface GrantResult extends LedgerState {
  applied: boolean;
}

export class BillingUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BillingUnavailableError';
  }
}

export class BillingRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'BillingRequestError';
  }
}

export class BillingClient {
  constructor(
    private readonly baseUrl: string,
    private readonly serviceToken: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          authorization: `Bearer ${this.serviceToken}`,
          ...(currentRequestId() ? { 'x-request-id': currentRequestId() } : {}),
          // `traceparent`: billing's span of this call joins the caller's trace.
          ...traceHeaders(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new BillingUnavailableError(`billing unreachable: ${(error as Error).message}`);
    }
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (response.status >= 500) throw new BillingUnavailableError(`billing answered ${response.status}`);
    if (!response.ok) {
      if (isErrorBody(parsed)) {
        const { code, message, ...details } = parsed.error;
        throw new BillingRequestError(response.status, code, message, details);
      }
      throw new BillingRequestError(response.status, 'billing_error', `billing answered ${response.status}`, {});
    }
    return parsed as T;
  }

  account(userId: string): Promise<LedgerState> {
    return this.call('GET', `/internal/accounts/${encodeURIComponent(userId)}`);
  }

  history(userId: string, limit: number, cursor?: string): Promise<HistoryPage> {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    return this.call('GET', `/internal/accounts/${encodeURIComponent(userId)}/history?${query.toString()}`);
  }

  grant(input: { userId: string; amount: number; kind: 'signup' | 'purchase' | 'adjustment'; reference: string; description: string }): Promise<GrantResult> {
    return this.call('POST', '/internal/grants', input);
  }

  hold(input: { userId: string; amount: number; reference: string; ttlSeconds: number; description: string }): Promise<HoldResult> {
    return this.call('POST', '/internal/holds', input);
  }

  capture(input: { holdReference: string; amount: number; reference: string; description: string }): Promise<SettleResult> {
    return this.call('POST', '/internal/captures', input);
  }

  /** `amount: null` releases whatever the hold still has. */
  release(input: { holdReference: string; amount: number | null; reference: string; description: string }): Promise<SettleResult> {
    return this.call('POST', '/internal/releases', input);
  }

  packs(): Promise<Pack[]> {
    return this.call('GET', '/internal/packs');
  }

  checkout(input: { userId: string; email: string; pack: string }): Promise<{ url: string; session_id: string }> {
    return this.call('POST', '/internal/checkout', input);
  }

  async ping(): Promise<boolean> {
    try {
      await this.call('GET', '/health');
      return true;
    } catch {
      return false;
    }
  }
}
