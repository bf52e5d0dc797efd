import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { builtThreadEntry } from '../packages/platform/src/thread-pool';

/**
 * `npm run build`: what runs in production, built once. Each service (and the migrations, the
 * DashScope stand-in, the operator commands) becomes one JavaScript file, its worker threads one
 * file each beside it; written into a folder laid out as the image's /app (`dist/production` by
 * default, `--out <dir>` elsewhere):
 *
 *   services/{gateway,processor,billing}/dist/main.js, services/processor/dist/render-thread.js,
 *   tools/dashscope-sim/dist/{main,model-thread}.js, db/dist/migrate.js, scripts/dist/*.js,
 *   the files they read (db/migrations, services/processor/prompts, packages/web/dist),
 *   node_modules: only the packages kept out of the bundles, with what they depend on,
 *   copied from the installed (locked) tree.
 *
 * Kept out of the bundles: packages with native code or that read their own files at run time
 * (sharp, BullMQ's Lua scripts, Bull Board's page, pino's transport threads), and the ones that
 * must be the same instance for both (ioredis, which BullMQ also takes).
 */
export const ROOT = path.resolve(__dirname, '..');
export const DEFAULT_OUT = path.join(ROOT, 'dist', 'production');

// sql.js finds its .wasm beside its own files: kept whole, as sharp and bullmq are.
export const EXTERNAL = ['sharp', 'bullmq', 'ioredis', '@bull-board/*', '@supabase/*', 'pino', 'sql.js'];
/** Required only inside a try by packages that run without them (pg's native binding): never installed. */
const ABSENT = ['pg-native'];

interface Target {
  /** Where the bundles go, relative to the output (and to the repository for the sources). */
  outdir: string;
  entries: string[];
  /** Modules run on worker threads (ThreadPool): each built to where the pool looks for it. */
  threads?: string[];
}

export const TARGETS: Target[] = [
  { outdir: 'services/gateway/dist', entries: ['services/gateway/src/main.ts'] },
  { outdir: 'services/processor/dist', entries: ['services/processor/src/main.ts'], threads: ['services/processor/src/render/render-thread.ts'] },
  { outdir: 'services/billing/dist', entries: ['services/billing/src/main.ts'] },
  { outdir: 'tools/dashscope-sim/dist', entries: ['tools/dashscope-sim/src/main.ts'], threads: ['tools/dashscope-sim/src/model-thread.ts'] },
  { outdir: 'db/dist', entries: ['db/migrate.ts'] },
  { outdir: 'scripts/dist', entries: ['scripts/operator.ts', 'scripts/provider-check.ts', 'scripts/reconcile.ts', 'scripts/import-legacy.ts'] },
];

/** Files read from disk at run time, copied as they are (relative to the repository). */
export const FILES = ['db/migrations', 'services/processor/prompts', 'packages/web/dist'];

/**
 * `__dirname` in our sources names the source's folder (the web app, the prompts and the
 * migrations are found from it). In a bundle it would be the bundle's folder: each module's
 * `__dirname` is turned into its source folder again, relative to where its bundle runs, so
 * those paths resolve in the built tree as in the repository. Not for node_modules: a package
 * bundled keeps the bundle's folder, as bundlers do.
 */
function sourceDirname(outdir: string): Plugin {
  return {
    name: 'source-dirname',
    setup(plugin) {
      plugin.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`) || !args.path.startsWith(ROOT)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!/\b__dirname\b/.test(source)) return undefined;
        const relative = path.relative(path.join(ROOT, outdir), path.dirname(args.path)).split(path.sep).join('/');
        const loader = args.path.endsWith('.ts') || args.path.endsWith('.mts') ? 'ts' : 'js';
        return {
          contents: `const __sourceDirname = require('node:path').join(__dirname, ${JSON.stringify(relative)});\n${source.replace(/\b__dirname\b/g, '__sourceDirname')}`,
          loader,
        };
      });
    },
  };
}

/** Records where each external package is imported from, to copy the right installed version. */
function recordExternals(found: Map<string, string>): Plugin {
  const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  const patterns = EXTERNAL.map((name) => new RegExp(`^${name.replace('*', '[^/]+')}(/|$)`));
  return {
    name: 'record-externals',
    setup(plugin) {
      plugin.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || !patterns.some((pattern) => pattern.test(args.path))) return undefined;
        const name = packageName(args.path);
        if (!found.has(name)) found.set(name, args.resolveDir);
        return { path: args.path, external: true };
      });
    },
  };
}

/** Node's lookup of a package from a folder: node_modules/<name> there and in each parent. */
function findPackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Copies the packages and everything they depend on (dependencies, installed optional ones,
 * installed peers) from pnpm's tree into one node_modules as npm would lay it out: each package
 * at the top unless another version holds that place, then beside the package that needs it.
 */
function copyClosure(roots: Map<string, string>, out: string): number {
  const placed = new Map<string, string>(); // folder in the output -> installed folder
  const place = (name: string, installed: string, needer: string): void => {
    // What Node would find from the package that needs it.
    for (let dir = needer; ; dir = path.dirname(dir)) {
      const existing = placed.get(path.join(dir, 'node_modules', name));
      if (existing === installed) return;
      if (existing !== undefined) break;
      if (dir === out) return settle(name, installed, out);
    }
    if (needer === out) throw new Error(`two versions of ${name} are wanted at the top of node_modules`);
    settle(name, installed, needer);
  };
  const settle = (name: string, installed: string, parent: string): void => {
    const target = path.join(parent, 'node_modules', name);
    placed.set(target, installed);
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const wanted = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    for (const dependency of wanted) {
      const found = findPackage(dependency, installed);
      // An optional dependency for another platform, or an optional peer nobody installed.
      if (found) place(dependency, found, target);
    }
  };
  for (const [name, fromDir] of roots) {
    const installed = findPackage(name, fromDir);
    if (!installed) throw new Error(`${name} is imported but not installed (from ${fromDir})`);
    place(name, installed, out);
  }
  for (const [target, installed] of placed) {
    cpSync(installed, target, { recursive: true, dereference: true, filter: (source) => !source.slice(installed.length).includes(`${path.sep}node_modules`) });
  }
  return placed.size;
}

export function folderBytes(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

export interface BuildReport {
  out: string;
  /** Bytes of each output folder's bundles. */
  bundles: Record<string, number>;
  packages: number;
  nodeModulesBytes: number;
  missing: string[];
}

export async function buildServices(out = DEFAULT_OUT): Promise<BuildReport> {
  rmSync(out, { recursive: true, force: true });
  const externals = new Map<string, string>();
  const bundles: Record<string, number> = {};
  for (const target of TARGETS) {
    const outdir = path.join(out, target.outdir);
    const entryPoints = [
      ...target.entries.map((entry) => ({ in: path.join(ROOT, entry), out: path.basename(entry, '.ts') })),
      // Where ThreadPool looks for a thread module when it runs built.
      ...(target.threads ?? []).map((entry) => ({ in: path.join(ROOT, entry), out: path.basename(builtThreadEntry(path.join(ROOT, entry)), '.js') })),
    ];
    for (const thread of target.threads ?? []) {
      const expected = path.join(outdir, path.relative(path.join(ROOT, target.outdir), builtThreadEntry(path.join(ROOT, thread))));
      if (path.dirname(expected) !== outdir) throw new Error(`${thread} would be looked for at ${expected}, outside ${target.outdir}`);
    }
    await build({
      entryPoints,
      outdir,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // Readable stack traces in production: names kept, nothing minified.
      keepNames: true,
      logLevel: 'warning',
      // The thread pool runs a built thread module directly instead of through tsx.
      define: { __MASTERPOST_BUNDLED__: 'true' },
      external: ABSENT,
      plugins: [recordExternals(externals), sourceDirname(target.outdir)],
    });
    bundles[target.outdir] = folderBytes(outdir);
  }
  const missing: string[] = [];
  for (const file of FILES) {
    const source = path.join(ROOT, file);
    if (!existsSync(source)) {
      missing.push(file);
      continue;
    }
    cpSync(source, path.join(out, file), { recursive: true });
  }
  mkdirSync(out, { recursive: true });
  const packages = copyClosure(externals, out);
  // Node reads the bundles as CommonJS whatever a package.json above them says.
  writeFileSync(path.join(out, 'package.json'), `${JSON.stringify({ name: 'masterpost-production', private: true, type: 'commonjs' }, null, 2)}\n`);
  return { out, bundles, packages, nodeModulesBytes: folderBytes(path.join(out, 'node_modules')), missing };
}

if (require.main === module) {
  const at = process.argv.indexOf('--out');
  const out = at >= 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]!) : DEFAULT_OUT;
  const started = Date.now();
  buildServices(out).then(
    (report) => {
      const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
      for (const [folder, bytes] of Object.entries(report.bundles)) console.log(`  ${folder.padEnd(26)} ${mb(bytes)}`);
      console.log(`  node_modules               ${mb(report.nodeModulesBytes)} (${report.packages} packages)`);
      for (const file of report.missing) console.warn(`  ${file} is missing${file === 'packages/web/dist' ? ': run `npm run web:build` first, or the gateway answers 503 for the web app' : ''}`);
      console.log(`built into ${path.relative(process.cwd(), report.out) || '.'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
