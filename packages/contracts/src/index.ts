/**
 * The contracts every part of Masterpost shares, and nothing else: the job catalog, presets and
 * settings, error codes, credits and ledger references, storage keys, Redis key names. It
 * depends on zod alone, so the web app, the CLI and the public API's document can use it too.
 */
export * from './errors';
export * from './money';
export * from './jobs';
export * from './presets';
export * from './validation';
export * from './fleet-keys';
export * from './storage-keys';
export * from './media';
export * from './records';
export * from './api';
export * from './routes';
export * from './openapi';
