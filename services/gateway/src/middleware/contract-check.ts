import type { NextFunction, Request, Response } from 'express';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Logger } from '@masterpost/platform';

/**
 * CONTRACT_CHECK (the test stacks turn it on): every JSON answer is checked against the OpenAPI
 * document this gateway serves, at its route, method and status, and a mismatch is logged as
 * "answer breaks the OpenAPI document" with what is wrong. The end-to-end harness fails a test
 * file whose logs hold that line, so no flow can drift from the document unnoticed. Answers of
 * no route (a 404 for an unknown path, a limiter before the route) are checked against the
 * error body.
 */
type Document = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>> };

export const CONTRACT_BREACH = 'answer breaks the OpenAPI document';
const ERROR_BODY = '#/components/schemas/Error';

export interface DocumentChecker {
  /** What is wrong with a JSON answer at a path of the document (`/api/v1/progress/{jobId}`); [] when it conforms. */
  problems(method: string, path: string, status: number, body: unknown): string[];
  /** The same for an answer of no route: it must be the error body. */
  errorBodyProblems(where: string, body: unknown): string[];
}

/** The document's answers as ajv validators: shared by this middleware and the tests that check answers themselves. */
export function documentChecker(document: object): DocumentChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: 'masterpost' });
  const { paths } = document as Document;
  const validate = (where: string, ref: string, body: unknown): string[] => {
    const validator = ajv.getSchema(`masterpost${ref}`);
    if (!validator) return [`${where}: ${ref} is not in the document`];
    return validator(body) ? [] : (validator.errors ?? []).map((error) => `${where}: ${error.instancePath || '(answer)'} ${error.message ?? ''}`);
  };
  return {
    problems(method, path, status, body) {
      const where = `${method.toUpperCase()} ${path} ${status}`;
      const operation = paths[path]?.[method.toLowerCase()];
      if (!operation) return [`${method.toUpperCase()} ${path} is not in the document`];
      const answer = operation.responses[String(status)];
      if (!answer) return [`${where}: the status is not documented`];
      const json = answer.content?.['application/json'];
      if (!json) return [`${where}: a JSON answer where the document has none`];
      // JSON whose shape the document leaves open (the document itself).
      return json.schema?.$ref ? validate(where, json.schema.$ref, body) : [];
    },
    errorBodyProblems: (where, body) => validate(where, ERROR_BODY, body),
  };
}

export function contractCheck(document: object, logger: Logger): (req: Request, res: Response, next: NextFunction) => void {
  const checker = documentChecker(document);
  const problemsOf = (req: Request, status: number, body: unknown): string[] => {
    const pattern = req.route?.path as string | undefined;
    if (pattern) return checker.problems(req.method, `${req.baseUrl}${pattern}`.replace(/:(\w+)/g, '{$1}'), status, body);
    return status < 400 ? [] : checker.errorBodyProblems(`${req.method} ${req.path} (no route)`, body);
  };
  return (req, res, next) => {
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const problems = problemsOf(req, res.statusCode, body);
      if (problems.length) logger.error({ requestId: res.getHeader('x-request-id'), problems }, CONTRACT_BREACH);
      return send(body);
    };
    next();
  };
}
