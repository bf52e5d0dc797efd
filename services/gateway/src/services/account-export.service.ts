import type { Writable } from 'node:stream';
import archiver from 'archiver';
import { AppError, ErrorCode } from '@masterpost/contracts';
import type { Storage } from '@masterpost/platform';
import type { AccountDataRepository, ExportedJob } from '../adapters/account-data.repository';
import { uniqueNames } from './download.service';

interface ExportFile {
  name: string;
  key: string;
}

/** The photos and pictures of jobs whose files are still kept, each under its job's folder. */
function picturesOf(jobs: ExportedJob[]): ExportFile[] {
  return jobs
    .filter((job) => !job.files_deleted_at)
    .flatMap((job) => {
      const originals = uniqueNames(job.images.map((image) => image.filename)).map((name, index) => ({ name: `photos/${job.id}/${name}`, key: job.images[index]!.upload_key }));
      const delivered = job.images.filter((image) => image.status === 'done' && image.result_key);
      const results = uniqueNames(delivered.map((image) => image.output_name ?? image.id)).map((name, index) => ({ name: `pictures/${job.id}/${name}`, key: delivered[index]!.result_key! }));
      return [...originals, ...results];
    });
}

/**
 * Everything we hold on a seller, in one ZIP (GDPR's access right): account.json, jobs.json
 * (every job and picture with its checks and charge), ledger.json (every movement), developer.json
 * (API keys without their secrets, webhook endpoints), and the photos and pictures still kept.
 * Files are added one at a time, as the job ZIP does, so memory does not grow with them.
 */
export class AccountExportService {
  constructor(private readonly deps: { data: AccountDataRepository; storage: Storage }) {}

  async export(userId: string): Promise<{ filename: string; write: (output: Writable) => Promise<void> }> {
    const account = await this.deps.data.account(userId);
    if (!account) throw new AppError(401, ErrorCode.Unauthorized, 'sign in first');
    const [jobs, ledger, developer] = await Promise.all([this.deps.data.jobs(userId), this.deps.data.ledger(userId), this.deps.data.apiKeysAndWebhooks(userId)]);
    const documents = [
      { name: 'account.json', body: account },
      { name: 'jobs.json', body: jobs },
      { name: 'ledger.json', body: ledger },
      { name: 'developer.json', body: developer },
    ];
    const files = picturesOf(jobs);
    const write = (output: Writable) =>
      new Promise<void>((resolve, reject) => {
        const archive = archiver('zip', { zlib: { level: 6 } });
        archive.on('error', reject);
        output.on('close', () => resolve());
        output.on('finish', () => resolve());
        archive.pipe(output);
        for (const document of documents) archive.append(JSON.stringify(document.body, null, 2), { name: document.name });
        let next = 0;
        const appendNext = () => {
          const file = files[next++];
          if (file) archive.append(this.deps.storage.stream(file.key), { name: file.name, store: true });
          else if (next === files.length + 1) void archive.finalize();
        };
        // The documents' entries come first; each entry written lets the next file be opened.
        let documentsLeft = documents.length;
        archive.on('entry', () => {
          if (documentsLeft > 0) documentsLeft--;
          if (documentsLeft === 0) appendNext();
        });
      });
    return { filename: `masterpost-data-${userId.slice(0, 8)}.zip`, write };
  }
}
