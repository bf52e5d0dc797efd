import path from 'node:path';
import { downloadJob } from '../download-job';
import { ExitCode } from '../exit-codes';
import { fetchProgress } from '../follow-job';
import { signedIn } from '../gateway';
import { resolveJob } from '../job-argument';
import { print, say } from '../output';
import { jobReport } from '../report';

/**
 * `masterpost download <job>`: a job's pictures and manifest.json into a folder, e.g. on
 * another computer than the one that uploaded them. A job still going gives what is delivered
 * so far (and exit status 1, as not every picture is there yet).
 */
export async function downloadCommand(job: string, options: { out?: string; url?: string }): Promise<ExitCode> {
  const { jobId, rejected, folder } = await resolveJob(job);
  const outDir = path.resolve(options.out ?? folder ?? `masterpost-${jobId.slice(0, 8)}`);
  const connection = await signedIn(options.url);
  const progress = await fetchProgress(connection, jobId);
  if (progress.completed === 0) {
    print(progress.finished ? `No picture of job ${jobId} was delivered; there is nothing to download.` : `No picture of job ${jobId} is delivered yet (${progress.status}); try again later.`);
    return ExitCode.SomeFailed;
  }
  if (!progress.finished) say(`Job ${jobId} is still ${progress.status}: downloading the ${progress.completed} pictures delivered so far.`);
  const unpacked = await downloadJob(connection, jobId, outDir);
  const report = jobReport(progress, { rejected, outDir: unpacked.outDir });
  for (const line of report.lines) print(line);
  return progress.finished ? report.exitCode : ExitCode.SomeFailed;
}
