import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { QueueName } from '@masterpost/contracts';
import { ruleProblems, type Manifest } from './kubernetes/rules';

/**
 * The Kubernetes manifests: the checked-in YAML is what its TypeScript source writes, each overlay
 * renders, every object passes the Kubernetes (and KEDA) schemas and our rules.
 */
const ROOT = path.resolve(__dirname, '..');
const KUBERNETES = path.join(__dirname, 'kubernetes');
const queueNames = Object.values(QueueName);

/** The source is ESM-only (kubernetes-models): it runs as its own process, as `npm run manifests` runs it. */
function buildScript(mode: string, input?: string): string {
  return execFileSync(process.execPath, ['--import', 'tsx', path.join(KUBERNETES, 'build.mts'), mode], { cwd: ROOT, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

interface Built { files: Record<string, string>; rendered: Record<'dev' | 'production', Manifest[]>; problems: string[] }
let built: Built;
beforeAll(() => {
  built = JSON.parse(buildScript('--json')) as Built;
}, 60_000);

const yamlFilesUnder = (folder: string): string[] =>
  readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.yaml')).map((file) => file.split(path.sep).join('/')).sort();
const clone = (objects: Manifest[]) => structuredClone(objects);
const find = (objects: Manifest[], kind: string, name: string) => {
  const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  if (!object) throw new Error(`no ${kind}/${name}`);
  return object as Manifest & { spec: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

test('the checked-in YAML is exactly what deploy/kubernetes/src writes (run `npx --yes pnpm@10 run manifests` after a change)', () => {
  expect(yamlFilesUnder(KUBERNETES)).toEqual(Object.keys(built.files).sort());
  for (const [file, text] of Object.entries(built.files)) {
    expect({ file, text: readFileSync(path.join(KUBERNETES, file), 'utf8') }).toEqual({ file, text });
  }
});

test.each(['dev', 'production'] as const)('the %s overlay renders, and every object passes the Kubernetes and KEDA schemas and our rules', (overlay) => {
  const objects = built.rendered[overlay];
  expect(objects.length).toBeGreaterThanOrEqual(13);
  expect(built.problems.filter((problem) => problem.startsWith(`${overlay}:`))).toEqual([]);
  expect(ruleProblems(objects, queueNames)).toEqual([]);
  expect(new Set(objects.map((object) => object.metadata.namespace))).toEqual(new Set([overlay === 'dev' ? 'masterpost-dev' : 'masterpost']));
});

test('the schema check refuses what Kubernetes and KEDA would refuse', () => {
  const [deployment, scaler] = [find(built.rendered.production, 'Deployment', 'gateway'), find(built.rendered.production, 'ScaledObject', 'processor')];
  const broken = [
    { ...deployment, spec: { ...deployment.spec, replicas: 'three' } },
    { ...scaler, spec: { ...scaler.spec, triggers: 'images' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'inline' }, stringData: { JWT_SECRET: 'x' } },
  ];
  const problems = JSON.parse(buildScript('--validate', JSON.stringify(broken))) as string[];
  expect(problems).toHaveLength(3);
  expect(problems[0]).toMatch(/^Deployment\/gateway: .*replicas/);
  expect(problems[1]).toMatch(/^ScaledObject\/processor: .*triggers/);
  expect(problems[2]).toMatch(/^Secret\/inline: no schema/);
});

describe('our rules catch', () => {
  const production = () => clone(built.rendered.production);
  const container = (objects: Manifest[], name: string) => find(objects, 'Deployment', name).spec.template.spec.containers[0];

  test('a missing probe, a missing limit, an unpinned image', () => {
    const objects = production();
    delete container(objects, 'gateway').readinessProbe;
    delete container(objects, 'billing').resources.limits.memory;
    container(objects, 'processor').image = 'ghcr.io/masterpost/masterpost:latest';
    find(objects, 'Job', 'migrate').spec.template.spec.containers[0].image = 'masterpost';
    expect(ruleProblems(objects, queueNames)).toEqual([
      'Deployment/gateway container gateway: needs a readiness and a liveness probe',
      'Deployment/billing container billing: no memory limit',
      'Deployment/processor container processor: image ghcr.io/masterpost/masterpost:latest uses the latest tag',
      'Job/migrate container migrate: image masterpost has no tag (that is latest)',
    ]);
  });

  test('a secret written inline, in a container or in the settings', () => {
    const objects = production();
    container(objects, 'gateway').env.push({ name: 'JWT_SECRET', value: 'x'.repeat(32) });
    (find(objects, 'ConfigMap', 'masterpost-settings') as unknown as { data: Record<string, string> }).data.DASHSCOPE_API_KEY = 'sk-1';
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'masterpost' } });
    expect(ruleProblems(objects, queueNames)).toEqual([
      'ConfigMap/masterpost-settings: DASHSCOPE_API_KEY is a secret; reference it from the Secret',
      'Deployment/gateway container gateway: JWT_SECRET must come from a Secret (secretKeyRef), not inline',
      'Secret/masterpost: secrets are made by the operator, never written here',
    ]);
  });

  test('a grace period shorter than the shutdown bound, a missing malloc setting, the local folder allowed', () => {
    const objects = production();
    find(objects, 'Deployment', 'processor').spec.template.spec.terminationGracePeriodSeconds = 25;
    const gateway = container(objects, 'gateway');
    gateway.env = gateway.env.filter((variable: { name: string }) => variable.name !== 'MALLOC_ARENA_MAX' && variable.name !== 'STORAGE_REQUIRE_SHARED');
    expect(ruleProblems(objects, queueNames)).toEqual([
      'Deployment/gateway: MALLOC_ARENA_MAX must be 1 (BENCHMARKS.md, processor memory)',
      'Deployment/gateway: several nodes share files only through the object store: STORAGE_REQUIRE_SHARED=true',
      'Deployment/processor: terminationGracePeriodSeconds (25) must outlast the shutdown bound (25000 ms)',
    ]);
  });

  test('a KEDA key that is no queue\'s wait list, and a queue of the contracts without a trigger', () => {
    const objects = production();
    find(objects, 'ScaledObject', 'processor').spec.triggers[0].metadata.listName = 'masterpost:image:wait';
    expect(ruleProblems(objects, [...queueNames, 'thumbnails'])).toEqual([
      `ScaledObject/processor: masterpost:image:wait is no queue's wait list (QUEUE_PREFIX masterpost, queues ${[...queueNames, 'thumbnails'].join(', ')})`,
      'ScaledObject/processor: the queue images has no trigger: processors at zero would never take its jobs',
      'ScaledObject/processor: the queue thumbnails has no trigger: processors at zero would never take its jobs',
    ]);
  });
});

test('processors scale from zero in dev; production keeps one for the delayed jobs KEDA cannot see', () => {
  const dev = find(built.rendered.dev, 'ScaledObject', 'processor').spec;
  const production = find(built.rendered.production, 'ScaledObject', 'processor').spec;
  expect(dev.minReplicaCount).toBe(0);
  expect(production.minReplicaCount).toBe(1);
  expect(production.maxReplicaCount).toBeGreaterThan(production.minReplicaCount);
  // The processors' in-flight cap and concurrency are what the maximum was derived from.
  const env = new Map<string, string>(find(built.rendered.production, 'Deployment', 'processor').spec.template.spec.containers[0].env.map((variable: { name: string; value: string }) => [variable.name, variable.value]));
  expect(production.maxReplicaCount * Number(env.get('WORKER_CONCURRENCY'))).toBeGreaterThanOrEqual(Number(env.get('QWEN_MAX_IN_FLIGHT')));
});

// A second opinion where kubectl is installed: kustomize itself renders what our renderer does.
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
(kubectl.status === 0 ? test.each(['dev', 'production'] as const) : test.skip.each(['dev', 'production'] as const))('kubectl kustomize renders the %s overlay as the source does', (overlay) => {
  const output = execFileSync('kubectl', ['kustomize', path.join(KUBERNETES, 'overlays', overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const theirs = parseAllDocuments(output).map((document) => document.toJS() as Manifest);
  const key = (object: Manifest) => `${object.kind}/${object.metadata.name}`;
  expect(theirs.map(key).sort()).toEqual(built.rendered[overlay].map(key).sort());
  for (const object of built.rendered[overlay]) {
    const rendered = theirs.find((candidate) => key(candidate) === key(object));
    expect({ object: key(object), same: isDeepStrictEqual(rendered, object) }).toEqual({ object: key(object), same: true });
  }
});
