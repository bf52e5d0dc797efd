import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Schemas } from '@masterpost/client';
import { fetchCatalog } from '../catalog';
import { ExitCode } from '../exit-codes';
import { failure, publicGateway, reach, type Connection } from '../gateway';
import { print, say } from '../output';
import { formatBytes } from '../progress';
import { extensionOf } from '../picture-file';

/**
 * What the gateway offers, readable without signing in: `masterpost catalog` (the marketplaces
 * with their canvas, format and shadow, the choices, the upload limits and the price) and
 * `masterpost gallery` (the before/after examples, optionally downloaded to a folder).
 */
type GalleryItem = Schemas['GalleryItem'];

export async function showCatalog(options: { url?: string }): Promise<ExitCode> {
  const catalog = await fetchCatalog(await publicGateway(options.url));
  print(`${catalog.credits_per_picture} credits a delivered picture (a picture that fails is not charged).`);
  print('Marketplaces (--marketplace):');
  for (const pipeline of catalog.pipelines) {
    print(`  ${pipeline.id}\t${pipeline.canvas.width}x${pipeline.canvas.height} ${pipeline.format}, product covering ${Math.round(pipeline.coverage * 100)}%, shadow ${pipeline.shadow}`);
  }
  print(`Shadows (--shadow): ${catalog.shadow_types.join(', ')}`);
  print(`Formats: ${catalog.output_formats.join(', ')}`);
  print(`Uploads: up to ${catalog.upload.max_files} files of ${formatBytes(catalog.upload.max_file_bytes)} each: ${catalog.upload.accepted.join(', ')}`);
  return ExitCode.Delivered;
}

/** A file name from a title: lower-case words joined by dashes, never a path. */
export function slug(title: string, fallback: string): string {
  const words = title.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return words || fallback;
}

export async function showGallery(options: { url?: string; out?: string }): Promise<ExitCode> {
  const connection = await publicGateway(options.url);
  const answer = await reach(connection, () => connection.client.GET('/api/v1/gallery/all'));
  if (!answer.data) throw failure('reading the gallery', connection, answer);
  const { items } = answer.data;
  if (items.length === 0) {
    print('The gallery has no examples yet.');
    return ExitCode.Delivered;
  }
  for (const item of items) {
    print(`${item.title} (${item.pipeline})${item.description ? `: ${item.description}` : ''}`);
    print(`  before: ${new URL(item.original_url, `${connection.url}/`).href}`);
    print(`  after:  ${new URL(item.processed_url, `${connection.url}/`).href}`);
  }
  if (!options.out) return ExitCode.Delivered;
  const outDir = path.resolve(options.out);
  await mkdir(outDir, { recursive: true });
  let written = 0;
  for (const item of items) written += await saveItem(connection, item, outDir);
  say(`${written} pictures written to ${outDir}.`);
  return ExitCode.Delivered;
}

async function saveItem(connection: Connection, item: GalleryItem, outDir: string): Promise<number> {
  const name = `${slug(item.title, 'example')}-${item.id.slice(0, 8)}`;
  for (const [kind, label] of [['original', 'before'], ['processed', 'after']] as const) {
    const answer = await reach(connection, () =>
      connection.client.GET('/api/v1/gallery/{id}/{kind}', { params: { path: { id: item.id, kind } }, parseAs: 'arrayBuffer' }),
    );
    if (!answer.data) throw failure(`downloading the ${label} picture of "${item.title}"`, connection, answer);
    await writeFile(path.join(outDir, `${name}-${label}.${extensionOf(answer.response.headers.get('content-type'))}`), Buffer.from(answer.data));
  }
  return 2;
}
