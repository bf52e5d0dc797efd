/** A failure that is the seller's photo's, not a glitch: the image fails at once, uncharged. */
export class PermanentImageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentImageError';
  }
}
