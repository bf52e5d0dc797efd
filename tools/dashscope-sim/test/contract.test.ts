import http from 'node:http';
import sharp from 'sharp';
import { SIM_RESULT_HOST, startSim, type SimServer } from '../src/server';

/** The stand-in speaks docs/dashscope.md: shapes, error codes, limits, expiring results. */
let sim: SimServer;
let photo: Buffer;

beforeAll(async () => {
  sim = await startSim({ apiKey: 'sk-test', noise: 0 });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><rect width="100%" height="100%" fill="#d0d0d0"/><rect x="250" y="150" width="300" height="300" fill="#c0392b"/></svg>`;
  photo = await sharp(Buffer.from(svg)).jpeg().toBuffer();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.configure({ ratePerSecond: 0, fault: 'none', outputSize: undefined, resultTtlSeconds: 3600 });
});

function body(overrides: Record<string, unknown> = {}, image = `data:image/jpeg;base64,${photo.toString('base64')}`) {
  return {
    model: 'qwen-image-edit-plus',
    input: { messages: [{ role: 'user', content: [{ image }, { text: 'white background' }] }] },
    parameters: { negative_prompt: 'props', watermark: false, n: 1 },
    ...overrides,
  };
}

/** Fetches a result URL as answered (a host of DashScope's shape) from this server, Host header kept. */
function fetchResult(resultUrl: string): Promise<{ status: number; body: Buffer }> {
  const { url, headers } = sim.localResultRequest(resultUrl);
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

async function call(payload: unknown, key = 'sk-test') {
  const response = await fetch(sim.apiUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

test('a valid call answers a result URL on another host that serves a PNG with a white background', async () => {
  const { status, json } = await call(body());
  expect(status).toBe(200);
  const url = (json.output as { choices: Array<{ message: { content: Array<{ image: string }> } }> }).choices[0]!.message.content[0]!.image;
  // Alibaba's shape: a bucket and an OSS region label before aliyuncs.com, the scheme's own port.
  expect(new URL(url).hostname).toBe(SIM_RESULT_HOST);
  expect(new URL(url).port).toBe('');
  expect(new URL(url).searchParams.get('Expires')).toMatch(/^\d+$/);
  expect(json.request_id).toEqual(expect.any(String));
  const png = (await fetchResult(url)).body;
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  expect((await sharp(png).metadata()).format).toBe('png');
  expect([data[0], data[1], data[2]]).toEqual([255, 255, 255]);
  const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  expect(data[centre]! > 150 && data[centre + 1]! < 100).toBe(true);
});

test.each([
  ['a wrong key', () => body(), 'wrong', 401, 'InvalidApiKey'],
  ['no key', () => body(), '', 401, 'InvalidApiKey'],
  ['no model', () => body({ model: undefined }), 'sk-test', 400, 'BadRequest.EmptyModel'],
  ['an unknown model', () => body({ model: 'qwen-image-edit-mega' }), 'sk-test', 400, 'InvalidParameter'],
  ['no input', () => body({ input: undefined }), 'sk-test', 400, 'BadRequest.EmptyInput'],
  ['two texts', () => ({ ...body(), input: { messages: [{ role: 'user', content: [{ image: 'data:image/jpeg;base64,AA' }, { text: 'a' }, { text: 'b' }] }] } }), 'sk-test', 400, 'InvalidParameter'],
  ['size on the legacy model', () => body({ model: 'qwen-image-edit', parameters: { size: '1024*1024' } }), 'sk-test', 400, 'InvalidParameter'],
  ['a size out of range', () => body({ parameters: { size: '4096*4096' } }), 'sk-test', 400, 'InvalidParameter'],
  ['an oss URL', () => body({}, 'oss://bucket/a.jpg'), 'sk-test', 400, 'InvalidURL'],
])('%s answers the documented error', async (_label, payload, key, status, code) => {
  const answer = await call(payload(), key);
  expect(answer.status).toBe(status);
  expect(answer.json).toEqual({ request_id: expect.any(String), code, message: expect.any(String) });
  expect(answer.json.output).toBeUndefined();
});

test('the published messages: a missing key, an unknown model', async () => {
  expect((await call(body(), '')).json.message).toBe('No API-key provided.');
  expect((await call(body({ model: 'qwen-image-edit-mega' }))).json.message).toBe('Model not exist.');
});

test('a tampered result signature is refused as OSS refuses it', async () => {
  const { json } = await call(body());
  const url = new URL((json.output as { choices: Array<{ message: { content: Array<{ image: string }> } }> }).choices[0]!.message.content[0]!.image);
  expect(url.pathname).toMatch(/^\/1d\/[0-9a-f]{2}\/\d{8}\/[0-9a-f]{8}\/[0-9a-f-]+\.png$/);
  url.searchParams.set('Signature', 'AAAA');
  const answer = await fetchResult(url.toString());
  expect(answer.status).toBe(403);
  expect(answer.body.toString()).toContain('SignatureDoesNotMatch');
});

test('a data URI whose MIME type does not match the bytes is refused', async () => {
  const answer = await call(body({}, `data:image/png;base64,${photo.toString('base64')}`));
  expect(answer).toMatchObject({ status: 400, json: { code: 'InvalidParameter' } });
});

test('a picture under 384 px a side is refused', async () => {
  const small = await sharp(photo).resize(300, 200).jpeg().toBuffer();
  expect((await call(body({}, `data:image/jpeg;base64,${small.toString('base64')}`))).json.code).toBe('InvalidParameter');
});

test('above the configured rate it answers 429 and counts it', async () => {
  sim.configure({ ratePerSecond: 2 });
  const answers = await Promise.all(Array.from({ length: 4 }, () => call(body())));
  expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 429, 429]);
  expect(answers.find((answer) => answer.status === 429)!.json.code).toBe('Throttling.RateQuota');
  expect(sim.stats).toMatchObject({ throttled: 2, succeeded: 2, maxPerSecond: 2 });
});

test('fault modes answer as DashScope does', async () => {
  sim.configure({ fault: 'data_inspection' });
  expect(await call(body())).toMatchObject({ status: 400, json: { code: 'DataInspectionFailed' } });
  sim.configure({ fault: 'arrearage' });
  expect(await call(body())).toMatchObject({ status: 400, json: { code: 'Arrearage' } });
  sim.configure({ fault: 'commodity_not_purchased' });
  expect(await call(body())).toMatchObject({ status: 429, json: { code: 'CommodityNotPurchased', message: 'Commodity has not purchased yet.' } });
  sim.configure({ fault: 'model_not_exist' });
  expect(await call(body())).toMatchObject({ status: 400, json: { code: 'InvalidParameter', message: 'Model not exist.' } });
  sim.configure({ fault: 'none', failNext: 1 });
  expect(await call(body())).toMatchObject({ status: 500, json: { code: 'InternalError' } });
  expect((await call(body())).status).toBe(200);
});

test('it can answer with another size and aspect than the input', async () => {
  sim.configure({ outputSize: { width: 1024, height: 512 } });
  const { json } = await call(body());
  expect(json.usage).toEqual({ image_count: 1, width: 1024, height: 512 });
});

test('result URLs expire', async () => {
  sim.configure({ resultTtlSeconds: -1 });
  const { json } = await call(body());
  const url = (json.output as { choices: Array<{ message: { content: Array<{ image: string }> } }> }).choices[0]!.message.content[0]!.image;
  expect((await fetchResult(url)).status).toBe(403);
});
