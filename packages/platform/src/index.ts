/**
 * What the services run on: configuration parsing, logging, PostgreSQL, Redis, storage (a local
 * folder or a Supabase bucket), the billing client, worker threads, shutdown. Contracts live in
 * @masterpost/contracts.
 */
export * from './config';
export * from './logger';
export * from './postgres';
export * from './redis';
export * from './storage';
export * from './billing-client';
export * from './shutdown';
export * from './ops';
export * from './dependency-health';
export * from './storage-probe';
export * from './request-context';
export * from './tracing';
export * from './webhook-signing';
export * from './webhook-target';
export * from './pictures';
export * from './thread-pool';
export * from './slots';
export * from './supabase';
export * from './supabase-storage';
export * from './supabase-check';
export * from './mail-templates';
export * from './mail-outbox';
