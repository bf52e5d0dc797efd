import { openApiDocument } from './openapi';
import { publicRoutes } from './routes';

const document = openApiDocument({ version: 'test' }) as {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>>;
  components: { schemas: Record<string, unknown> };
};

test('the document is OpenAPI 3.1 with every route of the table, and every reference resolves', () => {
  expect(document.openapi).toBe('3.1.0');
  for (const route of publicRoutes) expect(Object.keys(document.paths[route.path] ?? {})).toContain(route.method);
  const refs = JSON.stringify(document).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
  expect(refs.length).toBeGreaterThan(20);
  for (const ref of new Set(refs)) expect(Object.keys(document.components.schemas)).toContain(ref.split('/').at(-1));
});

test('every error answer has the one error body, which lists every code', () => {
  const process = document.paths['/api/v1/process']!.post!.responses;
  expect(process['402']!.content!['application/json']!.schema!.$ref).toBe('#/components/schemas/Error');
  expect(JSON.stringify(document.components.schemas.Error)).toContain('insufficient_credits');
  // A seller route without credentials answers 401 with it too.
  expect(document.paths['/credits/balance']!.get!.responses['401']!.content!['application/json']!.schema!.$ref).toBe('#/components/schemas/Error');
});
