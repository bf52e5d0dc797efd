import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { contentTypeOf, pictureExtensions } from '@masterpost/contracts';
import type { FoundFile } from './find-pictures';
import type { Connection } from './gateway';

/**
 * The multipart upload, through the typed client, with its progress in bytes. openapi-fetch
 * hands fetch whatever its bodySerializer returns, so the form (files as disk-backed Blobs:
 * nothing is read into memory up front) is encoded by fetch's own multipart encoder and passed
 * on as a stream whose chunks are counted as fetch pulls them to the socket.
 */
const mediaTypeOf = (name: string): string => {
  const extension = path.extname(name).toLowerCase();
  return extension === '.zip' ? 'application/zip' : contentTypeOf(pictureExtensions[extension] ?? '');
};

/**
 * The exact size of the encoded body: the same encoder run on empty files of the same names
 * gives the multipart framing (its boundary is always the same length), plus the files' bytes.
 * Sent as Content-Length, so the upload is an ordinary request (some proxies refuse chunked
 * uploads) and the gateway can refuse one too large before reading it.
 */
async function encodedLength(files: FoundFile[]): Promise<number> {
  const skeleton = new FormData();
  for (const file of files) skeleton.append('files', new Blob([], { type: mediaTypeOf(file.name) }), file.name);
  const framing = (await new Response(skeleton).arrayBuffer()).byteLength;
  return framing + files.reduce((sum, file) => sum + file.bytes, 0);
}

export async function uploadFiles(
  connection: Connection,
  files: FoundFile[],
  options: { idempotencyKey: string; signal?: AbortSignal; onProgress: (sent: number, total: number) => void },
) {
  const form = new FormData();
  for (const file of files) form.append('files', await openAsBlob(file.path, { type: mediaTypeOf(file.name) }), file.name);
  const total = await encodedLength(files);
  const encoded = new Response(form);
  const contentType = encoded.headers.get('content-type');
  if (!encoded.body || !contentType) throw new Error('fetch could not encode the upload');
  let sent = 0;
  const counted = encoded.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        options.onProgress(sent, total);
        controller.enqueue(chunk);
      },
    }),
  );
  return connection.client.POST('/api/v1/upload', {
    params: { header: { 'Idempotency-Key': options.idempotencyKey } },
    // The typed body names the files; the serializer sends their bytes, encoded above.
    body: { files: files.map((file) => file.name) },
    bodySerializer: () => counted,
    headers: { 'content-type': contentType, 'content-length': String(total) },
    // A stream body must say it is sent while the answer may already come (fetch requires it).
    duplex: 'half',
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
