/**
 * Credits are whole numbers, always. Every movement of the ledger carries a unique reference;
 * these builders are the only place those references are spelled, so the gateway, the
 * processor and billing can never disagree on them.
 */
export const DEFAULT_CREDITS_PER_IMAGE = 3;
export const DEFAULT_SIGNUP_CREDITS = 10;

export function creditsFor(images: number, creditsPerImage: number): number {
  if (!Number.isInteger(images) || images < 0) throw new RangeError(`image count ${images} is not a whole number >= 0`);
  if (!Number.isInteger(creditsPerImage) || creditsPerImage <= 0) {
    throw new RangeError(`credits per image ${creditsPerImage} is not a whole number > 0`);
  }
  return images * creditsPerImage;
}

export function maxAffordableImages(available: number, creditsPerImage: number): number {
  return Math.max(0, Math.floor(available / creditsPerImage));
}

export const ledgerReference = {
  /**
   * One trial per address, ever: keyed by the address's fingerprint (hex SHA-256 of the trimmed,
   * lower-case address; SQL's `email_fingerprint`), so no ledger row names an email.
   */
  signup: (emailSha256Hex: string) => `signup:sha256:${emailSha256Hex}`,
  /** One hold per processing attempt of a job: a job re-processed after a failed enqueue gets a new one. */
  jobHold: (jobId: string, attemptNonce: string) => `job:${jobId}:${attemptNonce}`,
  /** Capture and release share it: an image is settled exactly once, charged or released, never both. */
  imageSettlement: (imageId: string) => `image:${imageId}`,
  jobClose: (holdReference: string) => `close:${holdReference}`,
};

export interface CreditBalance {
  balance: number;
  reserved: number;
  available: number;
  /** Present only when a refund or dispute took back more than was left: new work waits until it is paid. */
  owed?: number;
}
