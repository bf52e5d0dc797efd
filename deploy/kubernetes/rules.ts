/**
 * Our rules for every rendered object, beyond what the Kubernetes schemas check: probes and
 * limits set, pinned images, secrets only by reference, memory and shutdown settings, and KEDA
 * reading the wait lists of the queues the contracts name.
 */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
interface Container {
  name: string;
  image?: string;
  env?: EnvVar[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
}
interface PodTemplate { spec?: { containers?: Container[]; terminationGracePeriodSeconds?: number } }

/** Names that hold a credential, or a URL that may carry one. */
export const SECRET_NAME_PATTERN = /SECRET|TOKEN|PASSWORD|_KEY$|^DATABASE_URL$|^REDIS_URL$|^REDIS_ADDRESS$|SERVICE_ROLE/;
/** handleShutdown's default bound (packages/platform/src/shutdown.ts), for services without SHUTDOWN_BOUND_MS. */
const DEFAULT_SHUTDOWN_BOUND_MS = 20_000;
const OUR_SERVICES = ['gateway', 'billing', 'processor'];

function podTemplate(object: Manifest): PodTemplate | undefined {
  if (object.kind !== 'Deployment' && object.kind !== 'Job') return undefined;
  return (object.spec as { template?: PodTemplate } | undefined)?.template;
}

function containerProblems(object: Manifest, container: Container): string[] {
  const at = `${object.kind}/${object.metadata.name} container ${container.name}`;
  const problems: string[] = [];
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) if (!container.resources?.[kind]?.[resource]) problems.push(`${at}: no ${resource} ${kind.slice(0, -1)}`);
  }
  if (object.kind === 'Deployment' && (!container.readinessProbe || !container.livenessProbe)) problems.push(`${at}: needs a readiness and a liveness probe`);
  const image = container.image ?? '';
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  if (!tag && !image.includes('@sha256:')) problems.push(`${at}: image ${image || '(none)'} has no tag (that is latest)`);
  if (tag === 'latest') problems.push(`${at}: image ${image} uses the latest tag`);
  for (const variable of container.env ?? []) {
    if (SECRET_NAME_PATTERN.test(variable.name) && !variable.valueFrom?.secretKeyRef) problems.push(`${at}: ${variable.name} must come from a Secret (secretKeyRef), not inline`);
  }
  return problems;
}

function serviceProblems(object: Manifest, template: PodTemplate): string[] {
  const problems: string[] = [];
  const at = `${object.kind}/${object.metadata.name}`;
  const container = template.spec?.containers?.find((candidate) => candidate.name === object.metadata.name);
  const env = new Map((container?.env ?? []).map((variable) => [variable.name, variable.value]));
  if (env.get('MALLOC_ARENA_MAX') !== '1') problems.push(`${at}: MALLOC_ARENA_MAX must be 1 (BENCHMARKS.md, processor memory)`);
  const boundMs = Number(env.get('SHUTDOWN_BOUND_MS') ?? DEFAULT_SHUTDOWN_BOUND_MS);
  const graceMs = (template.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
  if (graceMs <= boundMs) problems.push(`${at}: terminationGracePeriodSeconds (${graceMs / 1000}) must outlast the shutdown bound (${boundMs} ms)`);
  if (object.metadata.name !== 'billing' && env.get('STORAGE_REQUIRE_SHARED') !== 'true') problems.push(`${at}: several nodes share files only through the object store: STORAGE_REQUIRE_SHARED=true`);
  return problems;
}

function scalerProblems(object: Manifest, queuePrefix: string | undefined, queueNames: string[]): string[] {
  const triggers = (object.spec as { triggers?: Array<{ type: string; metadata?: Record<string, string> }> } | undefined)?.triggers ?? [];
  const problems: string[] = [];
  const lists = new Set<string>();
  for (const trigger of triggers) {
    if (trigger.type !== 'redis') continue;
    const listName = trigger.metadata?.listName ?? '';
    lists.add(listName);
    const queue = queueNames.find((name) => listName === `${queuePrefix}:${name}:wait`);
    if (!queue) problems.push(`ScaledObject/${object.metadata.name}: ${listName} is no queue's wait list (QUEUE_PREFIX ${queuePrefix}, queues ${queueNames.join(', ')})`);
    for (const inline of ['password', 'address', 'host', 'username']) {
      if (trigger.metadata?.[inline] !== undefined) problems.push(`ScaledObject/${object.metadata.name}: ${inline} inline; use a TriggerAuthentication`);
    }
  }
  for (const queue of queueNames) {
    if (!lists.has(`${queuePrefix}:${queue}:wait`)) problems.push(`ScaledObject/${object.metadata.name}: the queue ${queue} has no trigger: processors at zero would never take its jobs`);
  }
  return problems;
}

/** Every rule broken by an overlay's objects, each naming the object; empty when all hold. */
export function ruleProblems(objects: Manifest[], queueNames: string[]): string[] {
  const problems: string[] = [];
  const settings = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === 'masterpost-settings');
  const data = (settings?.data ?? {}) as Record<string, string>;
  for (const key of Object.keys(data)) if (SECRET_NAME_PATTERN.test(key)) problems.push(`ConfigMap/${settings?.metadata.name}: ${key} is a secret; reference it from the Secret`);
  for (const object of objects) {
    if (object.kind === 'Secret') problems.push(`Secret/${object.metadata.name}: secrets are made by the operator, never written here`);
    const template = podTemplate(object);
    for (const container of template?.spec?.containers ?? []) problems.push(...containerProblems(object, container));
    if (template && object.kind === 'Deployment' && OUR_SERVICES.includes(object.metadata.name)) problems.push(...serviceProblems(object, template));
    if (object.kind === 'ScaledObject') problems.push(...scalerProblems(object, data.QUEUE_PREFIX, queueNames));
  }
  for (const service of OUR_SERVICES) {
    const has = (kind: string, name = service) => objects.some((object) => object.kind === kind && object.metadata.name === name);
    if (!has('Deployment')) problems.push(`Deployment/${service}: missing`);
    if (!has('PodDisruptionBudget')) problems.push(`PodDisruptionBudget/${service}: missing`);
  }
  if (!objects.some((object) => object.kind === 'HorizontalPodAutoscaler' && object.metadata.name === 'gateway')) problems.push('HorizontalPodAutoscaler/gateway: missing');
  if (!objects.some((object) => object.kind === 'ScaledObject' && object.metadata.name === 'processor')) problems.push('ScaledObject/processor: missing');
  return problems;
}
