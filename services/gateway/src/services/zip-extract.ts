import { ErrorCode, isArchiveLeftover } from '@masterpost/contracts';
import yauzl, { type Entry, type ZipFile } from 'yauzl';

/**
 * Reads a seller's ZIP from disk without trusting it, one entry at a time (an archive of 500
 * photos never sits in memory whole). The archive is refused whole when an entry could escape
 * the job's folder (`..`, absolute paths, drive letters, backslashes) or is a symlink, when
 * entries overlap (a bomb that reuses the same compressed bytes), and when its entry count,
 * unpacked size or compression ratio passes our caps: checked on the central directory before
 * anything is unpacked, and again on the bytes as they are unpacked, so a lying header stops
 * at the cap. Entry names are only ever shown, never used as paths. Nested archives are listed
 * as rejected, not opened.
 */
export interface ZipLimits {
  maxEntries: number;
  maxUnpackedBytes: number;
  maxRatio: number;
  /** Largest single entry; a picture bigger than this is not a photo. */
  maxEntryBytes: number;
}

export interface ZipEntryRejection {
  name: string;
  code: string;
  message: string;
}

export class UnsafeArchiveError extends Error {
  constructor(
    readonly code: typeof ErrorCode.UnsafeArchive | typeof ErrorCode.ArchiveTooLarge | typeof ErrorCode.CorruptArchive,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeArchiveError';
  }
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** Entries this small compress however they like: the ratio cap is for real bombs. */
const RATIO_FLOOR_BYTES = 1024 * 1024;

export function unsafeEntryName(name: string): boolean {
  return name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').some((part) => part === '..') || name.includes('\0');
}

export function displayName(entryName: string): string {
  const base = entryName.split('/').filter(Boolean).pop() ?? 'image';
  return base.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200) || 'image';
}

const corrupt = () => new UnsafeArchiveError('corrupt_archive', 'the ZIP file is damaged and cannot be read');

function open(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    // Names are checked by our own rules below (decodeStrings: false), so every refusal has our code and message.
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: false }, (error, zip) => {
      if (error || !zip) reject(corrupt());
      else resolve(zip);
    });
  });
}

function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', () => reject(corrupt()));
    zip.readEntry();
  });
}

const nameOf = (entry: Entry) => (Buffer.isBuffer(entry.fileName) ? entry.fileName.toString('utf8') : String(entry.fileName));

function checkDirectory(entries: Entry[], archiveBytes: number, limits: ZipLimits): void {
  if (entries.length > limits.maxEntries) {
    throw new UnsafeArchiveError('archive_too_large', `the ZIP holds ${entries.length} entries; at most ${limits.maxEntries} are accepted`);
  }
  let declared = 0;
  let compressed = 0;
  for (const entry of entries) {
    const name = nameOf(entry);
    if (unsafeEntryName(name)) throw new UnsafeArchiveError('unsafe_archive', `the ZIP entry ${JSON.stringify(name)} points outside the archive`);
    if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
      throw new UnsafeArchiveError('unsafe_archive', `the ZIP entry ${JSON.stringify(name)} is a symbolic link`);
    }
    if (name.endsWith('/')) continue;
    declared += entry.uncompressedSize;
    compressed += entry.compressedSize;
    if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxRatio) {
      throw new UnsafeArchiveError('archive_too_large', `the ZIP entry ${JSON.stringify(name)} is compressed more than ${limits.maxRatio}:1`);
    }
    if (entry.uncompressedSize > limits.maxEntryBytes) {
      throw new UnsafeArchiveError('archive_too_large', `the ZIP entry ${JSON.stringify(name)} is larger than ${limits.maxEntryBytes} bytes`);
    }
  }
  if (declared > limits.maxUnpackedBytes) {
    throw new UnsafeArchiveError('archive_too_large', `the ZIP would unpack to ${declared} bytes; at most ${limits.maxUnpackedBytes} are accepted`);
  }
  // Entries whose compressed bytes add up to more than the file itself share bytes: an overlap bomb.
  if (compressed > archiveBytes) throw new UnsafeArchiveError('unsafe_archive', 'the ZIP entries overlap each other (a ZIP bomb)');
}

/** Unpacks one entry, counting real bytes against its header and the archive's total. */
function unpack(zip: ZipFile, entry: Entry, budget: { left: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return reject(corrupt());
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        budget.left -= chunk.length;
        if (size > entry.uncompressedSize || budget.left < 0) {
          stream.destroy();
          reject(new UnsafeArchiveError('archive_too_large', 'the ZIP unpacks to more than its headers declare'));
          return;
        }
        chunks.push(chunk);
      });
      stream.once('error', (streamError: Error) =>
        reject(/too many bytes|too few bytes|size|length/i.test(streamError.message) ? new UnsafeArchiveError('archive_too_large', 'the ZIP unpacks to more than its headers declare') : corrupt()),
      );
      stream.once('end', () => resolve(Buffer.concat(chunks, size)));
    });
  });
}

/**
 * Walks the ZIP at `path`: refuses it whole (UnsafeArchiveError) or hands each picture entry to
 * `onFile` in order, returning what it left out and why.
 */
export async function readZip(
  path: string,
  archiveBytes: number,
  limits: ZipLimits,
  onFile: (name: string, data: Buffer) => Promise<void>,
): Promise<{ rejected: ZipEntryRejection[] }> {
  const zip = await open(path);
  try {
    const entries = await listEntries(zip);
    checkDirectory(entries, archiveBytes, limits);
    const rejected: ZipEntryRejection[] = [];
    const budget = { left: limits.maxUnpackedBytes };
    for (const entry of entries) {
      const name = nameOf(entry);
      if (isArchiveLeftover(name)) continue;
      if (/\.zip$/i.test(name)) {
        rejected.push({ name: displayName(name), code: ErrorCode.NestedArchive, message: 'ZIP files inside a ZIP are not opened: upload them separately' });
        continue;
      }
      await onFile(displayName(name), await unpack(zip, entry, budget));
    }
    return { rejected };
  } finally {
    zip.close();
  }
}
