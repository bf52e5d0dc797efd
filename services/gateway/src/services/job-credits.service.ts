import { AppError, ErrorCode, ledgerReference } from '@masterpost/contracts';
import { BillingRequestError, type BillingClient } from '@masterpost/platform';

/**
 * The gateway's side of a job's money, in one place: the reservation made before anything is
 * queued, and the releases the gateway decides (a cancelled picture, a reservation whose job
 * could not start or was deleted). Charging a delivered picture is the processor's settlement
 * (services/processor/src/settlement); each movement has its own ledger reference, so a repeat
 * changes nothing.
 */
export class JobCreditsService {
  constructor(
    private readonly deps: {
      billing: BillingClient;
      holdTtlSeconds: number;
      /** Set when spending waits for a verified address (EMAIL_VERIFICATION=required). */
      verifiedAddress?: (userId: string) => Promise<boolean>;
    },
  ) {}

  /**
   * Reserves a job's credits, or throws what the seller must be told (402 short or in debt, 503
   * billing away). A hold whose answer was lost is returned before the error is thrown.
   */
  async reserve(request: { userId: string; holdReference: string; amount: number; pictures: number }): Promise<void> {
    const { userId, holdReference, amount, pictures } = request;
    if (this.deps.verifiedAddress && !(await this.deps.verifiedAddress(userId))) {
      throw new AppError(403, ErrorCode.EmailNotVerified, 'confirm your email first: follow the link we mailed you (or ask for a new one), then process');
    }
    let hold;
    try {
      hold = await this.deps.billing.hold({ userId, amount, reference: holdReference, ttlSeconds: this.deps.holdTtlSeconds, description: `Reserved for ${pictures} pictures` });
    } catch (error) {
      if (error instanceof BillingRequestError) throw new AppError(error.status, error.code, error.message, error.details);
      // The answer was lost, not necessarily the hold: return it if it was made. Should this fail
      // too, the ledger's reconciliation returns a hold no job refers to.
      await this.returnReservation(holdReference, 'Reservation returned: the request failed');
      throw new AppError(503, ErrorCode.ServiceUnavailable, 'billing is unavailable right now; nothing was reserved, try again shortly');
    }
    if (hold.status === 'in_debt') {
      throw new AppError(402, ErrorCode.AccountInDebt, `a refund or dispute took back credits already spent: your account owes ${hold.owed ?? 0} credits; buy credits to process again`, {
        owed: hold.owed ?? 0,
      });
    }
    if (hold.status === 'insufficient') {
      throw new AppError(402, ErrorCode.InsufficientCredits, `this job needs ${amount} credits and ${hold.available} are available`, { needed: amount, available: hold.available });
    }
  }

  /**
   * Returns what a reservation still holds. Never throws: with billing away the ledger's
   * reconciliation returns a hold no job refers to. Answers the credits returned now.
   */
  async returnReservation(holdReference: string, description: string): Promise<number> {
    const rest = await this.deps.billing
      .release({ holdReference, amount: null, reference: ledgerReference.jobClose(holdReference), description })
      .catch(() => null);
    return rest?.status === 'applied' ? rest.amount : 0;
  }

  /** Cancelled pictures are never charged: each one's share of the reservation goes back. */
  async releaseCancelled(holdReference: string, imageIds: string[], creditsPerImage: number): Promise<number> {
    let released = 0;
    for (const imageId of imageIds) {
      const result = await this.deps.billing.release({
        holdReference,
        amount: creditsPerImage,
        reference: ledgerReference.imageSettlement(imageId),
        description: 'Picture cancelled: not charged',
      });
      released += result.amount;
    }
    return released;
  }
}
