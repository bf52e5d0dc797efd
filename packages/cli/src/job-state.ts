import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * What `masterpost process` remembers in the --out folder, so that running the same command
 * again after Ctrl-C, a closed laptop or a dropped connection picks up the job it made instead
 * of uploading (and paying for) the pictures a second time. It is written before each step
 * that cannot be undone: before the upload (with the Idempotency-Key that makes a retried upload
 * the same job), once the job exists, and once it is being processed.
 */
export const STATE_FILE = '.masterpost-job.json';

export type JobPhase = 'uploading' | 'uploaded' | 'processing' | 'downloaded';

export interface SentFile {
  name: string;
  bytes: number;
}

export interface RejectedFile {
  filename: string;
  code: string;
  message: string;
}

export interface JobState {
  version: 1;
  folder: string;
  marketplace: string;
  shadow: string | null;
  /** The files sent, by name and size: the same command on a changed folder is a new job. */
  files: SentFile[];
  idempotency_key: string;
  phase: JobPhase;
  job_id?: string;
  /** Files the upload refused, kept so that a resumed run still lists them. */
  rejected?: RejectedFile[];
  updated_at: string;
}

export const statePath = (outDir: string): string => path.join(outDir, STATE_FILE);

export function newState(fields: { folder: string; marketplace: string; shadow: string | null; files: SentFile[] }): JobState {
  return { version: 1, ...fields, idempotency_key: `cli-${randomUUID()}`, phase: 'uploading', updated_at: new Date().toISOString() };
}

export async function readState(outDir: string): Promise<JobState | null> {
  let text: string;
  try {
    text = await readFile(statePath(outDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isJobState(parsed) ? parsed : null;
  } catch {
    // A file cut short by a crash is as good as none: the worst case is a new upload.
    return null;
  }
}

/** Written whole to a temporary file and renamed, so a Ctrl-C mid-write never leaves half a state. */
export async function writeState(outDir: string, state: JobState): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const file = statePath(outDir);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...state, updated_at: new Date().toISOString() }, null, 2)}\n`);
  await rename(temporary, file);
}

/** Same folder, same marketplace and shadow, same files by name and size: the same run. */
export function sameRun(state: JobState, run: { folder: string; marketplace: string; shadow: string | null; files: SentFile[] }): boolean {
  const key = (files: SentFile[]) => JSON.stringify([...files].sort((a, b) => a.name.localeCompare(b.name)).map((file) => [file.name, file.bytes]));
  return state.folder === run.folder && state.marketplace === run.marketplace && state.shadow === run.shadow && key(state.files) === key(run.files);
}

function isJobState(value: unknown): value is JobState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  return (
    state.version === 1 &&
    typeof state.folder === 'string' &&
    typeof state.marketplace === 'string' &&
    (state.shadow === null || typeof state.shadow === 'string') &&
    Array.isArray(state.files) &&
    state.files.every((file: unknown) => typeof file === 'object' && file !== null && typeof (file as SentFile).name === 'string' && typeof (file as SentFile).bytes === 'number') &&
    typeof state.idempotency_key === 'string' &&
    ['uploading', 'uploaded', 'processing', 'downloaded'].includes(state.phase as string) &&
    (state.job_id === undefined || typeof state.job_id === 'string')
  );
}
