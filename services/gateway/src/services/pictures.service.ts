import type { Readable } from 'node:stream';
import { AppError, contentTypeOf, ErrorCode, isUuid, storageKey } from '@masterpost/contracts';
import type { Storage } from '@masterpost/platform';
import type { JobsRepository } from '../adapters/jobs.repository';

/**
 * A seller's own picture files: the photo they sent, and for a delivered picture its result,
 * cutout and mask. Ids are checked and files are found from database rows, so nothing from the
 * client reaches a path; a picture not yet delivered (its charge not decided) serves nothing
 * but its original.
 */
export const pictureKinds = ['result', 'original', 'cutout', 'mask'] as const;
export type PictureKind = (typeof pictureKinds)[number];

export interface PictureFile {
  contentType: string;
  cacheControl: string;
  size: number;
  body: Readable;
}

export class PicturesService {
  constructor(private readonly deps: { jobs: JobsRepository; storage: Storage }) {}

  async file(userId: string, imageId: string, kind: PictureKind): Promise<PictureFile> {
    const image = isUuid(imageId) ? await this.deps.jobs.findOwnedImage(imageId, userId) : null;
    if (!image) throw new AppError(404, ErrorCode.NotFound, 'no such image');
    if (kind !== 'original' && image.status !== 'done') throw new AppError(409, ErrorCode.NotFinished, 'this picture is not finished yet');
    const key =
      kind === 'original' ? image.upload_key
      : kind === 'cutout' ? image.cutout_key
      : kind === 'mask' ? (image.cutout_key ? storageKey.mask(image.job_id, image.id) : null)
      : image.result_key;
    if (!key) throw new AppError(409, ErrorCode.NotFinished, 'this picture is not finished yet');
    if (kind === 'mask' && !(await this.deps.storage.exists(key))) throw new AppError(404, ErrorCode.NotFound, 'this picture was made before masks were kept');
    const format = kind === 'original' ? image.source_format : kind === 'cutout' || kind === 'mask' ? 'png' : (image.output_format ?? 'jpeg');
    return {
      contentType: contentTypeOf(format),
      // The editor's files change when a picture is edited: browsers must ask again each time.
      cacheControl: kind === 'original' ? 'private, max-age=300' : 'private, no-cache',
      size: await this.deps.storage.size(key),
      body: this.deps.storage.stream(key),
    };
  }
}
