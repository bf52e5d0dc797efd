import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { IMAGE, overlayImages, ports, resources } from './settings.mjs';

/** A strategic-merge patch: the object's kind and name, and only the fields it changes. */
export interface Patch {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [field: string]: unknown;
}

export interface Overlay {
  namespace: string;
  images: Array<{ name: string; newName?: string; newTag: string }>;
  patches: Patch[];
  /** Objects only this overlay has, by file. */
  resources: Record<string, { toJSON(): unknown; validate(): void }>;
}

const settingsPatch = (data: Record<string, string>): Patch => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'masterpost-settings' }, data });

/** The local DashScope stand-in (tools/dashscope-sim), so a dev cluster spends nothing. */
function simulator(): { deployment: Deployment; service: Service } {
  const labels = { 'app.kubernetes.io/name': 'dashscope-sim', 'app.kubernetes.io/part-of': 'masterpost' };
  const deployment = new Deployment({
    metadata: { name: 'dashscope-sim', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          containers: [{
            name: 'dashscope-sim',
            image: IMAGE,
            command: ['node', 'tools/dashscope-sim/dist/main.js'],
            env: [
              { name: 'SIM_HOST', value: '0.0.0.0' },
              { name: 'SIM_PORT', value: String(ports.simulator) },
              { name: 'SIM_RESULT_PORT', value: String(ports.simulatorResults) },
              // A result host of DashScope's real shape; the processors connect it here (QWEN_RESULT_RESOLVE).
              { name: 'SIM_RESULT_ORIGIN', value: 'http://dashscope-result-sim.oss-test-1.aliyuncs.com' },
              { name: 'MALLOC_ARENA_MAX', value: '1' },
            ],
            ports: [{ name: 'api', containerPort: ports.simulator }, { name: 'results', containerPort: ports.simulatorResults }],
            resources: resources.simulator,
            readinessProbe: { tcpSocket: { port: ports.simulator }, periodSeconds: 5 },
            livenessProbe: { tcpSocket: { port: ports.simulator }, periodSeconds: 10 },
            // Built like the services (the image holds no sources), and as locked down.
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  });
  const service = new Service({
    metadata: { name: 'dashscope-sim', labels },
    spec: { selector: labels, ports: [{ name: 'api', port: ports.simulator, targetPort: 'api' }, { name: 'results', port: ports.simulatorResults, targetPort: 'results' }] },
  });
  return { deployment, service };
}

/** A small cluster to try a release on: one of each, the stand-in instead of DashScope, scaled to zero when idle. */
function dev(): Overlay {
  const sim = simulator();
  return {
    namespace: 'masterpost-dev',
    images: [{ name: IMAGE, ...overlayImages.dev }],
    patches: [
      settingsPatch({
        LOG_LEVEL: 'debug',
        PUBLIC_URL: 'http://localhost:8080',
        DASHSCOPE_BASE_URL: `http://dashscope-sim:${ports.simulator}/api/v1`,
        QWEN_RESULT_RESOLVE: `dashscope-result-sim.oss-test-1.aliyuncs.com:dashscope-sim:${ports.simulatorResults}`,
        // A dollar a day: the stand-in costs nothing, but the cap's pause can be tried.
        QWEN_DAILY_SPEND_CAP_MICRO_USD: '1000000',
      }),
      // Without a key the processors call the stand-in; the Secret need not have one.
      {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'processor' },
        spec: { template: { spec: { containers: [{ name: 'processor', env: [{ name: 'DASHSCOPE_API_KEY', valueFrom: { secretKeyRef: { name: 'masterpost', key: 'DASHSCOPE_API_KEY', optional: true } } }] }] } } },
      },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'billing' }, spec: { replicas: 1 } },
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'gateway' }, spec: { minReplicas: 1, maxReplicas: 2 } },
      { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'processor' }, spec: { maxReplicaCount: 2 } },
    ],
    resources: { 'dashscope-sim.yaml': sim.deployment, 'dashscope-sim-service.yaml': sim.service },
  };
}

/**
 * Production: the base as it is, with a budget and one processor always running. KEDA's list
 * scaler sees BullMQ's wait lists only; retries after a backoff, webhook retries (for days),
 * pictures waiting out a provider pause and the scheduled sweeps sit in the delayed set, which
 * only a running processor moves on. At zero they would wait for the next upload.
 */
function production(): Overlay {
  return {
    namespace: 'masterpost',
    images: [{ name: IMAGE, ...overlayImages.production }],
    patches: [
      // The public address sellers use (Stripe's return URLs), and the day's budget: set both to yours.
      settingsPatch({
        PUBLIC_URL: 'https://masterpost.example.com',
        // Singapore, DashScope's international region (docs/providers.md): the key must be of the same region.
        DASHSCOPE_BASE_URL: 'https://dashscope-intl.aliyuncs.com/api/v1',
        QWEN_DAILY_SPEND_CAP_MICRO_USD: '200000000',
      }),
      { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'processor' }, spec: { minReplicaCount: 1 } },
    ],
    resources: {},
  };
}

export const overlays = { dev, production } as const;
export type OverlayName = keyof typeof overlays;
