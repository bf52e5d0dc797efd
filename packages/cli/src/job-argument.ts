import { stat } from 'node:fs/promises';
import { usageError } from './exit-codes';
import { readState, STATE_FILE, type RejectedFile } from './job-state';

/**
 * The <job> of `status` and `download`: a job id, or the --out folder of `masterpost process`
 * (whose state file names its job, and the files its upload refused, so those are reported too).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function resolveJob(argument: string): Promise<{ jobId: string; rejected: RejectedFile[]; folder?: string }> {
  if (UUID.test(argument)) return { jobId: argument.toLowerCase(), rejected: [] };
  if ((await stat(argument).catch(() => null))?.isDirectory()) {
    const state = await readState(argument);
    if (state?.job_id) return { jobId: state.job_id, rejected: state.rejected ?? [], folder: argument };
    throw usageError(`${argument} holds no job (${STATE_FILE} is missing or has no job id yet)`);
  }
  throw usageError(`"${argument}" is neither a job id nor a folder made by "masterpost process"`);
}
