import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureDatabase, migrate } from '../db/migrate';
import { SIM_RESULT_HOST } from '../tools/dashscope-sim/src/server';

/**
 * Starts the real services as processes (gateway, billing, one or more processors and,
 * optionally, the DashScope stand-in) against the machine's Redis and Postgres. The dev
 * command and the end-to-end tests both use it, so what the tests run is what a person runs.
 */
export const ROOT = path.resolve(__dirname, '..');
/**
 * Each service is one Node process with tsx loaded in it (`node --import tsx`), not the tsx
 * command: that one runs the service as its child, so a SIGKILL would hit only the wrapper
 * and leave the service running.
 */
export const nodeArgs = (entry: string) => ['--import', 'tsx', entry];

/** A service's bundle in a production build (scripts/build-services.ts): `<package>/dist/<name>.js`. */
export const builtEntry = (entry: string) => entry.replace(/(^|\/)src\/([^/]+)\.ts$/, '$1dist/$2.js');

export interface StackOptions {
  databaseUrl: string;
  redisUrl: string;
  /** A Redis Cluster's nodes (host:port) instead of redisUrl's server; queuePrefix must then hold a hash tag. */
  redisClusterNodes?: string[];
  queuePrefix: string;
  storageDir: string;
  logDir: string;
  ports?: { gateway?: number; billing?: number; processor?: number; sim?: number; simResults?: number };
  /** Base URL of DashScope; when absent the stand-in is started as a process. */
  dashscopeBaseUrl?: string;
  processors?: number;
  env?: Record<string, string>;
  quiet?: boolean;
  /**
   * The folder of a production build (`npm run build`, scripts/build-services.ts): the services
   * and the migrations run as its bundles with plain `node`, from there, as in the image.
   * Unset: the sources through tsx.
   */
  built?: string;
}

export interface RunningService {
  name: string;
  child: ChildProcess;
  port: number;
  url: string;
  /** The end of what the service wrote, for the error when it dies at start. */
  lastOutput?: () => string;
}

export interface Stack {
  gatewayUrl: string;
  billingUrl: string;
  services: RunningService[];
  env: Record<string, string>;
  /** Starts one more processor; `env` overrides settings for it alone (a new API key, say). */
  startProcessor(name?: string, env?: Record<string, string>): Promise<RunningService>;
  /** Starts one more gateway on the same Redis, Postgres and storage (instances share limits). */
  startGateway(name: string): Promise<RunningService>;
  stop(): Promise<void>;
}

/**
 * A port nothing listens on, picked below Linux's ephemeral range (32768 and up): a port the
 * kernel handed out for bind(0) and freed can be taken by any outgoing connection on this machine
 * (Redis, Postgres, HTTP) before the service binds it; these are not handed out that way.
 *
 * The port is only checked here; the service binds it later. So that two stacks starting at the
 * same moment cannot both be handed one port, each jest worker draws from its own thousand ports,
 * and one process never hands out the same port twice in a row (the ports of one stack are all
 * picked before any of them is bound, so a check alone would not keep them apart).
 */
const PORT_FLOOR = 20_000;
const PORTS_PER_WORKER = 1_000;
const WORKER_SLICES = 12; // 20000–31999
const workerId = Number(process.env.JEST_WORKER_ID ?? 0);
const slice = workerId > 0 ? (workerId - 1) % WORKER_SLICES : Math.floor(Math.random() * WORKER_SLICES);
let nextOffset = Math.floor(Math.random() * PORTS_PER_WORKER);

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORTS_PER_WORKER; tries++) {
    const candidate = PORT_FLOOR + slice * PORTS_PER_WORKER + (nextOffset++ % PORTS_PER_WORKER);
    const available = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (available) return candidate;
  }
  throw new Error(`no free port between ${PORT_FLOOR + slice * PORTS_PER_WORKER} and ${PORT_FLOOR + (slice + 1) * PORTS_PER_WORKER - 1}`);
}

class PortTakenError extends Error {}

async function waitForHealth(service: RunningService, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with code ${service.child.exitCode} before it was healthy: ${service.lastOutput?.() ?? ''}`);
    }
    try {
      const response = await fetch(`${service.url}/health`);
      if (response.ok) {
        // Every service says which process answered: a healthy answer from another process on
        // this port would otherwise pass for ours and the test would talk to the wrong server.
        const { pid } = (await response.json()) as { pid?: number };
        if (pid === service.child.pid) return;
        throw new PortTakenError(`${service.name}'s port ${service.port} is answered by another process (pid ${pid ?? 'unknown'})`);
      }
    } catch (error) {
      if (error instanceof PortTakenError) throw error;
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${service.name} was not healthy within ${timeoutMs} ms`);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  mkdirSync(options.logDir, { recursive: true });
  if (options.built) await migrateBuilt(options.built, options.databaseUrl);
  else {
    await ensureDatabase(options.databaseUrl);
    await migrate(options.databaseUrl);
  }
  const ports = {
    gateway: options.ports?.gateway ?? (await freePort()),
    billing: options.ports?.billing ?? (await freePort()),
    sim: options.ports?.sim ?? (await freePort()),
    simResults: options.ports?.simResults ?? (await freePort()),
  };
  const secret = (label: string) => `${label}-${'x'.repeat(40)}-${Math.random().toString(36).slice(2)}`;
  const env: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    ...(options.redisClusterNodes?.length ? { REDIS_CLUSTER_NODES: options.redisClusterNodes.join(',') } : {}),
    QUEUE_PREFIX: options.queuePrefix,
    STORAGE_DIR: options.storageDir,
    JWT_SECRET: secret('jwt'),
    BILLING_SERVICE_TOKEN: secret('billing'),
    BILLING_URL: `http://127.0.0.1:${ports.billing}`,
    DASHSCOPE_BASE_URL: options.dashscopeBaseUrl ?? `http://127.0.0.1:${ports.sim}/api/v1`,
    // The stand-in started here answers result URLs on a host of DashScope's real shape.
    ...(options.dashscopeBaseUrl ? {} : { QWEN_RESULT_RESOLVE: `${SIM_RESULT_HOST}:127.0.0.1:${ports.simResults}` }),
    LOG_LEVEL: 'info',
    // As in docker-compose.yml: one glibc malloc arena keeps libvips' resident memory flat.
    MALLOC_ARENA_MAX: '1',
    ...options.env,
  };
  const services: RunningService[] = [];
  const launch = async (name: string, entry: string, port: number, portVariable: string, extraEnv: Record<string, string> = {}) => {
    const log = createWriteStream(path.join(options.logDir, `${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, options.built ? [builtEntry(entry)] : nodeArgs(entry), {
      cwd: options.built ?? ROOT,
      env: { ...process.env, ...env, ...extraEnv, [portVariable]: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    if (!options.quiet) {
      child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
    }
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const service: RunningService = { name, child, port, url: `http://127.0.0.1:${port}`, lastOutput: () => output };
    services.push(service);
    await waitForHealth(service);
    return service;
  };

  const starts: Array<Promise<RunningService>> = [];
  if (!options.dashscopeBaseUrl) {
    starts.push(
      launch('dashscope-sim', 'tools/dashscope-sim/src/main.ts', ports.sim, 'SIM_PORT', { SIM_RESULT_PORT: String(ports.simResults) }),
    );
  }
  starts.push(launch('billing', 'services/billing/src/main.ts', ports.billing, 'PORT'));
  starts.push(launch('gateway', 'services/gateway/src/main.ts', ports.gateway, 'PORT'));
  let processorCount = 0;
  const startProcessor = async (name?: string, processorEnv: Record<string, string> = {}) => {
    // Numbered before the await: processors started together would otherwise share one name (and log file).
    const number = ++processorCount;
    const port = number === 1 && options.ports?.processor ? options.ports.processor : await freePort();
    return launch(name ?? `processor-${number}`, 'services/processor/src/main.ts', port, 'PORT', processorEnv);
  };
  const startGateway = async (name: string) => launch(name, 'services/gateway/src/main.ts', await freePort(), 'PORT');
  for (let index = 0; index < (options.processors ?? 1); index++) starts.push(startProcessor());
  try {
    await Promise.all(starts);
  } catch (error) {
    await stopAll(services);
    throw error;
  }

  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    billingUrl: `http://127.0.0.1:${ports.billing}`,
    services,
    env,
    startProcessor,
    startGateway,
    stop: () => stopAll(services),
  };
}

/** The built migrations command, as the image's migrate job runs it. */
function migrateBuilt(built: string, databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['db/dist/migrate.js'], { cwd: built, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`db/dist/migrate.js exited with code ${code}: ${output.slice(-2000)}`))));
  });
}

async function stopAll(services: RunningService[]): Promise<void> {
  await Promise.all(
    services.map(
      (service) =>
        new Promise<void>((resolve) => {
          if (service.child.exitCode !== null || service.child.signalCode !== null) return resolve();
          const timer = setTimeout(() => service.child.kill('SIGKILL'), 15_000);
          service.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          service.child.kill('SIGTERM');
        }),
    ),
  );
}
