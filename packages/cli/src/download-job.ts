import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { failure, reach, type Connection } from './gateway';

/**
 * A job's ZIP (GET /api/v1/download/{jobId}), unpacked into a folder: each delivered picture
 * under the name the ZIP gives it (its original's, made unique by the gateway) and
 * manifest.json, which describes every picture, delivered or not.
 */
export interface Unpacked {
  outDir: string;
  pictures: string[];
  bytes: number;
}

/**
 * The gateway writes flat names, but a name is written to disk only if it is one plain file
 * name: a ZIP is never trusted to choose where a file lands (`../.bashrc`, `/etc/...`).
 */
function safeFileName(entryName: string): string | null {
  const name = entryName.normalize();
  if (name !== path.basename(name) || name.includes('\\') || name.includes('\0') || name === '.' || name === '..' || name === '') return null;
  return name;
}

export async function downloadJob(connection: Connection, jobId: string, outDir: string): Promise<Unpacked> {
  const answer = await reach(connection, () => connection.client.GET('/api/v1/download/{jobId}', { params: { path: { jobId } }, parseAs: 'arrayBuffer' }));
  if (!answer.data) throw failure(`downloading job ${jobId}`, connection, answer);
  const zip = new AdmZip(Buffer.from(answer.data));
  await mkdir(outDir, { recursive: true });
  const pictures: string[] = [];
  for (const entry of zip.getEntries()) {
    if (entry.isDirectory) continue;
    const name = safeFileName(entry.entryName);
    if (!name) {
      process.stderr.write(`Skipped a file of the ZIP with an unsafe name: ${JSON.stringify(entry.entryName)}\n`);
      continue;
    }
    await writeFile(path.join(outDir, name), entry.getData());
    if (name !== 'manifest.json') pictures.push(name);
  }
  return { outDir, pictures, bytes: answer.data.byteLength };
}
