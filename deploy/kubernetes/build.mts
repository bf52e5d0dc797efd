/**
 * Writes deploy/kubernetes from its TypeScript source (src/), or prints it for the test:
 *   tsx deploy/kubernetes/build.mts --write      the YAML files, as they are checked in
 *   tsx deploy/kubernetes/build.mts --json       {files, rendered, problems} (deploy/deploy.spec.ts)
 *   tsx deploy/kubernetes/build.mts --validate   the schema problems of the objects given on stdin
 * The objects are typed as they are built (kubernetes-models); each overlay is rendered as
 * kustomize renders it and every object checked against the Kubernetes and KEDA schemas.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { baseObjects } from './src/base.mjs';
import { overlays, type OverlayName } from './src/overlays.mjs';
import { renderOverlay, schemaProblems, type Manifest } from './src/render.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HEADER = '# Written by deploy/kubernetes/build.mts from deploy/kubernetes/src: edit the source, then `npx --yes pnpm@10 run manifests`.\n';
const yaml = (value: unknown) => HEADER + stringify(value, { lineWidth: 0 });
const kustomization = (fields: Record<string, unknown>) => ({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...fields });

export function build(): { files: Record<string, string>; rendered: Record<OverlayName, Manifest[]>; problems: string[] } {
  const files: Record<string, string> = {};
  const base = Object.entries(baseObjects());
  for (const [file, model] of base) files[`base/${file}`] = yaml(model.toJSON());
  // kustomize v2's fields only (bases, patchesStrategicMerge): Debian's kubectl 1.20 renders these too.
  files['base/kustomization.yaml'] = yaml(kustomization({ resources: base.map(([file]) => file) }));

  const baseManifests = base.map(([, model]) => model.toJSON() as Manifest);
  const rendered = {} as Record<OverlayName, Manifest[]>;
  const problems: string[] = [];
  for (const name of Object.keys(overlays) as OverlayName[]) {
    const overlay = overlays[name]();
    const patchFiles = overlay.patches.map((patch) => `patches/${patch.kind.toLowerCase()}-${patch.metadata.name}.yaml`);
    overlay.patches.forEach((patch, index) => (files[`overlays/${name}/${patchFiles[index]}`] = yaml(patch)));
    for (const [file, model] of Object.entries(overlay.resources)) files[`overlays/${name}/${file}`] = yaml(model.toJSON());
    files[`overlays/${name}/kustomization.yaml`] = yaml(kustomization({
      namespace: overlay.namespace,
      bases: ['../../base'],
      ...(Object.keys(overlay.resources).length ? { resources: Object.keys(overlay.resources) } : {}),
      patchesStrategicMerge: patchFiles,
      images: overlay.images,
    }));
    rendered[name] = renderOverlay(baseManifests, overlay);
    for (const object of rendered[name]) problems.push(...schemaProblems(object).map((problem) => `${name}: ${problem}`));
  }
  return { files, rendered, problems };
}

function main(mode: string | undefined): void {
  if (mode === '--validate') {
    const objects = JSON.parse(readFileSync(0, 'utf8')) as Manifest[];
    process.stdout.write(JSON.stringify(objects.flatMap(schemaProblems)));
    return;
  }
  const result = build();
  if (mode === '--json') {
    process.stdout.write(JSON.stringify(result));
    return;
  }
  if (mode !== '--write') throw new Error('usage: build.mts --write | --json | --validate');
  if (result.problems.length) throw new Error(`objects the schemas refuse:\n${result.problems.join('\n')}`);
  for (const [file, text] of Object.entries(result.files)) {
    mkdirSync(path.dirname(path.join(HERE, file)), { recursive: true });
    writeFileSync(path.join(HERE, file), text);
  }
  console.log(`wrote ${Object.keys(result.files).length} files under deploy/kubernetes`);
}

main(process.argv[2]);
