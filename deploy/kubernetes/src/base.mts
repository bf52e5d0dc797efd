import contracts from '@masterpost/contracts';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, type IContainer, type IEnvVar, type IProbe } from 'kubernetes-models/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  IMAGE, QUEUE_PREFIX, SECRET_NAME, ports, processorsForRate, qwen, qwenMaxInFlight, renderThreads, resources, scratchSize, shutdown, workerConcurrency,
  type SecretKey,
} from './settings.mjs';

const { QueueName } = contracts;
export type Service_ = 'gateway' | 'billing' | 'processor';
const SETTINGS = 'masterpost-settings';
const STORAGE_DIR = '/data/storage';
/**
 * The image holds the built services (Dockerfile, scripts/build-services.ts): each is started as
 * its bundle, and nothing in the image is written: files go to the scratch folder, temporary
 * ones to /tmp, each an emptyDir.
 */
const securityContext: IContainer['securityContext'] = {
  allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] },
};
const tmp = { volumeMount: { name: 'tmp', mountPath: '/tmp' }, volume: { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } } };
const labels = (app: string) => ({ 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': 'masterpost' });

/** A secret read by key from the Secret the operator made: never a value in these files. */
function secret(name: SecretKey, optional = false): IEnvVar {
  return { name, valueFrom: { secretKeyRef: { name: SECRET_NAME, key: name, ...(optional ? { optional } : {}) } } };
}
const value = (name: string, text: string | number): IEnvVar => ({ name, value: String(text) });

/** `/health` says the process runs, `/ready` that its dependencies answer (packages/platform/src/ops.ts). */
function probes(port: number): Pick<IContainer, 'startupProbe' | 'livenessProbe' | 'readinessProbe'> {
  const get = (path: string) => ({ httpGet: { path, port } });
  // The gateway waits for Redis before it listens: up to a minute to start.
  const startupProbe: IProbe = { ...get('/health'), periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 };
  // Liveness on /health only: a Redis or PostgreSQL outage must not restart every pod at once.
  const livenessProbe: IProbe = { ...get('/health'), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 };
  // /ready probes each dependency with a 1 s bound (ops.ts `probe`), a few in turn.
  const readinessProbe: IProbe = { ...get('/ready'), periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 4 };
  return { startupProbe, livenessProbe, readinessProbe };
}

/** What every service's container shares: the image, its built entry, the malloc setting, the settings map. */
function container(service: string, entry: string, port: number, env: IEnvVar[]): IContainer {
  return {
    name: service,
    image: IMAGE,
    command: ['node', entry],
    ports: [{ name: 'http', containerPort: port }],
    envFrom: [{ configMapRef: { name: SETTINGS } }],
    env: [
      value('PORT', port),
      // One glibc malloc arena keeps resident memory flat around libvips' threads (BENCHMARKS.md:
      // 540 MiB peak with it, 599-603 MiB with two).
      value('MALLOC_ARENA_MAX', 1),
      ...env,
    ],
    securityContext,
    ...probes(port),
  };
}

function deployment(service: Service_, spec: { container: IContainer; replicas?: number; graceSeconds: number; scratch: string }): Deployment {
  return new Deployment({
    metadata: { name: service, labels: labels(service) },
    spec: {
      ...(spec.replicas === undefined ? {} : { replicas: spec.replicas }),
      selector: { matchLabels: labels(service) },
      // New pods ready before old ones go: no capacity is lost to a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(service), annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(spec.container.ports?.[0]?.containerPort), 'prometheus.io/path': '/metrics' } },
        spec: {
          terminationGracePeriodSeconds: spec.graceSeconds,
          automountServiceAccountToken: false,
          containers: [{ ...spec.container, volumeMounts: [{ name: 'scratch', mountPath: STORAGE_DIR }, tmp.volumeMount] }],
          // STORAGE_DIR: the uploads' temporary files (the pictures themselves go to the object store).
          volumes: [{ name: 'scratch', emptyDir: { sizeLimit: spec.scratch } }, tmp.volume],
        },
      },
    },
  });
}

/** SIGTERM, then the shutdown bound, then SIGKILL: the grace period outlasts the bound. */
const httpGraceSeconds = shutdown.preStopSeconds + shutdown.httpBoundMs / 1000 + shutdown.slackSeconds;
const processorGraceSeconds = shutdown.processorBoundMs / 1000 + shutdown.slackSeconds;
// The endpoints controller and the proxies learn of a terminating pod a moment later: keep
// answering meanwhile, so no request reaches a closed port.
const preStop = { lifecycle: { preStop: { exec: { command: ['sleep', String(shutdown.preStopSeconds)] } } } };

export function gateway(): Deployment {
  const main = container('gateway', 'services/gateway/dist/main.js', ports.gateway, [
    secret('DATABASE_URL'), secret('REDIS_URL'), secret('JWT_SECRET'), secret('BILLING_SERVICE_TOKEN'), secret('SUPABASE_URL'), secret('SUPABASE_SERVICE_ROLE_KEY'),
    value('STORAGE_REQUIRE_SHARED', 'true'),
  ]);
  return deployment('gateway', { container: { ...main, ...preStop, resources: resources.gateway }, graceSeconds: httpGraceSeconds, scratch: scratchSize.gateway });
}

export function billing(): Deployment {
  const main = container('billing', 'services/billing/dist/main.js', ports.billing, [
    secret('DATABASE_URL'), secret('BILLING_SERVICE_TOKEN'), secret('STRIPE_SECRET_KEY', true), secret('STRIPE_WEBHOOK_SECRET', true),
    secret('SUPABASE_URL'), secret('SUPABASE_SERVICE_ROLE_KEY'),
  ]);
  return deployment('billing', { container: { ...main, ...preStop, resources: resources.billing }, replicas: 2, graceSeconds: httpGraceSeconds, scratch: '64Mi' });
}

export function processor(): Deployment {
  const main = container('processor', 'services/processor/dist/main.js', ports.processor, [
    secret('DATABASE_URL'), secret('REDIS_URL'), secret('BILLING_SERVICE_TOKEN'), secret('SUPABASE_URL'), secret('SUPABASE_SERVICE_ROLE_KEY'),
    secret('DASHSCOPE_API_KEY'),
    value('STORAGE_REQUIRE_SHARED', 'true'),
    value('QWEN_MAX_IN_FLIGHT', qwenMaxInFlight),
    value('WORKER_CONCURRENCY', workerConcurrency),
    value('RENDER_THREADS', renderThreads),
    value('SHUTDOWN_BOUND_MS', shutdown.processorBoundMs),
  ]);
  // No replicas: KEDA owns the count (a fixed one would fight it on every apply).
  return deployment('processor', { container: { ...main, resources: resources.processor }, graceSeconds: processorGraceSeconds, scratch: scratchSize.processor });
}

function service(name: 'gateway' | 'billing', port: number): Service {
  return new Service({
    metadata: { name, labels: labels(name) },
    spec: { selector: labels(name), ports: [{ name: 'http', port, targetPort: 'http' }] },
  });
}

/** Settings that are not secrets, shared by the services; the overlays set their own values. */
function settings(): ConfigMap {
  return new ConfigMap({
    metadata: { name: SETTINGS, labels: labels('masterpost') },
    data: {
      LOG_LEVEL: 'info',
      QUEUE_PREFIX,
      STORAGE_DIR,
      BILLING_URL: `http://billing:${ports.billing}`,
      PUBLIC_URL: 'https://masterpost.example.com',
      SUPABASE_BUCKET: 'masterpost',
      // The gateway's estimates and the processors' gate read the same rate.
      QWEN_MAX_PER_SECOND: String(qwen.maxPerSecond),
      QWEN_MODEL: 'qwen-image-edit-plus',
      // 0 is no cap; each overlay sets its budget (micro-USD a UTC day).
      QWEN_DAILY_SPEND_CAP_MICRO_USD: '0',
      // One proxy (the ingress) in front: X-Forwarded-For's last hop is the client.
      TRUST_PROXY: '1',
    },
  });
}

function disruptionBudget(name: Service_): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: { name, labels: labels(name) },
    // One pod at a time in a drain; an unready pod (a processor during a provider pause) may go anyway.
    spec: { maxUnavailable: 1, selector: { matchLabels: labels(name) }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  });
}

function gatewayAutoscaler(): HorizontalPodAutoscaler {
  return new HorizontalPodAutoscaler({
    metadata: { name: 'gateway', labels: labels('gateway') },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      // Uploads come in bursts; a gateway taken away mid-upload costs the seller a retry.
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  });
}

/** BullMQ keeps a queue's waiting jobs in the list `<prefix>:<queue>:wait`. */
export const waitList = (queue: string) => `${QUEUE_PREFIX}:${queue}:wait`;

function processorScaler(): ScaledObject {
  return new ScaledObject({
    metadata: { name: 'processor', labels: labels('processor') },
    spec: {
      scaleTargetRef: { name: 'processor' },
      minReplicaCount: 0,
      // The processors that keep every call the rate allows in flight (settings.mts); more would only wait at the gate.
      maxReplicaCount: processorsForRate,
      pollingInterval: 15,
      // Retries wait a few seconds in BullMQ's delayed set, which KEDA does not see: keep the last processor a while.
      cooldownPeriod: 300,
      // A processor takes every queue: any one of them waiting starts one.
      triggers: Object.values(QueueName).map((queue) => ({
        type: 'redis',
        name: `wait-${queue}`,
        authenticationRef: { name: 'masterpost-redis' },
        // One processor for each WORKER_CONCURRENCY pictures waiting.
        metadata: { listName: waitList(queue), listLength: String(workerConcurrency), activationListLength: '0' },
      })),
    },
  });
}

function redisAuthentication(): TriggerAuthentication {
  return new TriggerAuthentication({
    metadata: { name: 'masterpost-redis', labels: labels('processor') },
    spec: {
      secretTargetRef: [
        { parameter: 'address', name: SECRET_NAME, key: 'REDIS_ADDRESS' },
        { parameter: 'password', name: SECRET_NAME, key: 'REDIS_PASSWORD' },
      ],
    },
  });
}

/** Applied before the services of a release (docs/operations.md); db/migrate.ts applies each migration once. */
function migration(): Job {
  return new Job({
    metadata: { name: 'migrate', labels: labels('migrate') },
    spec: {
      backoffLimit: 3,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: labels('migrate') },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [{
            name: 'migrate',
            image: IMAGE,
            command: ['node', 'db/dist/migrate.js'],
            env: [secret('DATABASE_URL')],
            resources: resources.migrate,
            securityContext,
            volumeMounts: [tmp.volumeMount],
          }],
          volumes: [tmp.volume],
        },
      },
    },
  });
}

/** The base: every object, by the file it is written to. */
export function baseObjects(): Record<string, { toJSON(): unknown; validate(): void }> {
  return {
    'settings.yaml': settings(),
    'gateway.yaml': gateway(),
    'gateway-service.yaml': service('gateway', ports.gateway),
    'gateway-autoscaler.yaml': gatewayAutoscaler(),
    'gateway-disruption-budget.yaml': disruptionBudget('gateway'),
    'billing.yaml': billing(),
    'billing-service.yaml': service('billing', ports.billing),
    'billing-disruption-budget.yaml': disruptionBudget('billing'),
    'processor.yaml': processor(),
    'processor-scaler.yaml': processorScaler(),
    'processor-redis-auth.yaml': redisAuthentication(),
    'processor-disruption-budget.yaml': disruptionBudget('processor'),
    'migrate.yaml': migration(),
  };
}
