// Runs before `npm start` and `npm test` on a machine that may have only Node and npm:
// installs the workspace with pnpm 10 (fetched by npx) when node_modules is missing or
// older than the lockfile, and with `services` or `test` makes sure Redis and PostgreSQL (and for
// `test` Chromium) are there (scripts/ensure-services.sh). Uses nothing but Node's own modules.
//   node scripts/bootstrap.mjs [services|test]
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const marker = path.join(root, 'node_modules', '.modules.yaml');
const lock = path.join(root, 'pnpm-lock.yaml');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  console.log('Installing dependencies with pnpm 10...');
  execSync(`npx --yes pnpm@10 install ${existsSync(lock) ? '--frozen-lockfile' : ''}`, { cwd: root, stdio: 'inherit' });
}

const mode = process.argv[2];
if (mode === 'services' || mode === 'test') {
  try {
    execSync(`bash ${path.join(root, 'scripts', 'ensure-services.sh')}${mode === 'test' ? ' --chromium --promtool' : ''}`, { cwd: root, stdio: 'inherit' });
  } catch {
    // The script has said what is missing.
    process.exit(1);
  }
}
