import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import AdmZip from 'adm-zip';
import request from 'supertest';
import { getBinary } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * Trace a picture: the three services export OTLP/HTTP to a receiver here (a collector speaking
 * the wire format, no stub of ours inside the services); one picture is uploaded, processed and
 * downloaded, and its spans must form one tree across the three services. With tracing off (the
 * default) nothing is sent at all.
 */
jest.setTimeout(240_000);

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: Array<{ key: string; value: OtlpValue }> }> }>;
  }>;
}

const valueOf = (value: OtlpValue): unknown => value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue));
const attributesOf = (list: Array<{ key: string; value: OtlpValue }> = []) => Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/** A minimal OTLP/HTTP receiver (JSON encoding, as the services' exporter sends it). */
async function startReceiver(port = 0): Promise<{ url: string; port: number; requests: number; spans: ReceivedSpan[]; close: () => Promise<void> }> {
  const state = { requests: 0, spans: [] as ReceivedSpan[] };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const payload = JSON.parse(body.toString('utf8')) as OtlpExport;
      for (const resourceSpans of payload.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            state.spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', name: span.name, attributes: attributesOf(span.attributes) });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    get requests() {
      return state.requests;
    },
    spans: state.spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** One picture through the public API: upload, process (with our request id), wait, download. */
async function onePicture(stack: TestStack, email: string, requestId: string): Promise<string> {
  const seller = await Seller.register(stack.gatewayUrl, email);
  const api = request(stack.gatewayUrl);
  const [photo] = await distinctPhotos(1);
  const upload = await api.post('/api/v1/upload').set('authorization', `Bearer ${seller.token}`).attach('files', photo!, 'traced.jpg').expect(201);
  const jobId = upload.body.job_id as string;
  await api.post('/api/v1/process').set('authorization', `Bearer ${seller.token}`).set('x-request-id', requestId).send({ job_id: jobId, pipeline: 'amazon' }).expect(202);
  const progress = await seller.waitUntilFinished(jobId, 120_000);
  expect(progress).toMatchObject({ completed: 1, failed: 0, credits_charged: 3 });
  const zip = await getBinary(api, `/api/v1/download/${jobId}`, seller.token).expect(200);
  expect(new AdmZip(zip.body as Buffer).getEntries().map((entry) => entry.entryName).sort()).toEqual(['manifest.json', 'traced.jpg']);
  return jobId;
}

const logLines = (stack: TestStack) =>
  stack
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let stack: TestStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startTestStack({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_TRACES_EXPORTER: '', LOG_LEVEL: 'info' } });
  });
  cleanUpAfter(() => stack);
  afterAll(() => receiver?.close());

  test("one picture's spans form one tree across the gateway, the processor and billing", async () => {
    const requestId = 'trace-e2e-process-0001';
    const jobId = await onePicture(stack, 'traced@example.com', requestId);

    const upload = await until('the upload span', () => receiver.spans.find((span) => span.name === 'upload' && span.attributes['job.id'] === jobId));
    const traceId = upload.traceId;
    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    // The last spans (the download's, billing's) arrive within a batch delay or two.
    await until('the whole trace', () => {
      const names = new Set(inTrace().map((span) => span.name));
      return ['download', 'ledger.capture', 'capture', 'JobFinalize'].every((name) => names.has(name)) ? true : undefined;
    });
    const spans = inTrace();

    // Every span about this job is in this one trace.
    const aboutJob = receiver.spans.filter((span) => span.attributes['job.id'] === jobId);
    expect(new Set(aboutJob.map((span) => span.traceId))).toEqual(new Set([traceId]));
    expect(new Set(aboutJob.map((span) => span.name))).toEqual(new Set(['upload', 'process', 'picture', 'JobFinalize', 'download']));

    // One tree: a single root (the upload's request), every other span's parent in the trace.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    expect(byId.size).toBe(spans.length);
    const roots = spans.filter((span) => !span.parentSpanId);
    expect(roots.map((span) => span.name)).toEqual(['upload']);
    expect(spans.filter((span) => span.parentSpanId && !byId.has(span.parentSpanId))).toEqual([]);

    const pathOf = (span: ReceivedSpan): string[] => {
      const names = [span.name];
      for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) names.unshift(parent.name);
      return names;
    };
    const one = (name: string) => {
      const found = spans.filter((span) => span.name === name);
      expect(found).toHaveLength(1);
      return found[0]!;
    };
    expect(pathOf(one('process'))).toEqual(['upload', 'process']);
    expect(pathOf(one('download'))).toEqual(['upload', 'download']);
    expect(pathOf(one('queue.wait'))).toEqual(['upload', 'process', 'picture', 'queue.wait']);
    expect(pathOf(one('qwen.call'))).toEqual(['upload', 'process', 'picture', 'qwen.call']);
    expect(pathOf(one('render'))).toEqual(['upload', 'process', 'picture', 'render']);
    // The picture's own capture; a finalizer settling it again (a duplicate, no charge) is its own branch.
    expect(spans.filter((span) => span.name === 'ledger.capture').map(pathOf)).toContainEqual(['upload', 'process', 'picture', 'capture', 'ledger.capture']);
    expect(pathOf(one('ledger.hold'))).toEqual(['upload', 'process', 'ledger.hold']);
    expect(one('picture').attributes).toMatchObject({ 'job.id': jobId, 'bullmq.job.attempt': 1 });
    expect(one('qwen.call').attributes).toMatchObject({ 'qwen.reused': false });
    expect(one('upload').attributes).toMatchObject({ 'pictures.count': 1, 'http.response.status_code': 201 });

    // From the three services, each named.
    const serviceOf = (name: string) => one(name).service;
    expect([serviceOf('upload'), serviceOf('process'), serviceOf('download')]).toEqual(['masterpost-gateway', 'masterpost-gateway', 'masterpost-gateway']);
    expect([serviceOf('picture'), serviceOf('queue.wait'), serviceOf('qwen.call'), serviceOf('render')]).toEqual(Array(4).fill('masterpost-processor'));
    expect(new Set(spans.filter((span) => span.name === 'capture').map((span) => span.service))).toEqual(new Set(['masterpost-processor']));
    expect(new Set(spans.filter((span) => span.name.startsWith('ledger.')).map((span) => span.service))).toEqual(new Set(['masterpost-billing']));

    // The request id travels too: the Qwen step's log line and billing's name it, with the trace.
    const lines = logLines(stack);
    const qwenLine = lines.find((line) => line.msg === 'qwen output obtained' && line.jobId === jobId);
    expect(qwenLine).toMatchObject({ name: 'processor', requestId, trace_id: traceId });
    expect(lines.find((line) => line.name === 'billing' && line.requestId === requestId && line.route === '/captures')).toBeDefined();
  });
});

describe('tracing off (the default)', () => {
  let stack: TestStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    // The port an OTLP exporter sends to when told nothing else: a service exporting by default would hit it.
    receiver = await startReceiver(4318).catch(() => startReceiver());
    stack = await startTestStack({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '', OTEL_TRACES_EXPORTER: '', LOG_LEVEL: 'info' },
    });
  });
  cleanUpAfter(() => stack);
  afterAll(() => receiver?.close());

  test('no span leaves any service, and the request id still reaches the Qwen step and billing', async () => {
    const requestId = 'untraced-e2e-process-0001';
    const jobId = await onePicture(stack, 'untraced@example.com', requestId);
    // Longer than the batch delay the services would use (5 s by default) had they started an exporter.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(receiver.requests).toBe(0);
    const lines = logLines(stack);
    const qwenLine = lines.find((line) => line.msg === 'qwen output obtained' && line.jobId === jobId);
    expect(qwenLine).toMatchObject({ requestId });
    expect(qwenLine).not.toHaveProperty('trace_id');
    expect(lines.find((line) => line.name === 'billing' && line.requestId === requestId && line.route === '/captures')).toBeDefined();
  });
});
