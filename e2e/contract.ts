import request from 'supertest';
import { documentChecker } from '../services/gateway/src/middleware/contract-check';

/**
 * Checks answers against the OpenAPI document the gateway serves (not against the code that
 * made it), with the gateway's own checker: an answer the document does not describe, at its
 * path, method and status, fails the test.
 */
export type ExpectDocumented = (method: string, path: string, status: number, body: unknown) => void;

export async function contractOf(gatewayUrl: string): Promise<ExpectDocumented> {
  const document = (await request(gatewayUrl).get('/openapi.json').expect(200)).body as object;
  const checker = documentChecker(document);
  return (method, path, status, body) => expect(checker.problems(method, path, status, body)).toEqual([]);
}
