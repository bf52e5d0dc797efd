import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema';

/**
 * The typed client of Masterpost's public API, generated from its OpenAPI document
 * (`pnpm --filter @masterpost/client generate`). Every path, body and answer is typed; a call
 * the document does not have does not compile.
 *
 *   const masterpost = masterpostClient({ baseUrl: 'https://masterpost.example', apiKey: 'mp_...' });
 *   const { data, error } = await masterpost.GET('/credits/balance');
 */
export type MasterpostClient = Client<paths>;
export type Schemas = components['schemas'];
export type { components, paths };

export function masterpostClient(options: { baseUrl: string; apiKey?: string; accessToken?: string; fetch?: typeof fetch }): MasterpostClient {
  const headers: Record<string, string> = {};
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  else if (options.accessToken) headers.authorization = `Bearer ${options.accessToken}`;
  return createClient<paths>({ baseUrl: options.baseUrl, headers, ...(options.fetch ? { fetch: options.fetch } : {}) });
}
