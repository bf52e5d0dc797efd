import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { Overlay, Patch } from './overlays.mjs';

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;

/** Every kind these manifests may hold, with the schema it is checked against. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** What the Kubernetes schema finds wrong with an object, or a note that there is no schema for it. */
export function schemaProblems(object: Manifest): string[] {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  const subject = `${object.kind}/${object.metadata?.name}`;
  if (!Model) return [`${subject}: no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(structuredClone(object) as never).validate();
    return [];
  } catch (error) {
    return [`${subject}: ${(error as Error).message}`];
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The lists kustomize merges item by item by their `name` (Kubernetes' patchMergeKey for these
 * fields); every other list, and every list of a custom resource, a patch replaces whole.
 */
const MERGED_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts']);

function merge(target: unknown, patch: unknown, key: string, builtIn: boolean): unknown {
  if (isObject(target) && isObject(patch)) {
    const merged: Record<string, unknown> = { ...target };
    for (const [field, value] of Object.entries(patch)) merged[field] = field in target ? merge(target[field], value, field, builtIn) : value;
    return merged;
  }
  if (builtIn && MERGED_BY_NAME.has(key) && Array.isArray(target) && Array.isArray(patch)) {
    // kustomize's order: the patch's items first (merged into the ones they name), then the rest.
    const named = (list: unknown[], name: unknown) => list.find((item) => isObject(item) && item.name === name);
    const patched = patch.map((item: unknown) => {
      const original = isObject(item) ? named(target, item.name) : undefined;
      return original === undefined ? item : merge(original, item, '', builtIn);
    });
    const untouched = target.filter((item: unknown) => !(isObject(item) && named(patch, item.name) !== undefined));
    return [...patched, ...untouched];
  }
  return patch;
}

function applyImages(object: unknown, images: Overlay['images']): unknown {
  if (Array.isArray(object)) return object.map((item) => applyImages(item, images));
  if (!isObject(object)) return object;
  const result: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(object)) {
    if (field === 'image' && typeof value === 'string') {
      const rule = images.find((image) => value === image.name || value.startsWith(`${image.name}:`));
      result[field] = rule ? `${rule.newName ?? rule.name}:${rule.newTag}` : value;
    } else {
      result[field] = applyImages(value, images);
    }
  }
  return result;
}

/**
 * What `kubectl kustomize overlays/<name>` makes of the base and the overlay's kustomization
 * (bases, resources, patchesStrategicMerge, namespace, images: the fields kustomize v2 knows),
 * for the fields these manifests use.
 */
export function renderOverlay(base: Manifest[], overlay: Overlay): Manifest[] {
  const extra = Object.values(overlay.resources).map((model) => model.toJSON() as Manifest);
  return [...base, ...extra].map((object) => {
    let result: Manifest = object;
    for (const patch of overlay.patches.filter((candidate: Patch) => candidate.kind === object.kind && candidate.metadata.name === object.metadata.name)) {
      // Custom resources have no merge keys for kustomize: their lists are replaced whole.
      result = merge(result, patch, '', !object.apiVersion.startsWith('keda.sh/')) as Manifest;
    }
    result = applyImages(result, overlay.images) as Manifest;
    return { ...result, metadata: { ...result.metadata, namespace: overlay.namespace } };
  });
}
