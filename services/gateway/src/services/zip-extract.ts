import AdmZip from 'adm-zip';

/**
 * Reads a seller's ZIP without trusting it. The archive is refused whole when an entry could
 * escape the job's folder (`..`, absolute paths, drive letters, backslashes) or is a symlink,
 * and when its entry count, unpacked size or compression ratio passes our caps, checked on the
 * headers before anything is unpacked and again on the bytes actually unpacked. Entry names are
 * only ever shown, never used as paths. Nested archives are listed as rejected, not opened.
 */
export interface ZipLimits {
  maxEntries: number;
  maxUnpackedBytes: number;
  maxRatio: number;
}

export interface ZipEntryFile {
  name: string;
  data: Buffer;
}

export interface ZipEntryRejection {
  name: string;
  code: string;
  message: string;
}

export class UnsafeArchiveError extends Error {
  constructor(
    readonly code: 'unsafe_archive' | 'archive_too_large' | 'corrupt_archive',
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeArchiveError';
  }
}

const JUNK = /(^|\/)(__MACOSX|\.DS_Store|Thumbs\.db|desktop\.ini)(\/|$)/i;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export function unsafeEntryName(name: string): boolean {
  return name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').some((part) => part === '..') || name.includes('\0');
}

export function displayName(entryName: string): string {
  const base = entryName.split('/').filter(Boolean).pop() ?? 'image';
  return base.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200) || 'image';
}

export function extractZip(buffer: Buffer, limits: ZipLimits): { files: ZipEntryFile[]; rejected: ZipEntryRejection[] } {
  let zip: AdmZip;
  try {
    zip = new AdmZip(buffer);
  } catch {
    throw new UnsafeArchiveError('corrupt_archive', 'the ZIP file is damaged and cannot be read');
  }
  const entries = zip.getEntries();
  if (entries.length > limits.maxEntries) {
    throw new UnsafeArchiveError('archive_too_large', `the ZIP holds ${entries.length} entries; at most ${limits.maxEntries} are accepted`);
  }
  let declared = 0;
  for (const entry of entries) {
    const name = entry.rawEntryName.toString('utf8');
    if (unsafeEntryName(name)) throw new UnsafeArchiveError('unsafe_archive', `the ZIP entry ${JSON.stringify(name)} points outside the archive`);
    const mode = (entry.header.attr >>> 16) & S_IFMT;
    if (mode === S_IFLNK) throw new UnsafeArchiveError('unsafe_archive', `the ZIP entry ${JSON.stringify(name)} is a symbolic link`);
    if (entry.isDirectory) continue;
    declared += entry.header.size;
    const compressed = Math.max(1, entry.header.compressedSize);
    if (entry.header.size / compressed > limits.maxRatio && entry.header.size > 1024 * 1024) {
      throw new UnsafeArchiveError('archive_too_large', `the ZIP entry ${JSON.stringify(name)} is compressed more than ${limits.maxRatio}:1`);
    }
  }
  if (declared > limits.maxUnpackedBytes) {
    throw new UnsafeArchiveError('archive_too_large', `the ZIP would unpack to ${declared} bytes; at most ${limits.maxUnpackedBytes} are accepted`);
  }

  const files: ZipEntryFile[] = [];
  const rejected: ZipEntryRejection[] = [];
  let unpacked = 0;
  for (const entry of entries) {
    const name = entry.entryName;
    if (entry.isDirectory || JUNK.test(name) || displayName(name).startsWith('.')) continue;
    if (/\.zip$/i.test(name)) {
      rejected.push({ name: displayName(name), code: 'nested_archive', message: 'ZIP files inside a ZIP are not opened: upload them separately' });
      continue;
    }
    const data = entry.getData();
    unpacked += data.length;
    // The header may lie: what was actually unpacked is checked too.
    if (data.length !== entry.header.size || unpacked > limits.maxUnpackedBytes) {
      throw new UnsafeArchiveError('archive_too_large', 'the ZIP unpacks to more than its headers declare');
    }
    files.push({ name: displayName(name), data });
  }
  return { files, rejected };
}
