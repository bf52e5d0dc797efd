import { readFileSync } from 'node:fs';
import http from 'node:http';
import { deflateSync } from 'node:zlib';
import AdmZip from 'adm-zip';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { createPool } from '@masterpost/platform';
import { hashPassword } from '../services/gateway/src/services/auth.service';
import sharp from 'sharp';
import request from 'supertest';
import type { RunningService } from '../scripts/stack';
import { getBinary, productPhoto, zipOf } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';

/**
 * Strangers' files and strangers themselves, through the real gateway: a corpus of hostile
 * uploads built here, random bytes and random ZIPs thrown at the upload path, forged tokens,
 * and rate limits counted across two gateway processes behind one proxy hop.
 */
jest.setTimeout(240_000);

let stack: TestStack;
let second: RunningService;
let api: ReturnType<typeof request>;
let address = 0;
/** Each seller signs up from their own address, so sign-up limits only bite where a test wants them. */
const nextAddress = () => `198.51.100.${++address}`;

beforeAll(async () => {
  stack = await startTestStack({
    env: { SIGNUP_CREDITS: '30', TRUST_PROXY: '1', RATE_LIMIT_AUTH_PER_MINUTE: '6', RATE_LIMIT_UPLOADS_PER_MINUTE: '200', IMAGE_MAX_PIXELS: '50000000', UPLOAD_MAX_FILE_BYTES: String(8 * 1024 * 1024), UPLOAD_MAX_FILES: '20' },
  });
  second = await stack.startGateway('gateway-2');
  api = request(stack.gatewayUrl);
});
cleanUpAfter(() => stack);
async function seller(): Promise<string> {
  const email = `hostile-${address}-${Date.now()}@example.com`;
  const response = await api.post('/auth/register').set('x-forwarded-for', `10.0.0.1, ${nextAddress()}`).send({ email, password: 'long enough password' }).expect(201);
  return response.body.access_token as string;
}

/** A PNG whose header declares 20000x20000 pixels, with almost no data behind it. */
function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crcInput = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    let crc = 0xffffffff;
    for (const byte of crcInput) {
      crc ^= byte;
      for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    }
    const crcBytes = Buffer.alloc(4);
    crcBytes.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
    return Buffer.concat([length, crcInput, crcBytes]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function zipWithEntryNamed(name: string, data: Buffer): Buffer {
  const zip = new AdmZip();
  zip.addFile('placeholder.jpg', data);
  zip.getEntry('placeholder.jpg')!.entryName = name;
  return zip.toBuffer();
}

test('a corpus of hostile uploads: each refused with its reason, the good photo beside them accepted', async () => {
  const token = await seller();
  const good = await productPhoto({ width: 800, height: 800, colour: '#2e86c1', shape: 'box' });
  const symlink = new AdmZip();
  symlink.addFile('link.jpg', Buffer.from('/etc/passwd'));
  symlink.getEntry('link.jpg')!.attr = (0o120777 << 16) >>> 0;
  const bomb = zipOf([{ name: 'bomb.jpg', data: Buffer.alloc(20 * 1024 * 1024) }]);
  const nested = zipOf([{ name: 'level1.zip', data: zipOf([{ name: 'level2.zip', data: bomb }]) }, { name: 'fine.jpg', data: good }]);
  const polyglot = Buffer.concat([good, zipOf([{ name: 'payload.html', data: Buffer.from('<script>alert(1)</script>') }])]);

  const corpus: Array<{ name: string; data: Buffer; code: string }> = [
    { name: 'slip.zip', data: zipWithEntryNamed('../../etc/cron.d/evil.jpg', good), code: 'unsafe_archive' },
    { name: 'windows.zip', data: zipWithEntryNamed('C:\\Windows\\evil.jpg', good), code: 'unsafe_archive' },
    { name: 'link.zip', data: symlink.toBuffer(), code: 'unsafe_archive' },
    { name: 'bomb.zip', data: bomb, code: 'archive_too_large' },
    { name: 'huge.png', data: pngDeclaring(20000, 20000), code: 'image_too_large' },
    { name: 'vector.jpg', data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="900" height="900"><rect width="900" height="900"/></svg>'), code: 'unsupported_file' },
    { name: 'page.jpg', data: Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>'), code: 'unsupported_file' },
    { name: 'cut.jpg', data: good.subarray(0, Math.floor(good.length * 0.6)), code: 'corrupt_image' },
  ];
  let call = api.post('/api/v1/upload').set('authorization', `Bearer ${token}`);
  for (const item of corpus) call = call.attach('files', item.data, item.name);
  call = call.attach('files', nested, 'nested.zip').attach('files', polyglot, 'polyglot.jpg').attach('files', good, 'good.jpg');
  const started = Date.now();
  const answer = await call.expect(201);
  const rejected = answer.body.rejected as Array<{ filename: string; code: string; message: string }>;
  for (const item of corpus) {
    expect(rejected).toContainEqual(expect.objectContaining({ filename: item.name, code: item.code, message: expect.any(String) }));
  }
  // The nested archive is not opened (so its bomb never unpacks); the photo beside it is taken.
  expect(rejected).toContainEqual(expect.objectContaining({ filename: 'nested.zip/level1.zip', code: 'nested_archive' }));
  expect(answer.body.files.map((file: { filename: string }) => file.filename).sort()).toEqual(['fine.jpg', 'good.jpg', 'polyglot.jpg']);
  // A 20000x20000 declaration is refused from its header, not by trying to decode 1.2 GB of pixels.
  expect(Date.now() - started).toBeLessThan(60_000);
  // Nothing was reserved or charged for any of it.
  expect((await api.get('/credits/balance').set('authorization', `Bearer ${token}`)).body).toEqual({ balance: 30, reserved: 0, available: 30 });
});

test('a phone photo turned on its side with GPS tags comes out upright, with no EXIF, GPS or other metadata', async () => {
  const token = await seller();
  // A tall bottle stored sideways, as phones do, with orientation 6 ("rotate 90° clockwise") and a location.
  const upright = await productPhoto({ width: 900, height: 1300, colour: '#b03a2e', shape: 'bottle' });
  const sideways = await sharp(upright)
    .rotate(-90)
    .withExif({ IFD0: { Make: 'PhoneMaker', Model: 'Phone 15' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2964/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 720/100' } })
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
  const meta = await sharp(sideways).metadata();
  expect(meta.orientation).toBe(6);
  expect(meta.width).toBeGreaterThan(meta.height!);
  expect(sideways.includes(Buffer.from('PhoneMaker'))).toBe(true);

  const upload = await api.post('/api/v1/upload').set('authorization', `Bearer ${token}`).attach('files', sideways, 'IMG_0001.jpg').expect(201);
  const jobId = upload.body.job_id as string;
  await api.post('/api/v1/process').set('authorization', `Bearer ${token}`).send({ job_id: jobId, pipeline: 'shopify' }).expect(202);
  let progress;
  for (let tries = 0; tries < 240; tries++) {
    progress = (await api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${token}`)).body;
    if (progress.finished) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(progress.status).toBe('completed');
  const result = (await getBinary(api, progress.images[0].result_url, token).expect(200)).body as Buffer;
  const out = await sharp(result).metadata();
  expect(out.exif).toBeUndefined();
  expect(out.xmp).toBeUndefined();
  expect(out.iptc).toBeUndefined();
  expect(out.orientation ?? 1).toBe(1);
  expect(result.includes(Buffer.from('PhoneMaker'))).toBe(false);
  // Upright: the bottle is taller than wide in the picture.
  const { data, info } = await sharp(result).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let top = info.height;
  let bottom = 0;
  let left = info.width;
  let right = 0;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const offset = (y * info.width + x) * 3;
      if (data[offset]! < 150 && data[offset + 1]! < 120) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  expect(bottom - top).toBeGreaterThan((right - left) * 1.5);
});

test('random bytes and random ZIPs at the upload path: always a 4xx or a listed rejection, never a 5xx, and the gateway stays up', async () => {
  const token = await seller();
  const photo = await productPhoto({ width: 500, height: 500, colour: '#117864', shape: 'disc' });
  const randomUpload = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
    // A real ZIP or JPEG with random bytes overwritten: the damage the parsers must survive.
    fc.tuple(fc.constantFrom(zipOf([{ name: 'a.jpg', data: photo }, { name: 'b/c.jpg', data: photo }]), photo), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 })).map(([original, edits]) => {
      const copy = Buffer.from(original);
      for (const [at, value] of edits) copy[at % copy.length] = value;
      return copy;
    }),
    fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 40 }), data: fc.uint8Array({ maxLength: 512 }) }), { minLength: 1, maxLength: 5 }).map((entries) =>
      zipOf(entries.map((entry, index) => ({ name: `${index}-${entry.name.replace(/\\/g, '/')}`, data: Buffer.from(entry.data) }))),
    ),
  );
  await fc.assert(
    fc.asyncProperty(randomUpload, fc.constantFrom('upload.jpg', 'upload.zip', 'upload.png', 'x'), async (bytes, name) => {
      const answer = await api.post('/api/v1/upload').set('authorization', `Bearer ${token}`).attach('files', bytes, name);
      expect([201, 400, 413]).toContain(answer.status);
      if (answer.status === 201) expect(answer.body.files_count).toBeGreaterThan(0);
      else expect(answer.body.error.code).toEqual(expect.any(String));
    }),
    { numRuns: 60 },
  );
  await api.get('/health').expect(200);
});

test('forged, foreign and expired tokens are all 401', async () => {
  const token = await seller();
  const claims = jwt.decode(token) as { sub: string; email: string };
  const secret = stack.env.JWT_SECRET!;
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const forged = [
    `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ ...claims, iss: 'masterpost', aud: 'masterpost-api', exp: now + 600 })}.`,
    jwt.sign({ email: claims.email }, secret, { algorithm: 'HS512', subject: claims.sub, issuer: 'masterpost', audience: 'masterpost-api', expiresIn: 600 }),
    jwt.sign({ email: claims.email }, 'another-secret-that-is-long-enough-1234', { algorithm: 'HS256', subject: claims.sub, issuer: 'masterpost', audience: 'masterpost-api', expiresIn: 600 }),
    jwt.sign({ email: claims.email, exp: now - 10 }, secret, { algorithm: 'HS256', subject: claims.sub, issuer: 'masterpost', audience: 'masterpost-api' }),
    jwt.sign({ email: claims.email }, secret, { algorithm: 'HS256', subject: claims.sub, issuer: 'masterpost', audience: 'masterpost-api' }),
    jwt.sign({ email: claims.email }, secret, { algorithm: 'HS256', subject: claims.sub, issuer: 'someone-else', audience: 'masterpost-api', expiresIn: 600 }),
    `${token.slice(0, -3)}abc`,
  ];
  await api.get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200);
  for (const candidate of forged) {
    const answer = await api.get('/credits/balance').set('authorization', `Bearer ${candidate}`);
    expect({ token: candidate, status: answer.status }).toEqual({ token: candidate, status: 401 });
  }
});

test('sign-in attempts are limited per client address across both gateways; a forged X-Forwarded-For does not dodge it', async () => {
  const gateways = [request(stack.gatewayUrl), request(second.url)];
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    // What our proxy forwards: whatever the client claimed, then the address it really saw.
    const answer = await gateways[attempt % 2]!
      .post('/auth/login')
      .set('x-forwarded-for', `203.0.113.${attempt + 50}, 192.0.2.77`)
      .send({ email: 'nobody@example.com', password: 'wrong password' });
    statuses.push(answer.status);
  }
  expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
  const limited = await gateways[0]!.post('/auth/login').set('x-forwarded-for', '192.0.2.77').send({ email: 'nobody@example.com', password: 'x' });
  expect(limited.body.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/at most 6 a minute/) });
  // Another client is not affected.
  await gateways[1]!.post('/auth/login').set('x-forwarded-for', '192.0.2.78').send({ email: 'nobody@example.com', password: 'wrong password' }).expect(401);
});

test('an upload declared larger than the limits is answered 413 before its body is sent; a file over its cap 413; too many files 400', async () => {
  const token = await seller();
  // Headers only, promising 200 MB: the answer must come without a byte of body.
  const early = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(`${stack.gatewayUrl}/api/v1/upload`);
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(200 * 1024 * 1024) },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    req.on('error', () => undefined);
    req.flushHeaders();
    setTimeout(() => reject(new Error('no answer before the body was sent')), 10_000).unref();
  });
  expect(early.status).toBe(413);
  expect(JSON.parse(early.body).error.code).toBe('upload_too_large');

  const oversized = Buffer.concat([await productPhoto({ width: 400, height: 400, colour: '#512e5f', shape: 'box' }), Buffer.alloc(9 * 1024 * 1024)]);
  const tooBig = await api.post('/api/v1/upload').set('authorization', `Bearer ${token}`).attach('files', oversized, 'big.jpg').expect(413);
  expect(tooBig.body.error.code).toBe('upload_too_large');

  const photo = await productPhoto({ width: 400, height: 400, colour: '#512e5f', shape: 'box' });
  let call = api.post('/api/v1/upload').set('authorization', `Bearer ${token}`);
  for (let index = 0; index < 21; index++) call = call.attach('files', photo, `p${index}.jpg`);
  const tooMany = await call.expect(400);
  expect(tooMany.body.error.code).toBe('too_many_files');
});

test('passwords are stored as scrypt, and a wrong password and an unknown email get the same answer through the same hashing', async () => {
  const email = `careful-${Date.now()}@example.com`;
  await api.post('/auth/register').set('x-forwarded-for', `10.0.0.1, ${nextAddress()}`).send({ email, password: 'long enough password' }).expect(201);
  const pool = createPool(stack.databaseUrl);
  const { rows } = await pool.query<{ password_hash: string }>('select password_hash from users where email = $1', [email]);
  await pool.end();
  expect(rows[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  expect(rows[0]!.password_hash).not.toContain('long enough password');

  // CPU time, not wall time, so a busy machine cannot fail it: one scrypt of the same cost in this
  // process, then what the gateway spent on each failed sign-in; each must have paid at least half
  // of one (a sign-in that skipped the hash costs the gateway a few milliseconds).
  const before = process.cpuUsage();
  await hashPassword('calibration');
  const spent = process.cpuUsage(before);
  const oneHashCpuMs = (spent.user + spent.system) / 1000;
  const gateway = stack.services.find((service) => service.name === 'gateway')!;
  const attempt = async (who: string) => {
    const cpuBefore = cpuMsOf(gateway.child.pid!);
    const answer = await api.post('/auth/login').set('x-forwarded-for', `10.0.0.1, ${nextAddress()}`).send({ email: who, password: 'not the password' });
    return { status: answer.status, body: answer.body as unknown, cpuMs: cpuMsOf(gateway.child.pid!) - cpuBefore };
  };
  const wrongPassword = await attempt(email);
  const unknownEmail = await attempt(`nobody-${Date.now()}@example.com`);
  expect(unknownEmail.status).toBe(401);
  expect(unknownEmail.body).toEqual(wrongPassword.body);
  expect(wrongPassword.cpuMs).toBeGreaterThan(oneHashCpuMs / 2);
  expect(unknownEmail.cpuMs).toBeGreaterThan(oneHashCpuMs / 2);
});

/** User and system CPU time a process has used, all its threads (scrypt runs on libuv's pool). */
function cpuMsOf(pid: number): number {
  // /proc/<pid>/stat: the command name may hold spaces, so count fields after its closing parenthesis;
  // utime and stime are the 12th and 13th after it, in clock ticks (USER_HZ, 100 a second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop()!.trim().split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

test('nothing secret reaches the logs, and errors carry no internals', async () => {
  // Runs last in this file: by now the services have logged sign-ups, sign-ins, uploads, forged tokens and limits.
  const logs = stack.logs();
  const secrets = [stack.env.JWT_SECRET!, stack.env.BILLING_SERVICE_TOKEN!, 'long enough password', 'wrong password'];
  for (const secret of secrets) expect({ secret, found: logs.includes(secret) }).toEqual({ secret, found: false });
  // No access token (a JWT: three base64url parts starting eyJ) is logged either.
  expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  const answer = await api.post('/auth/login').set('x-forwarded-for', '10.0.0.9, 192.0.2.200').set('content-type', 'application/json').send('{"email": broken json');
  expect(answer.status).toBe(400);
  expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+|node_modules|SyntaxError: Unexpected/);
});
