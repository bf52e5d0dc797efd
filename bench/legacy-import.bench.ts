import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropDatabase, ensureDatabase, migrate } from '../db/migrate';
import { nodeArgs, ROOT } from '../scripts/stack';
import { oldAccessCode, writeOldDatabase, type OldTransaction, type OldUser } from '../e2e/legacy-fixture';
import { table, writeSection } from './report';

/**
 * `npm run bench -- legacy-import`: the move of 100,000 old sellers (each with an access code to
 * hash, one in ten with an old purchase to keep as history) into an empty database, as the
 * operator runs it (`scripts/import-legacy.ts`, its own process): a dry run, the import, and the
 * same import again. Wall time and the command's peak resident memory (VmHWM) for each.
 */
const SELLERS = Number(process.env.LEGACY_BENCH_SELLERS ?? 100_000);

interface Measure {
  seconds: number;
  peakRssMiB: number;
  output: string;
}

/** Runs the command, reading its high-water mark of resident memory until it exits. */
function measure(args: string[], databaseUrl: string): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...nodeArgs('scripts/import-legacy.ts'), ...args], {
      cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let peakKiB = 0;
    const poll = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
      } catch {
        // Exited between two polls.
      }
    }, 100);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`import-legacy exited ${code}:\n${output.slice(-3000)}`));
      else resolve({ seconds, peakRssMiB: peakKiB / 1024, output });
    });
  });
}

function reportedLine(output: string, label: string): string {
  return new RegExp(`^${label}: (.*)$`, 'm').exec(output)?.[1] ?? '?';
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mp-legacy-bench-'));
  const file = path.join(workDir, 'masterpost.db');
  const users: OldUser[] = Array.from({ length: SELLERS }, (_, index) => ({
    email: `seller${index}@shop.example`, access_code: oldAccessCode(index + 1), credits: (index % 500) + 1,
  }));
  const transactions: OldTransaction[] = Array.from({ length: SELLERS / 10 }, (_, index) => ({
    email: `seller${index * 10}@shop.example`, transaction_type: 'purchase', credits_added: 100, amount_paid: 10, stripe_session_id: `cs_live_bench_${index}`,
  }));
  await writeOldDatabase(file, { users, transactions });
  const databaseUrl = `${process.env.TEST_DATABASE_BASE ?? 'postgres://postgres@127.0.0.1:5432'}/mp_bench_legacy_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  try {
    const dry = await measure(['--sqlite', file, '--dry-run'], databaseUrl);
    const first = await measure(['--sqlite', file], databaseUrl);
    const again = await measure(['--sqlite', file], databaseUrl);
    const row = (name: string, run: Measure) => [
      name, run.seconds.toFixed(1), Math.round(SELLERS / run.seconds), run.peakRssMiB.toFixed(0), reportedLine(run.output, 'credits granted'),
    ];
    writeSection('legacy-import', `Moving ${SELLERS.toLocaleString('en')} old sellers (import-legacy)`, `
An old SQLite database of ${SELLERS.toLocaleString('en')} sellers (${(statSync(file).size / 2 ** 20).toFixed(1)} MiB; ${transactions.length.toLocaleString('en')} old purchases with their
Stripe session ids) moved into an empty, migrated database by \`scripts/import-legacy.ts\` as its own
process, 8 sellers in flight. Each new seller costs one scrypt hash of the access code (N=4096, r=8,
the main cost of the first run) and one SQL call that is its own transaction.

${table(['run', 'seconds', 'sellers / s', 'peak RSS (MiB)', 'credits granted'], [row('dry run (rolled back)', dry), row('import', first), row('same import again', again)])}

The re-run hashes nothing (every seller is known) and changes nothing; the dry run makes the same
calls in transactions it rolls back. Load average while measuring: ${os.loadavg().map((load) => load.toFixed(1)).join(', ')} (1, 5, 15 minutes).

Reproduce: \`npx --yes pnpm@10 exec tsx bench/legacy-import.bench.ts\` (\`LEGACY_BENCH_SELLERS\` for another size).
`);
    console.log(`dry ${dry.seconds.toFixed(1)}s, import ${first.seconds.toFixed(1)}s (${first.peakRssMiB.toFixed(0)} MiB), again ${again.seconds.toFixed(1)}s`);
  } finally {
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
