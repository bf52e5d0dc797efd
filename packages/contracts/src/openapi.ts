import { z } from 'zod';
import { errorBody } from './api';
import { ErrorCode } from './errors';
import { publicRoutes, type Answer, type PublicRoute } from './routes';

/**
 * The OpenAPI 3.1 document, made from the route table and the zod schemas, never written by
 * hand: every public route, its body, query, answers (error bodies with every code), the
 * Idempotency-Key header and the auth scheme. JSON Schema 2020-12 is OpenAPI 3.1's own dialect,
 * so zod's own converter writes the components.
 */
type JsonSchema = Record<string, unknown>;

const COMPONENT = (id: string) => `#/components/schemas/${id}`;

function components(io: 'input' | 'output'): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', io, uri: COMPONENT, unrepresentable: 'any' });
  const cleaned: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
    cleaned[id] = rest;
  }
  return cleaned;
}

function idOf(schema: z.ZodType): string | undefined {
  return z.globalRegistry.get(schema)?.id;
}

function inline(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function schemaRef(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = idOf(schema);
  return id ? { $ref: COMPONENT(id) } : inline(schema, io);
}

/** Every answer carries its request id; limited routes their quota; 429 and 503 when to try again. */
const COMMON_HEADERS: Record<string, string> = { 'X-Request-Id': 'this request, as it appears in every log line of the services it touched' };
const STATUS_HEADERS: Record<number, Record<string, string>> = {
  429: { 'Retry-After': 'seconds before trying again', RateLimit: 'the quota left (IETF RateLimit header)', 'RateLimit-Policy': 'the quota' },
  503: { 'Retry-After': 'seconds before trying again' },
};

function answerObject(status: number, answer: Answer): JsonSchema {
  const named = { ...COMMON_HEADERS, ...STATUS_HEADERS[status], ...answer.headers };
  const headers = Object.fromEntries(Object.entries(named).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
  // Bytes, JSON, or either (the one-call picture: its bytes, or its record with Accept: application/json).
  const content = {
    ...(answer.contentType ? { [answer.contentType]: {} } : {}),
    ...(answer.schema ? { 'application/json': { schema: schemaRef(answer.schema, 'output') } } : {}),
  };
  return { description: answer.description, headers, ...(Object.keys(content).length ? { content } : {}) };
}

function operation(route: PublicRoute): JsonSchema {
  const parameters: JsonSchema[] = [];
  for (const match of route.path.matchAll(/\{(\w+)\}/g)) {
    parameters.push({ name: match[1], in: 'path', required: true, schema: { type: 'string' } });
  }
  for (const [name, query] of Object.entries(route.query ?? {})) {
    parameters.push({ name, in: 'query', required: false, description: query.description, schema: inline(query.schema, 'input') });
  }
  if (route.idempotent) {
    parameters.push({
      name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 },
      description: 'Repeating a request with the same key and body answers the first answer again; another body under the same key is a 422',
    });
  }
  const answers = { ...route.answers };
  if (route.access !== 'public') answers[401] ??= { description: 'no valid credentials', schema: errorBody };
  if (route.access === 'operator') answers[403] ??= { description: 'not an operator', schema: errorBody };
  // Any route may meet a dependency that is down, or a fault of ours.
  answers[503] ??= { description: 'service_unavailable: a service we depend on is down; try again after Retry-After', schema: errorBody };
  answers[500] ??= { description: 'internal_error: a fault of ours; nothing was charged for it', schema: errorBody };
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { [route.body.contentType]: { schema: schemaRef(route.body.schema, 'input') } } } } : {}),
    responses: Object.fromEntries(Object.entries(answers).map(([status, answer]) => [status, answerObject(Number(status), answer)])),
    ...(route.access === 'public' ? { security: [] } : route.access === 'session' ? { security: [{ bearer: [] }] } : {}),
  };
}

export function openApiDocument(options: { version: string; serverUrl?: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of publicRoutes) (paths[route.path] ??= {})[route.method] = operation(route);
  const requestIds = new Set(publicRoutes.flatMap((route) => (route.body ? [idOf(route.body.schema)] : [])).filter((id): id is string => Boolean(id)));
  const outputs = components('output');
  const inputs = components('input');
  const schemas = Object.fromEntries(Object.keys(outputs).map((id) => [id, requestIds.has(id) ? inputs[id]! : outputs[id]!]));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Masterpost',
      version: options.version,
      description: `Product photos in, marketplace-ready pictures out. Every error is {"error": {"code", "message", "field"?}}; the codes: ${Object.values(ErrorCode).join(', ')}.`,
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }, { apiKey: [] }],
    tags: [...new Set(publicRoutes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the access_token of /auth/login or /auth/register, or an API key (mp_...)' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'an API key made with POST /api/v1/keys' },
      },
    },
  };
}
