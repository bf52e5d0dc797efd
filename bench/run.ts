import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

/** `npm run bench`: every bench/*.bench.ts in turn, each in its own process, each writing its section of BENCHMARKS.md. */
const only = process.argv[2];
const files = readdirSync(__dirname).filter((file) => file.endsWith('.bench.ts') && (!only || file.includes(only))).sort();
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
