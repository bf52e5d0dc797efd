/**
 * Where each file lives in storage, and the one rule every key obeys. Keys are built by our code
 * only (ids and fixed words): nothing a client sends ever becomes part of a path.
 */
const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)*$/;

export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`refusing unsafe storage key ${JSON.stringify(key)}`);
  }
}

export const storageKey = {
  upload: (jobId: string, imageId: string, ext: string) => `jobs/${jobId}/uploads/${imageId}.${ext}`,
  qwenOutput: (jobId: string, imageId: string) => `jobs/${jobId}/qwen/${imageId}.png`,
  /** Outputs are reused across jobs for the same photo, preset prompt and model (never pay twice). */
  qwenCache: (userId: string, contentKey: string) => `qwen-cache/${userId}/${contentKey}.png`,
  cutout: (jobId: string, imageId: string) => `jobs/${jobId}/cutouts/${imageId}.png`,
  /** The product mask over the whole Qwen output (white = product): what the editor paints on. */
  mask: (jobId: string, imageId: string) => `jobs/${jobId}/masks/${imageId}.png`,
  /** A mask a seller sent, kept under a name of our own until the edit has used it. */
  sentMask: (jobId: string, imageId: string, nonce: string) => `jobs/${jobId}/masks/${imageId}-sent-${nonce}.png`,
  result: (jobId: string, imageId: string, ext: string) => `jobs/${jobId}/results/${imageId}.${ext}`,
  job: (jobId: string) => `jobs/${jobId}`,
  /** The gallery's own copies, so retention and deleting a job leave an item whole. */
  gallery: (itemId: string, kind: 'original' | 'processed', extension: string) => `gallery/${itemId}/${kind}.${extension}`,
};
