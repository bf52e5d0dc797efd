import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { startSim } from '../tools/dashscope-sim/src/server';
import { table, writeSection } from './report';

/**
 * The fleet gate alone (issue 21, item 2): 1, 2 and 4 processes (bench/gate-caller.ts: the gate
 * and client as the processor uses them, without the pictures' CPU work) make 200 calls against
 * the stand-in, which answers in 6 s ± 1 s and 429 above 2 requests in any sliding second.
 * One run has a busy loop on every core. Ideal = calls / rate + latency.
 */
const RATE = 2;
const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const IN_FLIGHT = 16;

function saturateCpu(): ChildProcess[] {
  return os.cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function run(processes: number, saturate: boolean) {
  const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `mpb-gate-${randomBytes(4).toString('hex')}`;
  const sim = await startSim({ ratePerSecond: RATE, latencyMs: 6000, jitterMs: 1000, outputSize: { width: 512, height: 512 } });
  const hogs = saturate ? saturateCpu() : [];
  const load = os.loadavg().map((value) => value.toFixed(1)).join(' / ');
  try {
    const started = Date.now();
    const loops = Math.ceil(IN_FLIGHT / processes) + 2;
    const children = Array.from({ length: processes }, () =>
      spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'gate-caller.ts')], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, GATE_PREFIX: prefix, GATE_CALLS: String(CALLS), GATE_RATE: String(RATE), GATE_IN_FLIGHT: String(IN_FLIGHT), GATE_SIM_URL: sim.baseUrl, GATE_LOOPS: String(loops) },
      }),
    );
    // Timed from the first call the stand-in accepts (the callers' start-up is not the gate's).
    const codes = await Promise.all(children.map((child) => new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)))));
    if (codes.some((code) => code !== 0)) throw new Error(`a caller failed: ${codes.join(', ')}`);
    const { stats } = sim;
    const firstS = (stats.acceptedAt[0] ?? started) / 1000;
    const wallS = (Date.now() - started) / 1000 - (firstS - started / 1000);
    return { processes, saturate, load, done: Number(await redis.get(`${prefix}:bench:done`)), wallS, throttled: stats.throttled, maxPerSecond: stats.maxPerSecond, maxOpen: stats.maxInFlight };
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
    await sim.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const results = [];
  for (const [processes, saturate] of [[1, false], [2, false], [4, false], [4, true]] as const) {
    const result = await run(processes, saturate);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  const ideal = CALLS / RATE + 6;
  const missed = results.filter((r) => r.wallS / ideal > 1.05 || r.throttled > 0);
  writeSection(
    'fleet-gate',
    `The fleet gate alone: ${CALLS} calls at ${RATE} a second`,
    `1, 2 and 4 processes (\`bench/gate-caller.ts\`: the gate and the DashScope client as \`qwen-output.service.ts\` uses them, without
preparing or rendering pictures) make ${CALLS} calls; \`QWEN_MAX_PER_SECOND=${RATE}\`, \`QWEN_MAX_IN_FLIGHT=${IN_FLIGHT}\`, ceil(${IN_FLIGHT} / processes) + 2
callers each; the stand-in answers in 6 s ± 1 s and 429 above ${RATE} requests in any sliding second (it counts by its own clock,
on arrival). The last run has a busy loop on each of the ${os.cpus().length} cores (CPU saturated). Timed from the first call the
stand-in accepted to the last answer. Ideal = calls / rate + latency = ${ideal.toFixed(0)} s; target: within 5%, no 429.

${table(
  ['processes', 'CPU', 'load at start (1 / 5 / 15 min)', 'calls made', 'wall time', 'ideal', 'wall / ideal', '429s', 'most requests in a sliding second', 'most calls open'],
  results.map((r) => [r.processes, r.saturate ? 'saturated' : 'shared', r.load, `${r.done}/${CALLS}`, `${r.wallS.toFixed(1)} s`, `${ideal.toFixed(1)} s`, `${((r.wallS / ideal) * 100).toFixed(1)}%`, r.throttled, r.maxPerSecond, r.maxOpen]),
)}

The gate spaces calls by their real send times (the request's last byte handed to the OS, reported to Redis), and a granted call not
yet reported counts as sent now, so no sliding second holds more than the rate however late a busy process sends: the old gate's
250 ms a second of margin (125% of the ideal) is gone; what remains is slack for the provider's clock (\`QWEN_RATE_MARGIN_MS\`,
${process.env.QWEN_RATE_MARGIN_MS ?? '20'} ms a second) and, per call, the time from the spacing's end to its request leaving.
${missed.length === 0 ? 'Every run met the target.' : `Missed: ${missed.map((r) => `${r.processes} process(es)${r.saturate ? ' saturated' : ''}: ${((r.wallS / ideal) * 100).toFixed(1)}%, ${r.throttled} 429s`).join('; ')}. What holds them back: on this loaded machine a waiter's timer and a grant's way to the socket (the process waiting for a core) are lost once per call, and the stand-in, stamping arrivals by its own event loop (in this process), sees two calls closer than they left when it stalls more than the margin: a 429 then costs a second's cool-down (a lone one cuts nothing; two within 10 s cut the rate).`}

Reproduce: \`npx --yes pnpm@10 exec tsx bench/fleet-gate.bench.ts\` (needs the local Redis).`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
