import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { TestStack } from '../e2e/harness';

/** A multipart upload streamed from disk: the bench process never holds the ZIP either. */
export async function uploadZip(stack: TestStack, token: string, file: string): Promise<{ ms: number; status: number; accepted: number; jobId: string | undefined }> {
  const boundary = `----masterpost${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="shoot.zip"\r\nContent-Type: application/zip\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const body = Readable.from(
    (async function* () {
      yield head;
      for await (const chunk of createReadStream(file)) yield chunk as Buffer;
      yield tail;
    })(),
  );
  const started = performance.now();
  const response = await fetch(`${stack.gatewayUrl}/api/v1/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + statSync(file).size + tail.length) },
    body: Readable.toWeb(body) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const answer = (await response.json()) as { files_count?: number; job_id?: string };
  return { ms: performance.now() - started, status: response.status, accepted: answer.files_count ?? 0, jobId: answer.job_id };
}

