import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { WebhookTarget } from '@masterpost/platform';

/**
 * One POST to a checked target: connected to the address that was checked (the name is not
 * looked up again), redirects not followed (a 3xx is an answer like any other), at most
 * `timeoutMs` in all, and at most 64 KB of the answer read.
 */
export interface SendOutcome {
  status: number | null;
  error: string | null;
  latencyMs: number;
}

const MAX_ANSWER_BYTES = 64 * 1024;

export function sendWebhook(target: WebhookTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendOutcome> {
  const started = Date.now();
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, error, latencyMs: Date.now() - started });
    };
    const request = client.request(
      target.url,
      {
        method: 'POST',
        lookup: pinned,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Masterpost-Webhooks/1' },
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        response.on('end', () => finish(response.statusCode ?? null, null));
        response.on('close', () => finish(response.statusCode ?? null, null));
        response.on('error', () => finish(response.statusCode ?? null, null));
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish(null, `no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    request.on('error', (error) => finish(null, error.message));
    request.end(body);
  });
}
