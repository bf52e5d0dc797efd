import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { dropDatabase, ensureDatabase, migrate } from '../db/migrate';
import { buildServices } from '../scripts/build-services';
import { builtEntry, freePort, nodeArgs, ROOT } from '../scripts/stack';
import { startSim } from '../tools/dashscope-sim/src/server';
import { table, writeSection } from './report';
import { summarize } from './stats';

/**
 * Built against transpiled at start: for each service, the time from spawn to its first 200 on
 * /ready (Redis and PostgreSQL answered) and its resident memory idle after that, started as the
 * image starts it (`node <package>/dist/main.js` from the production build) and as before
 * (`node --import tsx <package>/src/main.ts` over the workspace), tsx with its transform cache
 * warm (a second start on one machine) and cold (every new container: nothing cached in /tmp).
 * Then the sizes: each service's bundle, and the production folder the image copies against the
 * workspace install the old image carried.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const IDLE_MS = 2000;
const SERVICES = [
  { name: 'gateway', entry: 'services/gateway/src/main.ts' },
  { name: 'billing', entry: 'services/billing/src/main.ts' },
  { name: 'processor', entry: 'services/processor/src/main.ts' },
] as const;
const BILLING = SERVICES[1];
type Mode = 'built' | 'tsx, cache warm' | 'tsx, cache cold';
const MODES: Mode[] = ['built', 'tsx, cache warm', 'tsx, cache cold'];

/** Apparent bytes of the files under a folder, symbolic links not followed, some folder names left out. */
function bytesUnder(folder: string, skip: string[] = []): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skip.includes(entry.name)) total += bytesUnder(full, skip);
    } else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

async function startOnce(
  service: (typeof SERVICES)[number],
  mode: Mode,
  built: string,
  env: Record<string, string>,
  tsxCache: string,
  keep?: (stop: () => Promise<void>, port: number) => void,
): Promise<{ readyMs: number; rss: number }> {
  const port = await freePort();
  const args = mode === 'built' ? [builtEntry(service.entry)] : nodeArgs(service.entry);
  // tsx keeps its transforms under the temporary folder: a fresh one is a new container's.
  const tmp = mode === 'tsx, cache cold' ? mkdtempSync(path.join(os.tmpdir(), 'mp-tsx-cold-')) : tsxCache;
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd: mode === 'built' ? built : ROOT, env: { ...process.env, ...env, PORT: String(port), TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000)));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  let kept = false;
  try {
    let readyMs = NaN;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${service.name} (${mode}) exited with ${child.exitCode}: ${output}`);
      const answer = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
      if (answer?.ok) {
        readyMs = Number(process.hrtime.bigint() - started) / 1e6;
        break;
      }
      if (Number(process.hrtime.bigint() - started) / 1e6 > 60_000) throw new Error(`${service.name} (${mode}) not ready in 60 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (keep) {
      kept = true;
      keep(stop, port);
      return { readyMs, rss: NaN };
    }
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return { readyMs, rss: rssBytes(child.pid!) };
  } finally {
    if (!kept) await stop();
    if (tmp !== tsxCache) rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const loadBefore = os.loadavg()[0]!;
  const workDir = mkdtempSync(path.join(os.tmpdir(), `mp-startup-${id}-`));
  // Also when a service fails to start.
  process.once('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const built = path.join(workDir, 'app');
  const tsxCache = path.join(workDir, 'tsx-cache');
  mkdirSync(tsxCache);
  const buildStarted = Date.now();
  const report = await buildServices(built);
  const buildSeconds = (Date.now() - buildStarted) / 1000;
  const databaseUrl = `${process.env.TEST_DATABASE_BASE ?? 'postgres://postgres@127.0.0.1:5432'}/mp_bench_${id}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  const sim = await startSim();
  const secret = (label: string) => `${label}-${'x'.repeat(40)}-${id}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `mpb${id}`,
    STORAGE_DIR: path.join(workDir, 'storage'),
    JWT_SECRET: secret('jwt'),
    BILLING_SERVICE_TOKEN: secret('billing'),
    BILLING_URL: 'http://127.0.0.1:9',
    DASHSCOPE_BASE_URL: sim.baseUrl,
    QWEN_RESULT_RESOLVE: sim.resolveRule,
    LOG_LEVEL: 'warn',
    MALLOC_ARENA_MAX: '1',
  };
  const samples = new Map<string, { readyMs: number[]; rss: number[] }>();
  // The gateway is ready when billing answers: one built billing runs throughout.
  let stopBilling: () => Promise<void> = async () => undefined;
  await startOnce(BILLING, 'built', built, env, tsxCache, (stop, port) => {
    stopBilling = stop;
    env.BILLING_URL = `http://127.0.0.1:${port}`;
  });
  try {
    for (const service of SERVICES) {
      // Once each first, left out: the page cache and tsx's warm cache are then as on a machine in use.
      for (const mode of MODES) await startOnce(service, mode, built, env, tsxCache);
      for (let run = 0; run < RUNS; run++) {
        for (const mode of MODES) {
          const sample = await startOnce(service, mode, built, env, tsxCache);
          const key = `${service.name}|${mode}`;
          const kept = samples.get(key) ?? { readyMs: [], rss: [] };
          kept.readyMs.push(sample.readyMs);
          kept.rss.push(sample.rss);
          samples.set(key, kept);
          console.log(service.name, mode, sample.readyMs.toFixed(0), 'ms', (sample.rss / 2 ** 20).toFixed(0), 'MiB');
        }
      }
    }
  } finally {
    await stopBilling();
    await sim.close();
    await dropDatabase(databaseUrl).catch(() => undefined);
    const redis = new IORedis(redisUrl);
    const keys = await redis.keys(`mpb${id}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }

  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const rows = SERVICES.flatMap((service) =>
    MODES.map((mode) => {
      const kept = samples.get(`${service.name}|${mode}`)!;
      const ready = summarize(kept.readyMs);
      const rss = summarize(kept.rss);
      return [service.name, mode, ready.median.toFixed(0), `${ready.min.toFixed(0)}-${ready.max.toFixed(0)}`, mib(rss.median), `${mib(rss.min)}-${mib(rss.max)}`];
    }),
  );
  const median = (service: string, mode: Mode, key: 'readyMs' | 'rss') => summarize(samples.get(`${service}|${mode}`)![key]).median;
  const gains = SERVICES.map(
    (service) =>
      `${service.name} ${(median(service.name, 'tsx, cache cold', 'readyMs') / median(service.name, 'built', 'readyMs')).toFixed(1)}× faster to ready than tsx cold ` +
      `(${(median(service.name, 'tsx, cache warm', 'readyMs') / median(service.name, 'built', 'readyMs')).toFixed(1)}× warm), ` +
      `${mib(median(service.name, 'tsx, cache warm', 'rss') - median(service.name, 'built', 'rss'))} MiB less resident`,
  ).join('; ');

  const loadAfter = os.loadavg()[0]!;
  const production = bytesUnder(built);
  const workspaceModules = bytesUnder(path.join(ROOT, 'node_modules'));
  const sources = ['packages', 'services', 'tools', 'db', 'scripts'].reduce((sum, folder) => sum + bytesUnder(path.join(ROOT, folder), ['node_modules', 'dist']), 0);
  const webApp = bytesUnder(path.join(ROOT, 'packages', 'web', 'dist'));
  const bundleRows = Object.entries(report.bundles).map(([folder, bytes]) => [folder, mb(bytes)]);

  console.log(rows, bundleRows);
  writeSection(
    'startup',
    'Built services against tsx: start, memory, image contents',
    `Each service started alone against this machine's Redis and PostgreSQL (and an in-process DashScope stand-in), ${RUNS} times in each way
after one start each left out: **built** is the image's command, \`node <package>/dist/main.js\` from the production build
(\`npm run build\`, scripts/build-services.ts); **tsx** is the command before it, \`node --import tsx <package>/src/main.ts\` over the
workspace, with tsx's transform cache warm (an earlier start on the same machine) and cold (an empty temporary folder, as every new
container has). Ready: from spawn to the first 200 on \`/ready\`, polled every 10 ms. Resident: VmRSS ${IDLE_MS / 1000} s after ready, idle
(tsx's esbuild helper process, when it runs one, is not counted). The ways take turns within each round, so other work on the
machine weighs on each alike; its load average was ${loadBefore.toFixed(1)} at the start and ${loadAfter.toFixed(1)} at the end (2 cores: absolute
times are longer than on an idle machine, the ratios are the figures to read).

${table(['service', 'started as', 'ready median ms', 'range', 'resident median MiB', 'range'], rows)}

${gains}.

What goes into the image (apparent bytes, MB; the base image, node:20-bookworm-slim, is the same before and after). The bundles
are not minified (names kept for stack traces):

${table(['bundle folder', 'MB'], bundleRows)}

| the app layer | MB |
|---|---|
| before: the workspace's node_modules (every dev dependency, pnpm's store) | ${mb(workspaceModules)} |
| before: the sources (packages, services, tools, db, scripts) and the web app | ${mb(sources + webApp)} |
| **after: the production build, all of it** | **${mb(production)}** |
| of which node_modules: the packages kept out of the bundles with their dependencies, ${report.packages} in all | ${mb(report.nodeModulesBytes)} |

The build took ${buildSeconds.toFixed(1)} s here. The image itself is not built on this machine (no Docker daemon): these are the
folders its two stages copy. Reproduce: \`npx --yes pnpm@10 exec tsx bench/startup.bench.ts\` (\`BENCH_RUNS\` for more runs).`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
