import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { readZip, UnsafeArchiveError } from './zip-extract';

const limits = { maxEntries: 10, maxUnpackedBytes: 5 * 1024 * 1024, maxRatio: 100, maxEntryBytes: 4 * 1024 * 1024 };
const folder = mkdtempSync(path.join(os.tmpdir(), 'zip-spec-'));
let counter = 0;

/** Writes the archive to disk (as multer does) and reads it the way the gateway does. */
async function extractZip(buffer: Buffer, zipLimits = limits): Promise<{ files: Array<{ name: string; data: Buffer }>; rejected: Array<{ name: string; code: string }> }> {
  const file = path.join(folder, `${counter++}.zip`);
  writeFileSync(file, buffer);
  const files: Array<{ name: string; data: Buffer }> = [];
  const { rejected } = await readZip(file, buffer.length, zipLimits, async (name, data) => {
    files.push({ name, data });
  });
  return { files, rejected };
}

function zipWith(entries: Array<{ name: string; data: Buffer; attr?: number }>): Buffer {
  const zip = new AdmZip();
  for (const entry of entries) {
    zip.addFile(entry.name, entry.data);
    if (entry.attr !== undefined) zip.getEntry(entry.name)!.attr = entry.attr;
  }
  return zip.toBuffer();
}

async function refusal(buffer: Buffer): Promise<UnsafeArchiveError> {
  try {
    await extractZip(buffer, limits);
  } catch (error) {
    if (error instanceof UnsafeArchiveError) return error;
    throw error;
  }
  throw new Error('the archive was accepted');
}

describe('extractZip', () => {
  it('keeps pictures, skips folders and system junk, and lists nested archives as rejected', async () => {
    const result = await extractZip(
      zipWith([
        { name: 'shoot/a.jpg', data: Buffer.from('a') },
        { name: '__MACOSX/shoot/._a.jpg', data: Buffer.from('x') },
        { name: 'shoot/.DS_Store', data: Buffer.from('x') },
        { name: 'Thumbs.db', data: Buffer.from('x') },
        { name: 'inner.zip', data: Buffer.from('PK') },
      ]),
      limits,
    );
    expect(result.files.map((file) => file.name)).toEqual(['a.jpg']);
    expect(result.rejected).toEqual([expect.objectContaining({ name: 'inner.zip', code: 'nested_archive' })]);
  });

  it.each(['../evil.jpg', 'a/../../evil.jpg', '/etc/passwd', 'C:/evil.jpg', 'a\\..\\evil.jpg'])('refuses the whole archive for the entry %s', async (name) => {
    const zip = new AdmZip();
    zip.addFile('placeholder.jpg', Buffer.from('a'));
    // Renamed after adding: adm-zip writes the name as given, as a hostile tool would.
    zip.getEntry('placeholder.jpg')!.entryName = name;
    expect((await refusal(zip.toBuffer())).code).toBe('unsafe_archive');
  });

  it('refuses symbolic links', async () => {
    expect((await refusal(zipWith([{ name: 'link.jpg', data: Buffer.from('/etc/passwd'), attr: (0o120777 << 16) >>> 0 }]))).code).toBe('unsafe_archive');
  });

  it('refuses a bomb by its ratio and by its unpacked size before unpacking it', async () => {
    expect((await refusal(zipWith([{ name: 'bomb.jpg', data: Buffer.alloc(4 * 1024 * 1024) }]))).code).toBe('archive_too_large');
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let index = 0; index < big.length; index++) big[index] = (index * 2654435761) >>> 24;
    expect((await refusal(zipWith([{ name: 'a.jpg', data: big }, { name: 'b.jpg', data: big }]))).code).toBe('archive_too_large');
  });

  it('refuses too many entries', async () => {
    const entries = Array.from({ length: 11 }, (_, index) => ({ name: `${index}.jpg`, data: Buffer.from('x') }));
    expect((await refusal(zipWith(entries))).code).toBe('archive_too_large');
  });

  it('refuses a damaged archive', async () => {
    expect((await refusal(Buffer.from('PK\x03\x04 not really a zip', 'binary'))).code).toBe('corrupt_archive');
  });

  it('stops at the cap when an entry unpacks to more than its header says (a lying header)', async () => {
    const honest = zipWith([{ name: 'a.jpg', data: Buffer.alloc(300 * 1024, 7) }]);
    // Rewrite the declared size (local header at 22, central directory entry at +24) to 1 KB.
    const lying = Buffer.from(honest);
    lying.writeUInt32LE(1024, 22);
    const central = lying.indexOf(Buffer.from('PK\x01\x02', 'binary'));
    lying.writeUInt32LE(1024, central + 24);
    expect((await refusal(lying)).code).toBe('archive_too_large');
  });

  it('refuses entries that overlap (one compressed stream counted many times)', async () => {
    const zip = zipWith([{ name: 'a.jpg', data: Buffer.alloc(200 * 1024, 1) }]);
    const eocd = zip.lastIndexOf(Buffer.from('PK\x05\x06', 'binary'));
    const centralStart = zip.readUInt32LE(eocd + 16);
    const entry = zip.subarray(centralStart, eocd);
    // The same central directory entry (same data offset) five times over, under other names.
    const copies = Array.from({ length: 5 }, (_, index) => {
      const copy = Buffer.from(entry);
      copy.write(String(index), 46 + 0, 'latin1');
      return copy;
    });
    const directory = Buffer.concat(copies);
    const end = Buffer.from(zip.subarray(eocd));
    end.writeUInt16LE(5, 8);
    end.writeUInt16LE(5, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(centralStart, 16);
    expect((await refusal(Buffer.concat([zip.subarray(0, centralStart), directory, end]))).code).toBe('unsafe_archive');
  });
});
