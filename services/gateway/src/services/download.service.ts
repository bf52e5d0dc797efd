import archiver from 'archiver';
import type { Writable } from 'node:stream';
import { annotateSpan, type Storage } from '@masterpost/platform';
import { AppError, ErrorCode, isTerminalJobStatus, type Manifest } from '@masterpost/contracts';
import type { ImageRow, JobsRepository } from '../adapters/jobs.repository';
import type { JobsService } from './jobs.service';

/**
 * Streams a job's ZIP: one file per finished picture, named after its original file (made
 * unique, with the extension of its real format), and manifest.json describing every picture,
 * finished or not. Pictures are stored, not deflated (they are already compressed), so the
 * first byte leaves at once and memory does not grow with the number of pictures.
 */
export function uniqueNames(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const extension = dot > 0 ? name.slice(dot) : '';
    let candidate = name;
    // Case-insensitive: Windows and macOS would overwrite "A.jpg" with "a.jpg" when unpacking.
    for (let copy = 2; used.has(candidate.toLowerCase()); copy++) candidate = `${stem} (${copy})${extension}`;
    used.add(candidate.toLowerCase());
    return candidate;
  });
}

export function streamJobZip(output: Writable, storage: Storage, jobId: string, pipeline: Manifest['pipeline'], images: ImageRow[]): Promise<void> {
  const archive = archiver('zip', { zlib: { level: 6 } });
  const done = images.filter((image) => image.status === 'done' && image.result_key);
  const names = uniqueNames(done.map((image) => image.output_name ?? `${image.id}.${image.output_format ?? 'jpg'}`));
  const nameById = new Map(done.map((image, index) => [image.id, names[index]!]));
  const finished = new Promise<void>((resolve, reject) => {
    archive.on('error', reject);
    output.on('close', () => resolve());
    output.on('finish', () => resolve());
  });
  archive.pipe(output);
  const manifest: Manifest = {
    job_id: jobId,
    pipeline,
    images: images.map((image) => ({
      image_id: image.id,
      source_name: image.filename,
      output_name: nameById.get(image.id) ?? null,
      status: image.status,
      error: image.error_code ? { code: image.error_code, message: image.error_message } : null,
      width: image.output_width,
      height: image.output_height,
      shadow: image.shadow_type,
      compliance: image.compliance ?? null,
      credits_charged: image.credits_charged,
    })),
  };
  // One picture's file open at a time: the next is appended once archiver has written the
  // last, so a ZIP of 500 pictures holds one read buffer, not 500.
  let next = 0;
  const appendNext = () => {
    const image = done[next++];
    if (image) {
      archive.append(storage.stream(image.result_key!), { name: nameById.get(image.id)!, store: true });
    } else if (next === done.length + 1) {
      archive.append(JSON.stringify(manifest, null, 2), { name: 'manifest.json' });
      void archive.finalize();
    }
  };
  archive.on('entry', appendNext);
  appendNext();
  return finished;
}

/** A seller's job as a ZIP, once at least one of its pictures is delivered and its files are kept. */
export class DownloadService {
  constructor(private readonly deps: { jobsService: JobsService; jobs: JobsRepository; storage: Storage }) {}

  async jobZip(userId: string, jobId: string): Promise<{ filename: string; write: (output: Writable) => Promise<void> }> {
    const job = await this.deps.jobsService.ownedJob(jobId, userId);
    if (job.files_deleted_at) throw new AppError(410, ErrorCode.FilesDeleted, 'the pictures of this job were deleted after the retention period');
    const images = await this.deps.jobs.images(job.id);
    if (!images.some((image) => image.status === 'done')) {
      throw new AppError(409, ErrorCode.NotFinished, isTerminalJobStatus(job.status) ? 'no picture of this job was finished' : 'no picture is finished yet; try again when progress shows one done');
    }
    annotateSpan({ 'job.id': job.id, 'pictures.count': images.filter((image) => image.status === 'done').length });
    return { filename: `masterpost-${job.id.slice(0, 8)}.zip`, write: (output) => streamJobZip(output, this.deps.storage, job.id, job.pipeline, images) };
  }
}
