import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { QwenClient } from '../src/qwen/qwen.client';
import { QwenError } from '../src/qwen/qwen.errors';
import { DEFAULT_RESULT_HOSTS, resultUrlProblem } from '../src/qwen/result-hosts';

/**
 * The client against DashScope's own published answers, served byte for byte by a local HTTP
 * server: what our stand-in answers cannot tell us, because we wrote both.
 */
const published = (name: 'success' | 'error') => readFileSync(path.join(__dirname, 'fixtures', 'dashscope-published', `${name}.json`), 'utf8');

let server: http.Server;
let answer: { status: number; body: string };
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const client = () =>
  new QwenClient({ baseUrl, apiKey: 'sk-test', model: 'qwen-image-edit-plus', timeoutMs: 5_000, resultHosts: DEFAULT_RESULT_HOSTS, maxResultBytes: 1e6 });
const input = { image: Buffer.from('not looked at by this server'), mime: 'image/jpeg', prompt: 'white background', negativePrompt: '' };

test('the published success answer gives the first picture, its size and the request id; its result host is allowed', async () => {
  answer = { status: 200, body: published('success') };
  const result = await client().edit(input);
  expect(result).toEqual({
    requestId: 'bf37ca26-0abe-98e4-8065-xxxxxx',
    resultUrl: 'https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/xxx.png?Expires=xxx',
    width: 1536,
    height: 1024,
  });
  expect(resultUrlProblem(result.resultUrl, DEFAULT_RESULT_HOSTS)).toBeNull();
});

test('the published error answer is read as a key problem that pauses the fleet, with its request id', async () => {
  answer = { status: 401, body: published('error') };
  const error = await client().edit(input).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(QwenError);
  expect(error).toMatchObject({ kind: 'pause', code: 'InvalidApiKey', message: 'Invalid API-key provided.', httpStatus: 401, requestId: '31f808fd-8eef-9004-xxxxx' });
});
