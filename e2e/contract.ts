import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import request from 'supertest';

/**
 * Checks answers against the OpenAPI document the gateway serves (not against the code that
 * made it): an answer the document does not describe, at its path, method and status, fails.
 */
type Document = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>>;
};

export interface ContractChecker {
  /** The problems of a JSON answer against the document ([] when it conforms). */
  problems(method: string, path: string, status: number, body: unknown): string[];
}

export async function contractOf(gatewayUrl: string): Promise<ContractChecker> {
  const document = (await request(gatewayUrl).get('/openapi.json').expect(200)).body as Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: 'masterpost' });
  return {
    problems(method, path, status, body) {
      const operation = document.paths[path]?.[method.toLowerCase()];
      if (!operation) return [`${method} ${path} is not in the document`];
      const answer = operation.responses[String(status)];
      if (!answer) return [`${method} ${path} does not document the status ${status}`];
      const ref = answer.content?.['application/json']?.schema?.$ref;
      if (!ref) return [`${method} ${path} ${status} has no JSON schema`];
      const validate = ajv.getSchema(`masterpost${ref}`);
      if (!validate) return [`${ref} is not in the document`];
      return validate(body) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '(answer)'} ${error.message ?? ''}`);
    },
  };
}
