import type { MasterpostClient, Schemas } from './client';
import { unwrap } from './client';

/**
 * Follows a job over the server-sent event stream (`progress` on every change, then `done`).
 * EventSource cannot send the Authorization header, so the stream is read through the typed
 * client as a byte stream and split into events here.
 */
export async function followProgress(
  api: MasterpostClient,
  jobId: string,
  onProgress: (progress: Schemas['Progress']) => void,
  signal: AbortSignal,
): Promise<void> {
  const stream = unwrap(
    await api.GET('/api/v1/progress/{jobId}/stream', { params: { path: { jobId } }, parseAs: 'stream', signal }),
    'following the job',
  );
  const reader = (stream as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let split: number;
    while ((split = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'progress' && data) onProgress(JSON.parse(data) as Schemas['Progress']);
      if (event === 'done') {
        await reader.cancel();
        return;
      }
    }
  }
}
