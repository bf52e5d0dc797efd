import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRedis, primariesOf, type RedisSettings } from '@masterpost/platform';
import { dropDatabase } from '../db/migrate';
import { nodeArgs, ROOT, startStack, type Stack, type StackOptions } from '../scripts/stack';
import { startSim, type SimOptions, type SimServer } from '../tools/dashscope-sim/src/server';
import { CONTRACT_BREACH } from '../services/gateway/src/middleware/contract-check';

/**
 * An isolated copy of the product for one test file: its own database, its own queue prefix,
 * its own storage folder, the real services as processes, and a DashScope stand-in whose
 * counters the test can read.
 */
export interface TestStack extends Stack {
  sim: SimServer;
  databaseUrl: string;
  dump(): string;
  /** Every line every service has logged so far. */
  logs(): string;
  teardown(): Promise<void>;
}

export async function startTestStack(
  options: {
    processors?: number;
    env?: Record<string, string>;
    sim?: Partial<SimOptions>;
    /** Another Redis than the machine's (a test that restarts it must not disturb the others). */
    redisUrl?: string;
    /**
     * A Redis Cluster's nodes (host:port) instead of a single Redis: the services connect to it
     * (REDIS_CLUSTER_NODES) and the queue prefix gets a hash tag, as a cluster requires.
     */
    redisClusterNodes?: string[];
    /** Another PostgreSQL server than the machine's (`postgres://user@host:port`), for the same reason. */
    databaseBase?: string;
    /** Runs once the stack's database name is chosen, before any service starts. */
    beforeServices?: (databaseUrl: string) => void | Promise<void>;
  } = {},
): Promise<TestStack> {
  const id = randomBytes(4).toString('hex');
  const databaseUrl = `${options.databaseBase ?? process.env.TEST_DATABASE_BASE ?? 'postgres://postgres@127.0.0.1:5432'}/mp_test_${id}`;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const workDir = mkdtempSync(path.join(os.tmpdir(), `masterpost-${id}-`));
  const sim = await startSim({ noise: 3, ...options.sim });
  const stackOptions: StackOptions = {
    databaseUrl,
    redisUrl,
    ...(options.redisClusterNodes?.length ? { redisClusterNodes: options.redisClusterNodes } : {}),
    queuePrefix: options.redisClusterNodes?.length ? `{mpt${id}}` : `mpt${id}`,
    storageDir: path.join(workDir, 'storage'),
    logDir: path.join(workDir, 'logs'),
    dashscopeBaseUrl: sim.baseUrl,
    processors: options.processors ?? 1,
    // Results are fetched from a host of DashScope's real shape, reached at the stand-in.
    // Every JSON answer is checked against the OpenAPI document (cleanUpAfter fails a test that breaks it).
    env: { LOG_LEVEL: 'warn', QWEN_RESULT_RESOLVE: sim.resolveRule, CONTRACT_CHECK: 'true', ...options.env },
    quiet: true,
  };
  await options.beforeServices?.(databaseUrl);
  let stack: Stack;
  try {
    stack = await startStack(stackOptions);
  } catch (error) {
    await sim.close();
    throw error;
  }
  const dump = () =>
    readdirSync(stackOptions.logDir)
      .map((file) => `--- ${file}\n${readFileSync(path.join(stackOptions.logDir, file), 'utf8').slice(-4000)}`)
      .join('\n');
  const logs = () =>
    readdirSync(stackOptions.logDir)
      .map((file) => readFileSync(path.join(stackOptions.logDir, file), 'utf8'))
      .join('\n');
  return {
    ...stack,
    sim,
    databaseUrl,
    dump,
    logs,
    teardown: async () => {
      await stack.stop();
      await sim.close();
      await dropDatabase(databaseUrl).catch(() => undefined);
      await forgetKeys({ REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: options.redisClusterNodes ?? [] }, stackOptions.queuePrefix);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * Deletes the stack's keys. On a cluster each primary holds only its own slots' keys, so every
 * primary is scanned (one key per command: a DEL of several keys must stay within one slot).
 * Bounded: a Redis already gone (a test that stopped its own) leaves nothing to clean.
 */
async function forgetKeys(settings: RedisSettings, prefix: string): Promise<void> {
  const redis = createRedis(settings, 'worker');
  try {
    await Promise.race([
      (async () => {
        if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
        for (const node of primariesOf(redis)) {
          for await (const keys of node.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>) {
            if (keys.length) await Promise.all(keys.map((key) => node.unlink(key)));
          }
        }
      })().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
    ]);
  } finally {
    redis.disconnect();
  }
}

/**
 * The hooks every end-to-end file wants: the stack torn down after the file, and its services'
 * logs printed after a failing test (the only way to see why a process misbehaved).
 */
export function cleanUpAfter(current: () => TestStack | undefined): void {
  afterAll(async () => {
    await current()?.teardown();
  });
  let breachesSeen = 0;
  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) console.log(current()?.dump());
    // An answer the OpenAPI document does not describe fails the test that provoked it.
    const breaches = (current()?.logs() ?? '').split('\n').filter((line) => line.includes(CONTRACT_BREACH));
    const fresh = breaches.slice(breachesSeen);
    breachesSeen = breaches.length;
    if (fresh.length) throw new Error(`answers that break the OpenAPI document:\n${fresh.join('\n')}`);
  });
}

/** Reads a server-sent event stream until `done`, returning every event in order, each with when it arrived (ms since the epoch). */
export async function readEvents(url: string, token: string, timeoutMs: number): Promise<Array<{ event: string; data: unknown; at: number }>> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
  const events: Array<{ event: string; data: unknown; at: number }> = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let split;
    while ((split = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) as unknown, at: Date.now() });
      if (event === 'done') return events;
    }
  }
  return events;
}

/** Runs one of the project's commands (`scripts/*.ts`) as a process, as an operator would. */
export function runScript(script: string, args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs(script), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}
