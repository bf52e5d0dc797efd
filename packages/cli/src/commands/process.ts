import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fetchBalance } from '../balance';
import { fetchCatalog, marketplaceIn, shadowIn, type Catalog, type Marketplace, type ShadowType } from '../catalog';
import { downloadJob } from '../download-job';
import { ExitCode, usageError } from '../exit-codes';
import { findPictures, PICTURE_EXTENSIONS, type FoundFile, type FoundFolder } from '../find-pictures';
import { followJob, type Progress } from '../follow-job';
import { errorDetails, failure, insufficientCredits, reach, signedIn, type Connection } from '../gateway';
import { onInterruptSay } from '../interrupt';
import { newState, readState, sameRun, statePath, writeState, type JobState, type RejectedFile } from '../job-state';
import { print, say } from '../output';
import { byteMeter, formatBytes } from '../progress';
import { canAsk, confirm } from '../prompt';
import { jobReport, rejectedReport, runningLine } from '../report';
import { uploadFiles } from '../upload';

/**
 * `masterpost process <folder>`: a folder of photos to marketplace pictures in --out. The
 * steps, each recorded in the state file in --out before it is taken so the same command can
 * resume after an interruption: estimate and confirm (nothing is sent when the credits are
 * short), upload (once: a retried upload carries the same Idempotency-Key), process, follow,
 * download and unpack, report.
 */
export interface ProcessOptions {
  marketplace: string;
  shadow?: string;
  out?: string;
  yes?: boolean;
  /** Follow the job to the end and download it (the default); `--no-wait` stops once it is queued. */
  wait?: boolean;
  url?: string;
}

interface Run {
  connection: Connection;
  outDir: string;
  marketplace: Marketplace;
  shadow: ShadowType | null;
  wait: boolean;
}

export async function processFolder(folderArgument: string, options: ProcessOptions): Promise<ExitCode> {
  const folder = path.resolve(folderArgument);
  if (!(await stat(folder).catch(() => null))?.isDirectory()) throw usageError(`${folderArgument} is not a folder`);
  onInterruptSay('Interrupted; nothing was uploaded.');
  const connection = await signedIn(options.url);
  const catalog = await fetchCatalog(connection);
  const marketplace = marketplaceIn(catalog, options.marketplace);
  const shadow = options.shadow ? shadowIn(catalog, options.shadow) : null;
  const outDir = path.resolve(options.out ?? `${folder}-${marketplace}`);
  // The pictures keep their originals' names: written into the photos' folder they would replace them.
  if (outDir === folder) throw usageError('--out must be another folder than the photos\' one (the pictures are named after the originals)');
  const run: Run = { connection, outDir, marketplace, shadow, wait: options.wait !== false };

  const found = await findPictures(folder);
  const sent = { folder, marketplace, shadow, files: found.files.map((file) => ({ name: file.name, bytes: file.bytes })) };
  const state = await readState(outDir);
  if (state && sameRun(state, sent)) {
    const resumed = await resume(run, state, found.files);
    if (resumed !== null) return resumed;
  } else if (state?.job_id && state.phase !== 'downloaded') {
    say(`${statePath(outDir)} was for job ${state.job_id}, made from other files or settings; starting a new job (see that one with: masterpost status ${state.job_id}).`);
  }

  if (found.files.length === 0) throw usageError(`no photos (${PICTURE_EXTENSIONS.join(', ')}) or ZIPs in ${folder} (sub-folders are not searched)`);
  checkLimits(found, catalog);
  if (found.ignored.length) say(`Not sent (neither photos nor ZIPs): ${found.ignored.join(', ')}`);

  // Decided before a byte is sent: with too few credits nothing is uploaded.
  const balance = await fetchBalance(connection);
  const needed = found.pictures * catalog.credits_per_picture;
  say(`Estimate for ${marketplace}${shadow ? ` with a ${shadow} shadow` : ''}: ${found.pictures} picture${found.pictures === 1 ? '' : 's'} x ${catalog.credits_per_picture} credits = ${needed} credits (${describe(found)}); ${balance.available} credits available.`);
  if (needed > balance.available) throw insufficientCredits(needed, balance.available, connection.url);
  if (!options.yes) {
    if (!canAsk()) throw usageError('there is no terminal to confirm in: pass --yes to upload and spend the credits without being asked');
    if (!(await confirm('Upload and process them?'))) {
      say('Nothing was uploaded.');
      return ExitCode.Usage;
    }
  }

  const fresh = newState(sent);
  await writeState(outDir, fresh);
  return uploadAndProcess(run, fresh, found.files);
}

/** Where the pictures counted are: "6 photos", "4 photos, 2 ZIPs holding 10". */
function describe(found: FoundFolder): string {
  const photos = found.files.filter((file) => file.kind === 'picture').length;
  const zips = found.files.filter((file) => file.kind === 'zip' && file.pictures !== null);
  const inZips = zips.reduce((sum, file) => sum + (file.pictures ?? 0), 0);
  const parts = [`${photos} photo${photos === 1 ? '' : 's'}`];
  if (zips.length) parts.push(`${zips.length} ZIP${zips.length === 1 ? '' : 's'} holding ${inZips}`);
  const unreadable = found.files.filter((file) => file.kind === 'zip' && file.pictures === null).map((file) => file.name);
  if (unreadable.length) parts.push(`not counted: ${unreadable.join(', ')}, not a ZIP this computer can read (the gateway will say)`);
  return parts.join(', ');
}

/** The gateway's limits, checked here so a large upload is not sent only to be refused at its end. */
function checkLimits(found: FoundFolder, catalog: Catalog): void {
  const { max_files: maxFiles, max_file_bytes: maxBytes } = catalog.upload;
  if (found.files.length > maxFiles) {
    throw usageError(`the folder has ${found.files.length} files and one upload takes at most ${maxFiles}: put the photos in ZIPs, or split the folder`);
  }
  const tooLarge = found.files.filter((file) => file.bytes > maxBytes);
  if (tooLarge.length) throw usageError(`larger than the ${formatBytes(maxBytes)} a file may be: ${tooLarge.map((file) => `${file.name} (${formatBytes(file.bytes)})`).join(', ')}`);
}

/** Picks up the job of an earlier run of the same command; null when there is none to pick up. */
async function resume(run: Run, state: JobState, files: FoundFile[]): Promise<ExitCode | null> {
  const { connection } = run;
  if (!state.job_id) {
    // Cut off during the upload: send again under the same key, so if the gateway had made the job it answers that one.
    say(`Resuming the upload interrupted before (the same Idempotency-Key, so the gateway makes one job).`);
    return uploadAndProcess(run, state, files);
  }
  const jobId = state.job_id;
  const answer = await reach(connection, () => connection.client.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } } }));
  if (answer.response.status === 404) {
    say(`Job ${jobId} of ${statePath(run.outDir)} no longer exists at ${connection.url}; starting again.`);
    return null;
  }
  if (!answer.data) throw failure(`resuming job ${jobId}`, connection, answer);
  say(`Resuming job ${jobId}: its files were uploaded before and are not sent again.`);
  if (answer.data.status === 'uploaded') return processJob(run, { ...state, phase: 'uploaded' }, jobId);
  return finish(run, state, jobId, answer.data);
}

async function uploadAndProcess(run: Run, state: JobState, files: FoundFile[]): Promise<ExitCode> {
  const { connection, outDir } = run;
  const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
  say(`Uploading ${files.length} file${files.length === 1 ? '' : 's'} (${formatBytes(totalBytes)}) to ${connection.url}`);
  onInterruptSay(`Interrupted during the upload. Run the same command again: it sends the files again under the same Idempotency-Key, so at most one job is made.`);
  const meter = byteMeter('Uploading', totalBytes);
  let answer: Awaited<ReturnType<typeof uploadFiles>>;
  try {
    answer = await reach(connection, () => uploadFiles(connection, files, { idempotencyKey: state.idempotency_key, onProgress: (sent) => meter.update(sent) }));
  } finally {
    meter.stop();
  }
  if (!answer.data) {
    const { code, details } = errorDetails(answer.error);
    if (code === 'no_images') {
      // Every file refused: no job was made and nothing charged; say why for each one.
      await rm(statePath(outDir), { force: true });
      for (const line of rejectedReport(asRejected(details.rejected))) print(line);
      print('None of the files is a picture the gateway can process; no job was made and nothing was charged.');
      return ExitCode.SomeFailed;
    }
    throw failure('uploading', connection, answer);
  }
  const upload = answer.data;
  const uploaded: JobState = { ...state, job_id: upload.job_id, rejected: upload.rejected, phase: 'uploaded' };
  await writeState(outDir, uploaded);
  const refused = upload.rejected.length ? `; ${upload.rejected.length} refused (listed at the end)` : '';
  say(`Uploaded: job ${upload.job_id}, ${upload.files_count} picture${upload.files_count === 1 ? '' : 's'} accepted${refused}.`);

  // The gateway's own count (a ZIP may hold files that are not pictures) against the balance now.
  const { credits_needed: needed, credits_available: available } = upload.estimate;
  if (needed > available) {
    await deleteJob(connection, upload.job_id);
    await rm(statePath(outDir), { force: true });
    throw insufficientCredits(needed, available, connection.url);
  }
  return processJob(run, uploaded, upload.job_id);
}

async function processJob(run: Run, state: JobState, jobId: string): Promise<ExitCode> {
  const { connection, outDir, marketplace, shadow } = run;
  onInterruptSay(`Interrupted. Job ${jobId} is uploaded; run the same command again to process and download it (nothing is uploaded again).`);
  const answer = await reach(connection, () =>
    connection.client.POST('/api/v1/process', { body: { job_id: jobId, pipeline: marketplace, ...(shadow ? { settings: { shadow: { type: shadow } } } : {}) } }),
  );
  if (!answer.data && answer.response.status !== 409) {
    if (answer.response.status === 402) {
      // The balance changed since the estimate: the upload is deleted, so a later run starts clean and no job lingers.
      await deleteJob(connection, jobId);
      await rm(statePath(outDir), { force: true });
    }
    throw failure(`processing job ${jobId}`, connection, answer);
  }
  // Recorded before it is announced: whenever Ctrl-C comes after the line, the state file says so.
  const processing: JobState = { ...state, phase: 'processing' };
  await writeState(outDir, processing);
  say(
    answer.data
      ? `Processing job ${jobId} for ${marketplace}: ${answer.data.images} picture${answer.data.images === 1 ? '' : 's'}, ${answer.data.credits_reserved} credits reserved.`
      : `Job ${jobId} is already being processed; following it.`,
  );
  if (!run.wait) {
    print(`Job ${jobId} is queued. See it with "masterpost status ${jobId}"; run this command again to wait for it and download the pictures.`);
    return ExitCode.Delivered;
  }
  return finish(run, processing, jobId);
}

async function finish(run: Run, state: JobState, jobId: string, first?: Progress): Promise<ExitCode> {
  const { connection, outDir } = run;
  onInterruptSay(`Interrupted. Job ${jobId} goes on at ${connection.url}; run the same command again to follow and download it (nothing is uploaded again), or see it with: masterpost status ${jobId}`);
  if (!run.wait && first && !first.finished) {
    print(runningLine(first));
    return ExitCode.Delivered;
  }
  const progress = await followJob(connection, jobId, first);
  let written: string | undefined;
  if (progress.completed > 0) {
    const unpacked = await downloadJob(connection, jobId, outDir);
    written = unpacked.outDir;
    await writeState(outDir, { ...state, phase: 'downloaded' });
  } else {
    say('No picture was delivered, so there is nothing to download.');
  }
  const available = await fetchBalance(connection).then((balance) => balance.available).catch(() => undefined);
  const report = jobReport(progress, { rejected: state.rejected ?? [], ...(written ? { outDir: written } : {}), ...(available !== undefined ? { available } : {}) });
  for (const line of report.lines) print(line);
  return report.exitCode;
}

async function deleteJob(connection: Connection, jobId: string): Promise<void> {
  const answer = await reach(connection, () => connection.client.DELETE('/api/v1/jobs/{jobId}', { params: { path: { jobId } } })).catch(() => null);
  if (!answer?.data) say(`Could not delete job ${jobId} (it holds no credits); delete it on the web page if you like.`);
}

function asRejected(value: unknown): RejectedFile[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (item): item is RejectedFile => typeof item === 'object' && item !== null && typeof (item as RejectedFile).filename === 'string' && typeof (item as RejectedFile).code === 'string',
  );
}
