import { probe } from './ops';
import type { Storage } from './storage';

/**
 * /ready's storage check: a tiny object written under `health/`, bounded like every probe. A write,
 * not a read, because a store that still serves files but refuses new ones (a full disk, a
 * read-only mount, an object store answering 500 to uploads) stops every picture all the same.
 * One key per service, overwritten by each of its instances: probing leaves nothing that grows.
 */
export function storageProbe(storage: Storage, service: string, timeoutMs = 2000): () => Promise<string> {
  const key = `health/${service}`;
  return () => probe(() => storage.put(key, Buffer.from('ok')), timeoutMs);
}
