import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startSupabaseStandIn, type SupabaseStandIn } from '../../../tools/supabase-sim/src/server';
import { createStorage, LocalStorage, MissingBucketError, SupabaseStorage, type Storage } from '../src';

/**
 * The two stores behind the Storage interface, held to the same behaviour: the local folder and
 * a Supabase Storage bucket reached with supabase-js (here a local stand-in speaking its HTTP
 * API). Whatever the gateway and processors do with files works the same on either.
 */
const SERVICE_KEY = 'service-role-key-for-the-stand-in';
const BUCKET = 'masterpost';

let work: string;
let standIn: SupabaseStandIn;
const stores: Record<'local' | 'supabase', { storage: Storage; fileOf: (key: string) => string }> = {} as never;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'mp-storage-'));
  standIn = await startSupabaseStandIn({ serviceKey: SERVICE_KEY, storageDir: path.join(work, 'supabase') });
  stores.local = { storage: new LocalStorage(path.join(work, 'local')), fileOf: (key) => path.join(work, 'local', key) };
  stores.supabase = {
    storage: createStorage({ SUPABASE_URL: standIn.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, SUPABASE_BUCKET: BUCKET, STORAGE_DIR: path.join(work, 'unused') }),
    fileOf: (key) => path.join(work, 'supabase', BUCKET, key),
  };
});
afterAll(async () => {
  await standIn.close();
  await rm(work, { recursive: true, force: true });
});

test('with SUPABASE_URL set the bucket is used, without it the folder', () => {
  expect(stores.supabase.storage).toBeInstanceOf(SupabaseStorage);
  expect(createStorage({ SUPABASE_BUCKET: BUCKET, STORAGE_DIR: work })).toBeInstanceOf(LocalStorage);
});

describe.each(['local', 'supabase'] as const)('%s storage', (kind) => {
  const store = () => stores[kind].storage;
  const readAll = async (stream: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  test('put, get, overwrite, size, exists and stream give back the same bytes', async () => {
    const bytes = Buffer.alloc(300_000, 7);
    await store().put('jobs/a/results/one.jpg', bytes);
    expect(await store().get('jobs/a/results/one.jpg')).toEqual(bytes);
    await store().put('jobs/a/results/one.jpg', Buffer.from('second'));
    expect((await store().get('jobs/a/results/one.jpg')).toString()).toBe('second');
    expect(await store().size('jobs/a/results/one.jpg')).toBe(6);
    expect(await store().exists('jobs/a/results/one.jpg')).toBe(true);
    expect(await store().exists('jobs/a/results/one')).toBe(false);
    expect(await store().exists('jobs/a/results/none.jpg')).toBe(false);
    expect((await readAll(store().stream('jobs/a/results/one.jpg'))).toString()).toBe('second');
  });

  test('a file moved in (a multer upload) leaves its temporary file gone', async () => {
    const temporary = path.join(work, `${kind}-upload.tmp`);
    await new LocalStorage(work).put(`${kind}-upload.tmp`, Buffer.from('zip bytes'));
    await store().putFile('jobs/b/uploads/archive.zip', temporary);
    expect((await store().get('jobs/b/uploads/archive.zip')).toString()).toBe('zip bytes');
    expect((await readdir(work)).includes(`${kind}-upload.tmp`)).toBe(false);
  });

  test('a missing object: get and size fail as not found, and a stream errors', async () => {
    await expect(store().get('jobs/none/x.png')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store().size('jobs/none/x.png')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readAll(store().stream('jobs/none/x.png'))).rejects.toThrow();
  });

  test('deletePrefix removes a folder with its subfolders, or one file, and nothing beside it', async () => {
    for (const key of ['jobs/c/uploads/1.jpg', 'jobs/c/results/1.jpg', 'jobs/c/masks/deep/1.png', 'jobs/cc/results/keep.jpg', 'jobs/d/one.png']) {
      await store().put(key, Buffer.from(key));
    }
    await store().deletePrefix('jobs/c');
    await store().deletePrefix('jobs/d/one.png');
    for (const key of ['jobs/c/uploads/1.jpg', 'jobs/c/results/1.jpg', 'jobs/c/masks/deep/1.png', 'jobs/d/one.png']) expect(await store().exists(key)).toBe(false);
    expect(await store().exists('jobs/cc/results/keep.jpg')).toBe(true);
    await store().deletePrefix('jobs/never-was');
  });

  test('deleteOlderThan removes only what was last written before the cutoff', async () => {
    await store().put('qwen-cache/u1/old.png', Buffer.from('old'));
    await store().put('qwen-cache/u1/deeper/old.png', Buffer.from('old'));
    await store().put('qwen-cache/u2/new.png', Buffer.from('new'));
    const tenDaysAgo = new Date(Date.now() - 10 * 24 * 3600 * 1000);
    for (const key of ['qwen-cache/u1/old.png', 'qwen-cache/u1/deeper/old.png']) await utimes(stores[kind].fileOf(key), tenDaysAgo, tenDaysAgo);
    expect(await store().deleteOlderThan('qwen-cache', new Date(Date.now() - 7 * 24 * 3600 * 1000))).toBe(2);
    expect(await store().exists('qwen-cache/u1/old.png')).toBe(false);
    expect(await store().exists('qwen-cache/u1/deeper/old.png')).toBe(false);
    expect(await store().exists('qwen-cache/u2/new.png')).toBe(true);
  });

  test('keys that could leave the store are refused before any request', async () => {
    for (const key of ['../etc/passwd', 'jobs/../../x', '/abs/path', 'jobs//x']) {
      await expect(store().put(key, Buffer.from('x'))).rejects.toThrow();
    }
  });
});

test('the bucket refuses a client without the service key', async () => {
  const stranger = createStorage({ SUPABASE_URL: standIn.url, SUPABASE_SERVICE_ROLE_KEY: 'not-the-key', SUPABASE_BUCKET: BUCKET, STORAGE_DIR: work });
  await expect(stranger.put('jobs/e/x.png', Buffer.from('x'))).rejects.toThrow(/could not store/);
});

test('a bucket the project does not have is named as such, never read as a missing file', async () => {
  const misnamed = createStorage({ SUPABASE_URL: standIn.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, SUPABASE_BUCKET: 'no-such-bucket', STORAGE_DIR: work });
  await expect(misnamed.put('jobs/f/x.png', Buffer.from('x'))).rejects.toThrow('the Supabase bucket "no-such-bucket" does not exist');
  await expect(misnamed.get('jobs/f/x.png')).rejects.toThrow(MissingBucketError);
  // What a missing file looks like in the bucket that exists, for contrast: ENOENT, as on disk.
  await expect(stores.supabase.storage.get('jobs/f/none.png')).rejects.toMatchObject({ code: 'ENOENT' });
});

/**
 * Supabase Storage's published error bodies (supabase/storage: src/http/error-handler.test.ts and
 * src/internal/errors/codes.ts; REST answers HTTP 400 with the real status in the body), served
 * verbatim, with and without the `code` field older servers leave out.
 */
test.each([
  ['a missing bucket', '{"statusCode":"404","code":"NoSuchBucket","error":"Bucket not found","message":"Bucket not found"}', 'bucket'],
  ['a missing bucket (no code)', '{"statusCode":"404","error":"Bucket not found","message":"Bucket not found"}', 'bucket'],
  ['a missing object', '{"statusCode":"404","code":"NoSuchKey","error":"not_found","message":"Object not found"}', 'file'],
  ['a missing object (no code)', '{"statusCode":"404","error":"not_found","message":"Object not found"}', 'file'],
])("Supabase's published answer for %s is read as a missing %s", async (_label, body, missing) => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const store = createStorage({ SUPABASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, SUPABASE_BUCKET: 'pictures', STORAGE_DIR: work });
    const failure = store.get('jobs/a/x.png');
    if (missing === 'bucket') await expect(failure).rejects.toThrow('the Supabase bucket "pictures" does not exist');
    else await expect(failure).rejects.toMatchObject({ code: 'ENOENT' });
  } finally {
    server.close();
  }
});
