import { usageError } from './exit-codes';
import { failure, reach, type Connection } from './gateway';

/**
 * One file of one picture of a job (GET /api/v1/images/{imageId}/{kind}): the delivered result,
 * the original upload, the product's transparent cutout, or its mask (white = product, the
 * shape to paint on for `masterpost edit --mask`). Pictures are named by the image ids that
 * `masterpost status <job> --pictures` and manifest.json list.
 */
export const pictureKinds = ['result', 'original', 'cutout', 'mask'] as const;
export type PictureKind = (typeof pictureKinds)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function pictureIdIn(argument: string): string {
  if (!UUID.test(argument.trim())) {
    throw usageError(`"${argument}" is not a picture id: picture ids look like 0b7c6f0e-3f4a-4b7e-9a51-2f4d1c9e8a10 (see "masterpost status <job> --pictures", or manifest.json)`);
  }
  return argument.trim().toLowerCase();
}

export function pictureKindIn(name: string): PictureKind {
  const found = pictureKinds.find((kind) => kind === name.trim().toLowerCase());
  if (!found) throw usageError(`unknown kind "${name}": choose one of ${pictureKinds.join(', ')}`);
  return found;
}

/** A file extension for the answer's content type; an unknown one keeps the bytes as .bin rather than guessing. */
export function extensionOf(contentType: string | null): string {
  const subtype = (contentType ?? '').split(';')[0]!.trim().toLowerCase().replace(/^image\//, '');
  const known: Record<string, string> = { jpeg: 'jpg', jpg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tif' };
  return known[subtype] ?? 'bin';
}

export interface PictureBytes {
  bytes: Buffer;
  extension: string;
}

export async function fetchPictureFile(connection: Connection, imageId: string, kind: PictureKind): Promise<PictureBytes> {
  const answer = await reach(connection, () =>
    connection.client.GET('/api/v1/images/{imageId}/{kind}', { params: { path: { imageId, kind } }, parseAs: 'arrayBuffer' }),
  );
  if (!answer.data) throw failure(`reading the ${kind} of picture ${imageId}`, connection, answer);
  return { bytes: Buffer.from(answer.data), extension: extensionOf(answer.response.headers.get('content-type')) };
}

