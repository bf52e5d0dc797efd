import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * A local stand-in for Supabase Storage's HTTP API, the calls supabase-js's storage client
 * makes: upload (`POST`/`PUT /storage/v1/object/{bucket}/{path}`, `x-upsert`), download
 * (`GET` the same), list one folder (`POST /storage/v1/object/list/{bucket}`) and remove
 * (`DELETE /storage/v1/object/{bucket}` with `{prefixes}`). Objects are files under
 * `{dir}/{bucket}/`; an object's `updated_at` is its file's mtime. Only the buckets it was
 * given exist (`GET /storage/v1/bucket/{id}` answers for them). Like Supabase it answers
 * errors with HTTP 400 and the real status in the body, with the storage server's code
 * (`{statusCode: "404", code: "NoSuchBucket", error: "Bucket not found", message: "Bucket not found"}`),
 * and refuses a request without the service key.
 */
const OBJECTS = '/storage/v1/object/';
const BUCKETS = '/storage/v1/bucket/';
const CREATED = new Date('2026-01-01T00:00:00Z').toISOString();

/**
 * Switches a drill flips while the stand-in runs: with `uploadStatus` set, every upload answers
 * that status (a storage server failing writes, reads still served) and is counted in `refused`.
 */
export interface StorageFaults {
  uploadStatus: number | null;
  refused: number;
}

export function storageApiHandler(
  dir: string,
  serviceKey: string,
  buckets: string[] = ['masterpost'],
  faults: StorageFaults = { uploadStatus: null, refused: 0 },
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const root = path.resolve(dir);
  return async (req, res) => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const refuse = (statusCode: string, code: string, error: string, message: string): void => json(400, { statusCode, code, error, message });
    const noBucket = () => refuse('404', 'NoSuchBucket', 'Bucket not found', 'Bucket not found');
    if (req.headers.apikey !== serviceKey || req.headers.authorization !== `Bearer ${serviceKey}`) return refuse('403', 'AccessDenied', 'Unauthorized', 'invalid signature');

    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (url.pathname.startsWith(BUCKETS) && req.method === 'GET') {
      const id = decodeURIComponent(url.pathname.slice(BUCKETS.length));
      if (!buckets.includes(id)) return noBucket();
      return json(200, { id, name: id, owner: '', public: false, file_size_limit: null, allowed_mime_types: null, created_at: CREATED, updated_at: CREATED });
    }
    if (!url.pathname.startsWith(OBJECTS)) return refuse('404', 'NotFound', 'Not Found', 'Route not found');
    const rest = url.pathname.slice(OBJECTS.length).split('/').map((part) => decodeURIComponent(part));
    if (rest.some((part) => part === '..' || part === '.')) return refuse('400', 'InvalidKey', 'Invalid key', 'Invalid key');
    const fileOf = (bucket: string, key: string) => path.join(root, bucket, key);

    if (req.method === 'POST' && rest[0] === 'list' && rest.length === 2) {
      // A missing bucket lists as empty, as the storage server's list query finds no objects.
      const body = JSON.parse(await readText(req)) as { prefix?: string; limit?: number; offset?: number; search?: string };
      return json(200, await listFolder(path.join(root, rest[1]!, body.prefix ?? ''), body));
    }
    if (!buckets.includes(rest[0] ?? '')) return noBucket();
    if (req.method === 'DELETE' && rest.length === 1) {
      const body = JSON.parse(await readText(req)) as { prefixes?: string[] };
      const removed: Array<{ name: string; bucket_id: string }> = [];
      for (const key of body.prefixes ?? []) {
        const file = fileOf(rest[0]!, key);
        if (!(await isFile(file))) continue;
        await rm(file, { force: true });
        removed.push({ name: key, bucket_id: rest[0]! });
      }
      return json(200, removed);
    }
    const [bucket, ...keyParts] = rest;
    const key = keyParts.join('/');
    if (!bucket || !key) return refuse('400', 'InvalidRequest', 'Invalid path', 'Invalid path');
    const file = fileOf(bucket, key);

    if (req.method === 'POST' || req.method === 'PUT') {
      if (faults.uploadStatus !== null) {
        faults.refused++;
        // The body is not read: the server gives up on the upload, as one failing does.
        return json(faults.uploadStatus, { statusCode: String(faults.uploadStatus), code: 'InternalError', error: 'Internal Server Error', message: 'the storage backend refused the write' });
      }
      const exists = await isFile(file);
      if (req.method === 'POST' && exists && req.headers['x-upsert'] !== 'true') return refuse('409', 'Duplicate', 'Duplicate', 'The resource already exists');
      if (req.method === 'PUT' && !exists) return refuse('404', 'NoSuchKey', 'not_found', 'Object not found');
      await mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.${randomUUID()}.upload`;
      await pipeline(req, createWriteStream(temporary));
      await rename(temporary, file);
      return json(200, { Id: randomUUID(), Key: `${bucket}/${key}` });
    }
    if (req.method === 'GET') {
      if (!(await isFile(file))) return refuse('404', 'NoSuchKey', 'not_found', 'Object not found');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String((await stat(file)).size) });
      await pipeline(createReadStream(file), res);
      return;
    }
    return refuse('405', 'MethodNotAllowed', 'Method not allowed', 'Method not allowed');
  };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function readText(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8') || '{}';
}

/** One folder's direct children, files and subfolders, by name, as Supabase lists them. */
async function listFolder(folder: string, options: { limit?: number; offset?: number; search?: string }) {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => !name.endsWith('.upload')).sort();
  } catch {
    return [];
  }
  if (options.search) names = names.filter((name) => name.startsWith(options.search!));
  const offset = options.offset ?? 0;
  const page = names.slice(offset, offset + (options.limit ?? 100));
  return Promise.all(
    page.map(async (name) => {
      const info = await stat(path.join(folder, name));
      if (info.isDirectory()) return { name, id: null, updated_at: null, created_at: null, last_accessed_at: null, metadata: null };
      return {
        name,
        id: randomUUID(),
        updated_at: info.mtime.toISOString(),
        created_at: info.birthtime.toISOString(),
        last_accessed_at: info.atime.toISOString(),
        metadata: { size: info.size, mimetype: 'application/octet-stream', cacheControl: 'max-age=3600', lastModified: info.mtime.toISOString(), contentLength: info.size, httpStatusCode: 200 },
      };
    }),
  );
}
