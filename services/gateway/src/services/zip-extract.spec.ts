import AdmZip from 'adm-zip';
import { extractZip, UnsafeArchiveError } from './zip-extract';

const limits = { maxEntries: 10, maxUnpackedBytes: 5 * 1024 * 1024, maxRatio: 100 };

function zipWith(entries: Array<{ name: string; data: Buffer; attr?: number }>): Buffer {
  const zip = new AdmZip();
  for (const entry of entries) {
    zip.addFile(entry.name, entry.data);
    if (entry.attr !== undefined) zip.getEntry(entry.name)!.attr = entry.attr;
  }
  return zip.toBuffer();
}

function refusal(buffer: Buffer): UnsafeArchiveError {
  try {
    extractZip(buffer, limits);
  } catch (error) {
    if (error instanceof UnsafeArchiveError) return error;
    throw error;
  }
  throw new Error('the archive was accepted');
}

describe('extractZip', () => {
  it('keeps pictures, skips folders and system junk, and lists nested archives as rejected', () => {
    const result = extractZip(
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

  it.each(['../evil.jpg', 'a/../../evil.jpg', '/etc/passwd', 'C:/evil.jpg', 'a\\..\\evil.jpg'])('refuses the whole archive for the entry %s', (name) => {
    const zip = new AdmZip();
    zip.addFile('placeholder.jpg', Buffer.from('a'));
    // Renamed after adding: adm-zip writes the name as given, as a hostile tool would.
    zip.getEntry('placeholder.jpg')!.entryName = name;
    expect(refusal(zip.toBuffer()).code).toBe('unsafe_archive');
  });

  it('refuses symbolic links', () => {
    expect(refusal(zipWith([{ name: 'link.jpg', data: Buffer.from('/etc/passwd'), attr: (0o120777 << 16) >>> 0 }])).code).toBe('unsafe_archive');
  });

  it('refuses a bomb by its ratio and by its unpacked size before unpacking it', () => {
    expect(refusal(zipWith([{ name: 'bomb.jpg', data: Buffer.alloc(4 * 1024 * 1024) }])).code).toBe('archive_too_large');
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let index = 0; index < big.length; index++) big[index] = (index * 2654435761) >>> 24;
    expect(refusal(zipWith([{ name: 'a.jpg', data: big }, { name: 'b.jpg', data: big }])).code).toBe('archive_too_large');
  });

  it('refuses too many entries', () => {
    const entries = Array.from({ length: 11 }, (_, index) => ({ name: `${index}.jpg`, data: Buffer.from('x') }));
    expect(refusal(zipWith(entries)).code).toBe('archive_too_large');
  });

  it('refuses a damaged archive', () => {
    expect(refusal(Buffer.from('PK\x03\x04 not really a zip', 'binary')).code).toBe('corrupt_archive');
  });
});
