import { createHmac, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { DashScopeError, GENERATION_PATH, limits, mimeMatchesFormat, models, type ModelId } from './contract';
import path from 'node:path';
import { ThreadPool } from '@masterpost/platform';
import type { ModelRequest, ModelResult } from './model-thread';
import type { DriftMode } from './model';

/**
 * A local DashScope: the synchronous qwen-image-edit endpoint, to the letter of
 * docs/dashscope.md, with switches for the faults the processor must survive. Results are
 * served from a second server (another host name and port) behind signed, expiring URLs.
 */
export type FaultMode =
  | 'none' | 'data_inspection' | 'invalid_api_key' | 'arrearage' | 'access_denied' | 'model_not_found' | 'model_not_exist'
  | 'internal_error' | 'throttled' | 'allocation_quota' | 'commodity_not_purchased' | 'prepaid_bill_overdue' | 'postpaid_bill_overdue';

/**
 * The host name in result URLs: the real shape (a bucket label and an OSS region label before
 * aliyuncs.com), so the processor's allow-list is exercised as in production. It resolves
 * nowhere; the processor is told to connect it to this server's result port
 * (`QWEN_RESULT_RESOLVE`, see `resolveRule`).
 */
export const SIM_RESULT_HOST = 'dashscope-result-sim.oss-test-1.aliyuncs.com';

export interface SimOptions {
  /** When set, requests must carry exactly this key. Any non-empty key is accepted otherwise. */
  apiKey?: string;
  latencyMs: number;
  jitterMs: number;
  /** Accepted requests per sliding second; above it the answer is 429. 0 means unlimited. */
  ratePerSecond: number;
  /**
   * The sliding window the rate is counted over: at most ratePerSecond × rateWindowMs / 1000
   * requests in any window of this length (1000: a sliding second). A longer one gives a
   * fractional rate a meaning (1.2 a second: 6 in any 5 s). Change both mid-run with `configure`
   * (or POST /_sim/config) for an account whose real limit changes.
   */
  rateWindowMs?: number;
  /** The next N requests answer 429 whatever the rate (a provider busy for a moment). */
  throttleNext: number;
  /** Share (0..1) of accepted calls that answer 500 InternalError. */
  errorRate: number;
  /** The next N accepted calls answer 500 (a burst), before errorRate applies. */
  failNext: number;
  fault: FaultMode;
  /** How every successful output strays from the photo (model.ts `driftModes`), after `driftNext` is used up. */
  drift: DriftMode;
  /** The next successful calls' drift, one each in order (a model that drifts once, then not). */
  driftNext: DriftMode[];
  outputSize?: { width: number; height: number };
  noise: number;
  tolerance: number;
  resultTtlSeconds: number;
  /** Largest input image accepted, in bytes (the contract's 10 MB unless set lower to provoke a 413). */
  maxImageBytes: number;
  /** Scheme and host (and port, if any) of the result URLs answered; another value provokes a refused host. */
  resultOrigin: string;
}

export interface SimStats {
  requests: number;
  accepted: number;
  succeeded: number;
  throttled: number;
  failed: number;
  inFlight: number;
  maxInFlight: number;
  /** Most requests accepted within any sliding second, as the provider would count them. */
  maxPerSecond: number;
  /** When each request was accepted, and when each was answered 429 for the rate (ms since the epoch). */
  acceptedAt: number[];
  throttledAt: number[];
  resultDownloads: number;
  /** Successful (billed) calls per first-image content hash, to prove nothing was paid twice. */
  billedByImage: Record<string, number>;
  /**
   * Billed calls whose client had gone (its process killed) before the answer was sent: the
   * work was done and, as far as anyone outside Alibaba knows, paid for, but never delivered.
   */
  billedUndelivered: number;
  billedUndeliveredByImage: Record<string, number>;
}

export const defaultSimOptions: SimOptions = {
  latencyMs: 0,
  jitterMs: 0,
  ratePerSecond: 0,
  throttleNext: 0,
  errorRate: 0,
  failNext: 0,
  fault: 'none',
  drift: 'none',
  driftNext: [],
  noise: 3,
  tolerance: 40,
  resultTtlSeconds: 24 * 3600,
  maxImageBytes: limits.maxImageBytes,
  resultOrigin: `http://${SIM_RESULT_HOST}`,
};

export interface SimServer {
  apiUrl: string;
  baseUrl: string;
  /** Where the result server really listens (127.0.0.1 and its port). */
  resultAddress: { address: string; port: number };
  /** The processor's QWEN_RESULT_RESOLVE entry that reaches this server's results. */
  resolveRule: string;
  /** A result URL as answered, rewritten to reach this server from a test (the Host header kept). */
  localResultRequest(resultUrl: string): { url: string; headers: Record<string, string> };
  options: SimOptions;
  stats: SimStats;
  configure(patch: Partial<SimOptions>): void;
  reset(): void;
  close(): Promise<void>;
}

function emptyStats(): SimStats {
  return {
    requests: 0, accepted: 0, succeeded: 0, throttled: 0, failed: 0, inFlight: 0, maxInFlight: 0, maxPerSecond: 0, acceptedAt: [], throttledAt: [], resultDownloads: 0, billedByImage: {},
    billedUndelivered: 0, billedUndeliveredByImage: {},
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new DashScopeError(413, 'BadRequest.TooLarge', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The most recent accept and 429 times kept in the stats (a stand-in left running keeps no more). */
const STAMPS_KEPT = 100_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ParsedRequest {
  model: ModelId;
  image: Buffer;
  imageHash: string;
  size?: { width: number; height: number };
}

async function parseGenerationRequest(raw: Buffer, maxImageBytes: number): Promise<ParsedRequest> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new DashScopeError(400, 'InvalidParameter', 'Required body invalid, please check the request body format.');
  }
  if (typeof body !== 'object' || body === null) throw new DashScopeError(400, 'InvalidParameter', 'The request body must be an object.');
  const request = body as { model?: unknown; input?: unknown; parameters?: unknown };
  if (request.model === undefined || request.model === '') throw new DashScopeError(400, 'BadRequest.EmptyModel', 'Required parameter "model" missing from request.');
  // Published answer for a model id that does not exist (Alibaba's error-code page, 400 InvalidParameter).
  if (typeof request.model !== 'string' || !(request.model in models)) throw new DashScopeError(400, 'InvalidParameter', 'Model not exist.');
  const model = request.model as ModelId;
  if (request.input === undefined) throw new DashScopeError(400, 'BadRequest.EmptyInput', 'Required input parameter missing from request.');
  const messages = (request.input as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length !== 1) throw new DashScopeError(400, 'InvalidParameter', 'input.messages must hold exactly one message.');
  const message = messages[0] as { role?: unknown; content?: unknown };
  if (message.role !== 'user') throw new DashScopeError(400, 'InvalidParameter', 'The message role must be "user".');
  if (!Array.isArray(message.content)) throw new DashScopeError(400, 'InvalidParameter', 'message.content must be an array.');
  const images: string[] = [];
  const texts: string[] = [];
  for (const item of message.content as unknown[]) {
    const entry = item as { image?: unknown; text?: unknown };
    const keys = typeof item === 'object' && item !== null ? Object.keys(item) : [];
    if (keys.length === 1 && typeof entry.image === 'string') images.push(entry.image);
    else if (keys.length === 1 && typeof entry.text === 'string') texts.push(entry.text);
    else throw new DashScopeError(400, 'InvalidParameter', 'Each content item must be {image} or {text}.');
  }
  if (images.length < 1 || images.length > 3) throw new DashScopeError(400, 'InvalidParameter', 'content must hold 1 to 3 images.');
  if (texts.length !== 1) throw new DashScopeError(400, 'InvalidParameter', 'content must hold exactly one text.');
  if (texts[0]!.length === 0) throw new DashScopeError(400, 'InvalidParameter', 'The text must not be empty.');
  // A longer text is not refused: the service truncates it (published behaviour).

  const parameters = (request.parameters ?? {}) as Record<string, unknown>;
  if (typeof parameters !== 'object') throw new DashScopeError(400, 'InvalidParameter', 'parameters must be an object.');
  if (parameters.n !== undefined && (!Number.isInteger(parameters.n) || (parameters.n as number) < 1 || (parameters.n as number) > 6)) {
    throw new DashScopeError(400, 'InvalidParameter', 'parameters.n must be an integer from 1 to 6.');
  }
  if (parameters.watermark !== undefined && typeof parameters.watermark !== 'boolean') {
    throw new DashScopeError(400, 'InvalidParameter', 'parameters.watermark must be a boolean.');
  }
  if (parameters.negative_prompt !== undefined && typeof parameters.negative_prompt !== 'string') {
    throw new DashScopeError(400, 'InvalidParameter', 'parameters.negative_prompt must be a string.');
  }
  let size: { width: number; height: number } | undefined;
  if (parameters.size !== undefined || parameters.prompt_extend !== undefined) {
    if (!models[model].takesSize) throw new DashScopeError(400, 'InvalidParameter', `${model} does not take size or prompt_extend.`);
  }
  if (parameters.size !== undefined) {
    const match = typeof parameters.size === 'string' ? /^(\d+)\*(\d+)$/.exec(parameters.size) : null;
    if (!match) throw new DashScopeError(400, 'InvalidParameter', 'parameters.size must be written "W*H".');
    const width = Number(match[1]);
    const height = Number(match[2]);
    if ([width, height].some((side) => side < limits.minOutputSide || side > limits.maxOutputSide)) {
      throw new DashScopeError(400, 'InvalidParameter', `Each side of parameters.size must be ${limits.minOutputSide} to ${limits.maxOutputSide}.`);
    }
    if ((parameters.n ?? 1) !== 1) throw new DashScopeError(400, 'InvalidParameter', 'parameters.size requires n = 1.');
    size = { width, height };
  }

  const source = images[0]!;
  if (source.startsWith('oss://')) throw new DashScopeError(400, 'InvalidURL', 'oss:// URLs are not supported in this region.');
  const dataUri = /^data:([a-zA-Z0-9.+/-]+);base64,(.*)$/s.exec(source);
  if (!dataUri) {
    if (/^https?:\/\//.test(source)) throw new DashScopeError(400, 'BadRequest.InputDownloadFailed', 'Failed to download the input image.');
    throw new DashScopeError(400, 'InvalidURL', 'The image must be an http(s) URL or a data URI.');
  }
  const image = Buffer.from(dataUri[2]!, 'base64');
  if (image.length > maxImageBytes) throw new DashScopeError(413, 'BadRequest.TooLarge', `The input image is larger than ${Math.round(maxImageBytes / 1024 / 1024)} MB.`);
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(image).metadata();
  } catch {
    throw new DashScopeError(400, 'InvalidParameter', 'The input image cannot be decoded.');
  }
  if (!mimeMatchesFormat(dataUri[1]!, metadata.format)) {
    throw new DashScopeError(400, 'InvalidParameter', `The data URI says ${dataUri[1]} but the bytes are ${metadata.format ?? 'unknown'}.`);
  }
  const width = metadata.autoOrient?.width ?? metadata.width ?? 0;
  const height = metadata.autoOrient?.height ?? metadata.height ?? 0;
  if ([width, height].some((side) => side < limits.minSide || side > limits.maxSide)) {
    throw new DashScopeError(400, 'InvalidParameter', `Each side of the input image must be ${limits.minSide} to ${limits.maxSide} pixels.`);
  }
  const imageHash = createHmac('sha256', 'sim').update(image).digest('hex').slice(0, 16);
  return { model, image, imageHash, ...(size ? { size } : {}) };
}

const FAULTS: Record<Exclude<FaultMode, 'none'>, [number, string, string]> = {
  data_inspection: [400, 'DataInspectionFailed', 'Input data may contain inappropriate content.'],
  invalid_api_key: [401, 'InvalidApiKey', 'Invalid API-key provided.'],
  arrearage: [400, 'Arrearage', 'Access denied, please make sure your account is in good standing.'],
  access_denied: [403, 'AccessDenied', 'Access denied.'],
  model_not_found: [404, 'ModelNotFound', 'Model not found (qwen-image-edit-plus)!'],
  model_not_exist: [400, 'InvalidParameter', 'Model not exist.'],
  internal_error: [500, 'InternalError', 'An internal error has occured, please try again later or contact service support.'],
  throttled: [429, 'Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.'],
  allocation_quota: [429, 'Throttling.AllocationQuota', 'Free allocated quota exceeded.'],
  commodity_not_purchased: [429, 'CommodityNotPurchased', 'Commodity has not purchased yet.'],
  prepaid_bill_overdue: [429, 'PrepaidBillOverdue', 'The prepaid bill is overdue.'],
  postpaid_bill_overdue: [429, 'PostpaidBillOverdue', 'The postpaid bill is overdue.'],
};

export async function startSim(
  initial: Partial<SimOptions> = {},
  listen: { port?: number; resultPort?: number; host?: string } = {},
): Promise<SimServer> {
  const options: SimOptions = { ...defaultSimOptions, driftNext: [], ...initial };
  // The model's flood fill is plain JavaScript: on this thread it would delay other requests'
  // arrival times and make the rate count see bunches that were never sent.
  const model = new ThreadPool<ModelRequest, ModelResult>(path.join(__dirname, 'model-thread.ts'), 2);
  let stats = emptyStats();
  let acceptedTimes: number[] = [];
  const results = new Map<string, { png: Buffer; expires: number }>();
  const signingKey = randomUUID();
  const host = listen.host ?? '127.0.0.1';

  // OSS signs with HMAC-SHA1 in base64 (URL-encoded in the query), like the published URLs.
  const sign = (id: string, expires: number) => createHmac('sha1', signingKey).update(`${id}:${expires}`).digest('base64');

  const resultServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const match = /^\/1d\/[0-9a-f]{2}\/\d{8}\/[0-9a-f]{8}\/([a-f0-9-]+)\.png$/.exec(url.pathname);
    const expires = Number(url.searchParams.get('Expires'));
    const entry = match ? results.get(match[1]!) : undefined;
    if (!match || !entry) {
      res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
      return;
    }
    if (url.searchParams.get('Signature') !== sign(match[1]!, expires)) {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>');
      return;
    }
    if (Date.now() / 1000 > expires) {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>');
      return;
    }
    stats.resultDownloads++;
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': entry.png.length }).end(entry.png);
  });

  const apiServer = http.createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname === '/_sim/stats' && req.method === 'GET') return sendJson(res, 200, stats);
    if (url.pathname === '/_sim/config' && req.method === 'GET') return sendJson(res, 200, options);
    if (url.pathname === '/_sim/config' && req.method === 'POST') {
      const patch = JSON.parse((await readBody(req, 1e5)).toString('utf8') || '{}') as Partial<SimOptions>;
      Object.assign(options, patch);
      return sendJson(res, 200, options);
    }
    if (url.pathname === '/_sim/reset' && req.method === 'POST') {
      stats = emptyStats();
      acceptedTimes = [];
      return sendJson(res, 200, stats);
    }
    if (url.pathname === '/health') return sendJson(res, 200, { status: 'ok', pid: process.pid });

    const requestId = randomUUID();
    const fail = (error: DashScopeError) => sendJson(res, error.status, { request_id: requestId, code: error.code, message: error.message });
    if (url.pathname !== GENERATION_PATH) return fail(new DashScopeError(404, 'NotFound', 'Not found.'));
    if (req.method !== 'POST') return fail(new DashScopeError(400, 'InvalidParameter', `Request method '${req.method ?? ''}' is not supported.`));
    stats.requests++;

    const auth = req.headers.authorization ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!key) return fail(new DashScopeError(401, 'InvalidApiKey', 'No API-key provided.'));
    if (options.apiKey !== undefined && key !== options.apiKey) return fail(new DashScopeError(401, 'InvalidApiKey', 'Invalid API-key provided.'));
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return fail(new DashScopeError(400, 'InvalidParameter', 'Content-Type must be application/json.'));
    }

    const now = Date.now();
    const windowMs = options.rateWindowMs ?? 1000;
    acceptedTimes = acceptedTimes.filter((time) => now - time < Math.max(1000, windowMs));
    const inWindow = windowMs === 1000 ? acceptedTimes.length : acceptedTimes.filter((time) => now - time < windowMs).length;
    const busy = options.throttleNext > 0;
    if (busy) options.throttleNext--;
    if (busy || (options.ratePerSecond > 0 && inWindow >= (options.ratePerSecond * windowMs) / 1000)) {
      stats.throttled++;
      if (stats.throttledAt.push(now) > STAMPS_KEPT) stats.throttledAt.shift();
      return fail(new DashScopeError(429, 'Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.'));
    }
    acceptedTimes.push(now);
    if (stats.acceptedAt.push(now) > STAMPS_KEPT) stats.acceptedAt.shift();
    // A client that dies mid-call (SIGKILL) half-closes or resets its socket; noted here, as the
    // answer written later into a dead socket would not fail on our side.
    let clientGone = false;
    const markGone = () => {
      clientGone = true;
    };
    req.socket.on('end', markGone).on('close', markGone).on('error', markGone);
    // Kept-alive sockets carry many requests: each one's listeners go when its answer is sent.
    res.once('finish', () => req.socket.off('end', markGone).off('close', markGone).off('error', markGone));
    stats.accepted++;
    stats.maxPerSecond = Math.max(stats.maxPerSecond, acceptedTimes.filter((time) => now - time < 1000).length);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      let raw: Buffer;
      let parsed: ParsedRequest;
      try {
        raw = await readBody(req, 20 * 1024 * 1024);
        parsed = await parseGenerationRequest(raw, options.maxImageBytes);
      } catch (error) {
        stats.failed++;
        return fail(error instanceof DashScopeError ? error : new DashScopeError(400, 'InvalidParameter', 'Bad request.'));
      }
      const latency = options.latencyMs + (options.jitterMs > 0 ? Math.round((Math.random() * 2 - 1) * options.jitterMs) : 0);
      if (latency > 0) await sleep(latency);
      if (options.fault !== 'none') {
        stats.failed++;
        const [status, code, message] = FAULTS[options.fault];
        return fail(new DashScopeError(status, code, message));
      }
      if (options.failNext > 0 || (options.errorRate > 0 && Math.random() < options.errorRate)) {
        if (options.failNext > 0) options.failNext--;
        stats.failed++;
        return fail(new DashScopeError(500, 'InternalError', 'An internal error has occured, please try again later or contact service support.'));
      }
      const drift = options.driftNext.length > 0 ? options.driftNext.shift()! : options.drift;
      const modelOutput = await model.run({ input: parsed.image, options: {
        drift,
        noise: options.noise,
        tolerance: options.tolerance,
        // The switch wins over the request: it stands for a model that drifts from what was asked.
        ...((options.outputSize ?? parsed.size) ? { outputSize: options.outputSize ?? parsed.size } : {}),
      } });
      const output = { ...modelOutput, png: Buffer.from(modelOutput.png) };
      const id = randomUUID();
      const expires = Math.floor(Date.now() / 1000) + options.resultTtlSeconds;
      results.set(id, { png: output.png, expires });
      setTimeout(() => results.delete(id), options.resultTtlSeconds * 1000 + 60_000).unref();
      stats.succeeded++;
      stats.billedByImage[parsed.imageHash] = (stats.billedByImage[parsed.imageHash] ?? 0) + 1;
      if (clientGone || req.socket.destroyed) {
        stats.billedUndelivered++;
        stats.billedUndeliveredByImage[parsed.imageHash] = (stats.billedUndeliveredByImage[parsed.imageHash] ?? 0) + 1;
      }
      const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
      const resultPath = `/1d/${id.slice(0, 2)}/${day}/${id.replace(/-/g, '').slice(-8)}/${id}.png`;
      const resultUrl = `${options.resultOrigin}${resultPath}?Expires=${expires}&OSSAccessKeyId=LTAI5tSimStandIn&Signature=${encodeURIComponent(sign(id, expires))}`;
      return sendJson(res, 200, {
        output: { choices: [{ finish_reason: 'stop', message: { role: 'assistant', content: [{ image: resultUrl }] } }] },
        usage: { image_count: 1, width: output.width, height: output.height },
        request_id: requestId,
      });
    } finally {
      stats.inFlight--;
    }
  }

  await new Promise<void>((resolve) => apiServer.listen(listen.port ?? 0, host, resolve));
  await new Promise<void>((resolve) => resultServer.listen(listen.resultPort ?? 0, host === '0.0.0.0' ? '0.0.0.0' : '127.0.0.1', resolve));
  const apiPort = (apiServer.address() as AddressInfo).port;
  const resultPort = (resultServer.address() as AddressInfo).port;
  const origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${apiPort}`;

  return {
    apiUrl: `${origin}${GENERATION_PATH}`,
    baseUrl: `${origin}/api/v1`,
    resultAddress: { address: '127.0.0.1', port: resultPort },
    resolveRule: `${SIM_RESULT_HOST}:127.0.0.1:${resultPort}`,
    localResultRequest(resultUrl) {
      const url = new URL(resultUrl);
      return { url: `http://127.0.0.1:${resultPort}${url.pathname}${url.search}`, headers: { host: url.host } };
    },
    options,
    get stats() {
      return stats;
    },
    configure(patch) {
      Object.assign(options, patch);
    },
    reset() {
      stats = emptyStats();
      acceptedTimes = [];
    },
    close: async () => {
      await model.close();
      apiServer.closeAllConnections();
      resultServer.closeAllConnections();
      await Promise.all([
        new Promise((resolve) => apiServer.close(resolve)),
        new Promise((resolve) => resultServer.close(resolve)),
      ]);
    },
  };
}
