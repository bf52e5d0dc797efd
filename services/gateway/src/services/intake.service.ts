import { randomUUID } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { AppError, ErrorCode, storageKey, type AcceptedPicture, type RejectedFile } from '@masterpost/contracts';
import { type Storage } from '@masterpost/platform';
import type { JobsRepository, NewImage } from '../adapters/jobs.repository';
import { verifyImage } from './image-verify';
import { displayName, readZip, UnsafeArchiveError, type ZipLimits } from './zip-extract';

/**
 * Turns an upload (files already streamed to disk by multer) into a job: ZIPs are opened
 * safely, every picture is verified by its content, accepted pictures are moved into the job's
 * storage, and everything refused is listed with a reason. Nothing is silently dropped.
 */
export interface UploadedFile {
  originalname: string;
  path: string;
  size: number;
}

type Rejection = RejectedFile;
type AcceptedImage = AcceptedPicture;

export interface IntakeLimits extends ZipLimits {
  maxImagesPerJob: number;
  maxPixels: number;
}

const ZIP_MAGIC = [Buffer.from('PK\x03\x04', 'binary'), Buffer.from('PK\x05\x06', 'binary')];

/** A ZIP is known by its first bytes, not its name; only those bytes are read to tell. */
async function isZip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return ZIP_MAGIC.some((magic) => head.equals(magic));
  } finally {
    await handle.close();
  }
}

export class IntakeService {
  constructor(
    private readonly deps: { jobs: JobsRepository; storage: Storage; limits: IntakeLimits; creditsPerImage: number },
  ) {}

  async intake(userId: string, files: UploadedFile[]): Promise<{ jobId: string; accepted: AcceptedImage[]; rejected: Rejection[] }> {
    const jobId = randomUUID();
    const accepted: Array<AcceptedImage & { record: NewImage }> = [];
    const rejected: Rejection[] = [];
    const { storage, limits } = this.deps;

    const consider = async (filename: string, data: Buffer) => {
      if (accepted.length >= limits.maxImagesPerJob) {
        rejected.push({ filename, code: ErrorCode.TooManyFiles, message: `a job takes at most ${limits.maxImagesPerJob} pictures` });
        return;
      }
      const verdict = await verifyImage(data, limits.maxPixels);
      if (!verdict.ok) {
        rejected.push({ filename, code: verdict.code, message: verdict.message });
        return;
      }
      const imageId = randomUUID();
      const uploadKey = storageKey.upload(jobId, imageId, verdict.extension);
      await storage.put(uploadKey, data);
      accepted.push({
        image_id: imageId,
        filename,
        width: verdict.width,
        height: verdict.height,
        bytes: data.length,
        record: { id: imageId, filename, uploadKey, contentSha256: verdict.sha256, sourceFormat: verdict.format, width: verdict.width, height: verdict.height, bytes: data.length },
      });
    };

    try {
      for (const file of files) {
        const filename = displayName(file.originalname);
        if (await isZip(file.path)) {
          // Pictures accepted from an archive that turns out unsafe further on are taken back.
          const acceptedBefore = accepted.length;
          try {
            const archive = await readZip(file.path, file.size, limits, (name, data) => consider(name, data));
            for (const entry of archive.rejected) rejected.push({ filename: `${filename}/${entry.name}`, code: entry.code, message: entry.message });
          } catch (error) {
            if (!(error instanceof UnsafeArchiveError)) throw error;
            for (const dropped of accepted.splice(acceptedBefore)) await storage.deletePrefix(dropped.record.uploadKey);
            rejected.push({ filename, code: error.code, message: error.message });
          }
          continue;
        }
        if (file.size > limits.maxEntryBytes) {
          // Never read into memory: a picture this large is refused by its size alone.
          rejected.push({ filename, code: ErrorCode.ImageTooLarge, message: `a picture may be at most ${limits.maxEntryBytes} bytes` });
          continue;
        }
        await consider(filename, await readFile(file.path));
      }
      if (accepted.length === 0) {
        await storage.deletePrefix(storageKey.job(jobId));
        throw new AppError(400, ErrorCode.NoImages, 'none of the uploaded files is a picture we can process', { rejected });
      }
      await this.deps.jobs.createWithImages(jobId, userId, this.deps.creditsPerImage, accepted.map((item) => item.record));
    } catch (error) {
      if (!(error instanceof AppError)) await storage.deletePrefix(storageKey.job(jobId)).catch(() => undefined);
      throw error;
    } finally {
      await Promise.all(files.map((file) => rm(file.path, { force: true })));
    }
    return { jobId, accepted: accepted.map(({ record: _record, ...item }) => item), rejected };
  }
}
