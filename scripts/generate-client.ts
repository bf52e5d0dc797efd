import { writeFileSync } from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { openApiDocument } from '@masterpost/contracts';

/**
 * Writes packages/client/src/schema.ts, the types of the OpenAPI document the gateway serves (made from the
 * contracts), for openapi-fetch. `npm test` runs this before the type check, so a client or test
 * that no longer fits the document fails to compile.
 */
async function main(): Promise<void> {
  const document = openApiDocument({ version: 'generated' });
  const ast = await openapiTS(document as unknown as Parameters<typeof openapiTS>[0]);
  const target = path.join(__dirname, '..', 'packages', 'client', 'src', 'schema.ts');
  writeFileSync(target, `${COMMENT_HEADER}${astToString(ast)}`);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}

void main();
