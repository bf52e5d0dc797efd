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

export function contractCheck(document: object, logger: Logger): (req: Request, res: Response, next: NextFunction) => void {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...document, $id: 'masterpost' });
  const { paths } = document as Document;

  const problemsOf = (req: Request, status: number, body: unknown): string[] => {
    const pattern = req.route?.path as string | undefined;
    let ref: string | undefined = '#/components/schemas/Error';
    let where = `${req.method} ${req.path} (no route)`;
    if (pattern) {
      const path = `${req.baseUrl}${pattern}`.replace(/:(\w+)/g, '{$1}');
      where = `${req.method} ${path} ${status}`;
      const operation = paths[path]?.[req.method.toLowerCase()];
      if (!operation) return [`${req.method} ${path} is not in the document`];
      const answer = operation.responses[String(status)];
      if (!answer) return [`${where}: the status is not documented`];
      const json = answer.content?.['application/json'];
      if (!json) return [`${where}: a JSON answer where the document has none`];
      // JSON whose shape the document leaves open (the document itself).
      ref = json.schema?.$ref;
      if (!ref) return [];
    } else if (status < 400) {
      return [];
    }
    const validate = ajv.getSchema(`masterpost${ref}`);
    if (!validate) return [`${where}: ${ref} is not in the document`];
    return validate(body) ? [] : (validate.errors ?? []).map((error) => `${where}: ${error.instancePath || '(answer)'} ${error.message ?? ''}`);
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
