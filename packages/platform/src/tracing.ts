import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, INVALID_SPAN_CONTEXT, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * OpenTelemetry tracing: one trace per picture, from the gateway's upload through the queue, the
 * processor (Qwen, render, capture) and billing, to the download. Off unless an OTLP endpoint is
 * configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
 * `OTEL_TRACES_EXPORTER=otlp` for the exporter's default, http://localhost:4318); then spans go
 * out as OTLP/HTTP JSON in batches (`OTEL_BSP_SCHEDULE_DELAY` ms apart, 5000 by default).
 *
 * Off, nothing is registered: the API's no-op tracer makes every span here a shared non-recording
 * one, and the helpers below return before doing any work of their own.
 */
let provider: TracerProvider | null = null;
const tracer = () => trace.getTracer('masterpost');
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Whether the environment asks for traces. `OTEL_SDK_DISABLED` and `OTEL_TRACES_EXPORTER=none` win. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  if (exporters.includes('none')) return false;
  return exporters.includes('otlp') || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** First thing in a service's main: registers the SDK when tracing is asked for, does nothing otherwise. */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (provider || !tracingRequested(env)) return Boolean(provider);
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || `masterpost-${service}` }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), ...(delay > 0 ? { scheduledDelayMillis: delay } : {}) })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return true;
}

export function tracingEnabled(): boolean {
  return provider !== null;
}

/** Sends what is still batched (the shutdown's last step); bounded, and silent when the collector is away. */
export async function stopTracing(timeoutMs = 3000): Promise<void> {
  if (!provider) return;
  const stopping = provider.shutdown().catch(() => undefined);
  await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}

/** The active span as a W3C `traceparent`, for what crosses a queue (a job's payload); undefined when off. */
export function currentTraceparent(): string | undefined {
  if (!provider) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Headers that continue the active trace in the service called (`traceparent`); empty when off. */
export function traceHeaders(): Record<string, string> {
  if (!provider) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

function contextOf(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

function ended(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `work` in a child span of the active one (cheap when off: the no-op tracer's span). */
export async function withSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  if (!provider) return work(NO_SPAN);
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await work(span);
      ended(span);
      return result;
    } catch (error) {
      ended(span, error);
      throw error;
    }
  });
}

/** Adds attributes to the active span (a route's job id, once it is known). */
export function annotateSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/**
 * A queued job's span, child of the span that queued it (`traceparent` from its payload), begun
 * when it was queued so that its first child, `queue.wait`, shows how long it waited for a worker.
 */
export async function traceJob<T>(
  name: string,
  job: { traceparent?: string | undefined; queuedAt?: number | undefined; startedAt?: number | undefined; attributes: Attributes },
  work: () => Promise<T>,
): Promise<T> {
  if (!provider) return work();
  const parent = contextOf(job.traceparent);
  const span = tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes: job.attributes, ...(job.queuedAt ? { startTime: job.queuedAt } : {}) }, parent);
  const inside = trace.setSpan(parent, span);
  if (job.queuedAt && job.startedAt) {
    const waited = Math.max(0, job.startedAt - job.queuedAt);
    span.setAttribute('queue.wait_ms', waited);
    tracer().startSpan('queue.wait', { startTime: job.queuedAt, attributes: { 'queue.wait_ms': waited } }, inside).end(job.startedAt);
  }
  try {
    const result = await context.with(inside, work);
    ended(span);
    return result;
  } catch (error) {
    ended(span, error);
    throw error;
  }
}

type Request = IncomingMessage & { route?: { path?: string }; baseUrl?: string };
type Middleware = (req: Request, res: ServerResponse, next: (error?: unknown) => void) => void;

function serverSpan(name: string, req: Request, res: ServerResponse, parent: Context, renameAtEnd: boolean): Span {
  const path = (req.url ?? '').split('?')[0] ?? '';
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'url.path': path } }, parent);
  let open = true;
  const end = () => {
    if (!open) return;
    open = false;
    const route = req.route?.path === undefined ? undefined : `${req.baseUrl ?? ''}${req.route.path}`;
    if (route) span.setAttribute('http.route', route);
    if (renameAtEnd && route) span.updateName(`${req.method ?? ''} ${route}`);
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  res.once('finish', end);
  res.once('close', end);
  return span;
}

/**
 * A route's span (the gateway's `upload`, `process`, `download`). Its parent is the trace the
 * route's job already has (`parent`: the upload's, kept with the job), else the caller's
 * `traceparent` header, else none: it starts the trace.
 */
export function traceRoute<R extends Request>(name: string, parent?: (req: R) => Promise<string | undefined>): (req: R, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    if (!provider) return next();
    const begin = (traceparent: string | undefined) => {
      const outer = traceparent ? contextOf(traceparent) : propagation.extract(ROOT_CONTEXT, req.headers);
      const span = serverSpan(name, req, res, outer, false);
      context.with(trace.setSpan(outer, span), next);
    };
    if (!parent) return begin(undefined);
    // Tracing never fails a request: without the job's trace, the span starts its own.
    parent(req).then(begin, () => begin(undefined));
  };
}

/**
 * Every request's span, continuing the caller's trace (billing: called by the gateway and the
 * processor with `traceparent`). `nameOf` names it (null: not traced, as probes); otherwise it is
 * named `METHOD /route` once the route is known.
 */
export function traceRequests(nameOf: (req: Request) => string | null | undefined): Middleware {
  return (req, res, next) => {
    if (!provider) return next();
    const name = nameOf(req);
    if (name === null) return next();
    const outer = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = serverSpan(name ?? `${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`, req, res, outer, name === undefined);
    context.with(trace.setSpan(outer, span), next);
  };
}

/** The trace and span ids of the active span, for log lines (empty when off). */
export function traceIds(): { trace_id?: string; span_id?: string } {
  if (!provider) return {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}
