import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { SupabaseClient } from '@supabase/supabase-js';
import { assertSafeKey } from '@masterpost/contracts';
import { LocalStorage, type Storage } from './storage';
import { createSupabaseClient } from './supabase';

/**
 * Storage in a Supabase Storage bucket, through supabase-js: what production uses when
 * SUPABASE_URL is set (docs: the storage bucket), so every gateway and processor sees the same
 * files without a shared disk. Keys are object paths in the bucket, checked like local keys.
 *
 * Supabase answers most errors with HTTP 400 and the real status in the body (`statusCode:
 * "404"` for a missing object), so "not found" is read from either. Sizes and existence come
 * from listing the object's folder, which every Storage version answers the same way.
 */
type Bucket = ReturnType<SupabaseClient['storage']['from']>;

interface ListedObject {
  name: string;
  /** null for a folder. */
  id: string | null;
  updated_at?: string | null;
  created_at?: string | null;
  metadata?: { size?: number } | null;
}

/** Supabase lists and removes at most this many objects a call. */
const PAGE = 1000;

export class SupabaseStorage implements Storage {
  constructor(
    private readonly bucket: Bucket,
    /** The bucket's name, for errors an operator reads. */
    private readonly bucketName = 'the bucket',
  ) {}

  async put(key: string, data: Buffer): Promise<void> {
    assertSafeKey(key);
    const { error } = await this.bucket.upload(key, data, { upsert: true, contentType: contentTypeOf(key) });
    if (error) throw storageError(this.bucketName, 'store', key, error);
  }

  /** Sent as a stream: a ZIP upload can be a gigabyte, and is never held in memory. */
  async putFile(key: string, sourcePath: string): Promise<void> {
    assertSafeKey(key);
    const { error } = await this.bucket.upload(key, createReadStream(sourcePath), { upsert: true, contentType: contentTypeOf(key), duplex: 'half' });
    if (error) throw storageError(this.bucketName, 'store', key, error);
    await rm(sourcePath, { force: true });
  }

  async get(key: string): Promise<Buffer> {
    assertSafeKey(key);
    const { data, error } = await this.bucket.download(key);
    if (error) throw storageError(this.bucketName, 'read', key, error);
    return Buffer.from(await data.arrayBuffer());
  }

  async exists(key: string): Promise<boolean> {
    return (await this.find(key)) !== null;
  }

  async size(key: string): Promise<number> {
    const found = await this.find(key);
    if (!found) throw notFound(key);
    return found.metadata?.size ?? 0;
  }

  stream(key: string): Readable {
    assertSafeKey(key);
    const out = new PassThrough();
    void this.bucket
      .download(key)
      .asStream()
      .then(({ data, error }) => {
        if (error || !data) throw storageError(this.bucketName, 'read', key, error);
        Readable.fromWeb(data as unknown as WebReadableStream).on('error', (cause) => out.destroy(cause)).pipe(out);
      })
      .catch((cause: unknown) => out.destroy(cause as Error));
    return out;
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertSafeKey(prefix);
    const keys = (await this.listFiles(prefix)).map((file) => file.key);
    // The prefix may name one file rather than a folder.
    if (await this.exists(prefix)) keys.push(prefix);
    await this.remove(keys);
  }

  async deleteOlderThan(prefix: string, cutoff: Date): Promise<number> {
    assertSafeKey(prefix);
    const old = (await this.listFiles(prefix)).filter((file) => file.updatedAt < cutoff).map((file) => file.key);
    await this.remove(old);
    return old.length;
  }

  private async find(key: string): Promise<ListedObject | null> {
    assertSafeKey(key);
    const folder = path.posix.dirname(key);
    const name = path.posix.basename(key);
    const { data, error } = await this.bucket.list(folder === '.' ? '' : folder, { search: name, limit: PAGE });
    if (error) throw storageError(this.bucketName, 'look up', key, error);
    return (data as ListedObject[]).find((entry) => entry.name === name && entry.id !== null) ?? null;
  }

  /** Every file under a folder, walking its subfolders, with when each was last written. */
  private async listFiles(folder: string): Promise<Array<{ key: string; updatedAt: Date }>> {
    const files: Array<{ key: string; updatedAt: Date }> = [];
    const folders = [folder];
    while (folders.length > 0) {
      const current = folders.pop()!;
      for (let offset = 0; ; offset += PAGE) {
        const { data, error } = await this.bucket.list(current, { limit: PAGE, offset });
        if (error) throw storageError(this.bucketName, 'list', current, error);
        const entries = data as ListedObject[];
        for (const entry of entries) {
          const key = `${current}/${entry.name}`;
          if (entry.id === null) folders.push(key);
          else files.push({ key, updatedAt: new Date(entry.updated_at ?? entry.created_at ?? 0) });
        }
        if (entries.length < PAGE) break;
      }
    }
    return files;
  }

  private async remove(keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += PAGE) {
      const { error } = await this.bucket.remove(keys.slice(start, start + PAGE));
      if (error) throw storageError(this.bucketName, 'delete', keys[start]!, error);
    }
  }
}

const CONTENT_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', zip: 'application/zip' };

function contentTypeOf(key: string): string {
  return CONTENT_TYPES[path.posix.extname(key).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

type StorageErrorDetails = { status?: number; statusCode?: string; code?: string; error?: string; message?: string } | null;

/**
 * A missing bucket also answers statusCode "404" (`NoSuchBucket`, "Bucket not found"): that is
 * a deployment fault, never a missing file, so it is told apart before "not found" is read.
 */
function isMissingBucket(error: unknown): boolean {
  const details = error as StorageErrorDetails;
  return details?.code === 'NoSuchBucket' || details?.error === 'Bucket not found' || details?.message === 'Bucket not found';
}

function isNotFound(error: unknown): boolean {
  const details = error as StorageErrorDetails;
  if (details?.code !== undefined) return details.code === 'NoSuchKey';
  // Storage servers before error codes: the status in the body, or the message.
  return details?.status === 404 || details?.statusCode === '404' || /not found/i.test(details?.message ?? '');
}

/** Shaped like a missing local file (ENOENT), so callers treat both stores alike. */
function notFound(key: string): Error {
  return Object.assign(new Error(`storage: no object ${key}`), { code: 'ENOENT' });
}

/** Thrown when SUPABASE_BUCKET names a bucket the project does not have. */
export class MissingBucketError extends Error {
  constructor(readonly bucket: string) {
    super(`storage: the Supabase bucket "${bucket}" does not exist: create it (private) in the project, or set SUPABASE_BUCKET to one that does`);
    this.name = 'MissingBucketError';
  }
}

function storageError(bucket: string, action: string, key: string, error: unknown): Error {
  if (isMissingBucket(error)) return new MissingBucketError(bucket);
  if (isNotFound(error)) return notFound(key);
  return new Error(`storage: could not ${action} ${key}: ${(error as Error | null)?.message ?? 'unknown error'}`);
}

export interface StorageSettings {
  SUPABASE_URL?: string | undefined;
  SUPABASE_SERVICE_ROLE_KEY?: string | undefined;
  SUPABASE_BUCKET: string;
  STORAGE_DIR: string;
}

/**
 * What is wrong with the storage settings of a service that runs beside copies of itself on other
 * machines (Kubernetes sets STORAGE_REQUIRE_SHARED=true): a local folder there is one node's disk,
 * so a picture uploaded through one gateway would be missing for the processor on another node.
 * Checked at start, with the service's other settings, so such a pod stops at once, named.
 */
export function sharedStorageProblems(settings: Pick<StorageSettings, 'SUPABASE_URL' | 'SUPABASE_SERVICE_ROLE_KEY'> & { STORAGE_REQUIRE_SHARED: boolean }): string[] {
  if (!settings.STORAGE_REQUIRE_SHARED) return [];
  const problems: string[] = [];
  if (!settings.SUPABASE_URL) {
    problems.push('STORAGE_REQUIRE_SHARED: more than one node runs, so files must go to the shared object store: set SUPABASE_URL (and SUPABASE_SERVICE_ROLE_KEY); the local folder (STORAGE_DIR) is refused');
  }
  if (!settings.SUPABASE_SERVICE_ROLE_KEY) problems.push('SUPABASE_SERVICE_ROLE_KEY: is required with STORAGE_REQUIRE_SHARED: the object store is written with the service role');
  return problems;
}

/** The Supabase bucket when SUPABASE_URL is set, the local folder otherwise. */
export function createStorage(settings: StorageSettings): Storage {
  if (!settings.SUPABASE_URL) return new LocalStorage(settings.STORAGE_DIR);
  if (!settings.SUPABASE_SERVICE_ROLE_KEY) throw new Error('SUPABASE_SERVICE_ROLE_KEY must be set with SUPABASE_URL: storage uses the service role');
  const client = createSupabaseClient(settings.SUPABASE_URL, settings.SUPABASE_SERVICE_ROLE_KEY);
  return new SupabaseStorage(client.storage.from(settings.SUPABASE_BUCKET), settings.SUPABASE_BUCKET);
}
