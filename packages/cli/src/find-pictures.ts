import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isArchiveLeftover, pictureExtensions } from '@masterpost/contracts';
import { zipEntryNames } from './zip-entries';

/**
 * The files of a folder the gateway takes: photos by their extension, and ZIPs of photos. Only
 * the folder itself is read, not its sub-folders, so an --out folder inside it (or last week's
 * results) is never sent again. The gateway checks every file by its content; the extension
 * only decides what is sent and how many pictures the estimate counts.
 */
export const PICTURE_EXTENSIONS = Object.keys(pictureExtensions);
const ZIP_EXTENSION = '.zip';

export interface FoundFile {
  name: string;
  path: string;
  bytes: number;
  kind: 'picture' | 'zip';
  /** Pictures it holds: 1 for a photo; for a ZIP, its entries named as photos (null: unreadable). */
  pictures: number | null;
}

export interface FoundFolder {
  files: FoundFile[];
  /** What the estimate charges for: photos, plus the photos inside the ZIPs. */
  pictures: number;
  /** Files left out because they are neither photos nor ZIPs (shown, so nothing vanishes silently). */
  ignored: string[];
}

const isPictureName = (name: string): boolean => PICTURE_EXTENSIONS.includes(path.extname(name).toLowerCase());

/** The photos of an archive, counted as the gateway will unpack them (it skips the same leftovers). */
function countPicturesIn(names: string[]): number {
  return names.filter((name) => !isArchiveLeftover(name) && isPictureName(name)).length;
}

export async function findPictures(folder: string): Promise<FoundFolder> {
  const names = (await readdir(folder)).sort((a, b) => a.localeCompare(b));
  const files: FoundFile[] = [];
  const ignored: string[] = [];
  for (const name of names) {
    // Hidden files include our own state file and the desktop's leftovers.
    if (name.startsWith('.')) continue;
    const full = path.join(folder, name);
    const info = await stat(full).catch(() => null);
    if (!info?.isFile()) continue;
    const extension = path.extname(name).toLowerCase();
    if (isPictureName(name)) {
      files.push({ name, path: full, bytes: info.size, kind: 'picture', pictures: 1 });
    } else if (extension === ZIP_EXTENSION) {
      const entries = await zipEntryNames(full);
      files.push({ name, path: full, bytes: info.size, kind: 'zip', pictures: entries ? countPicturesIn(entries) : null });
    } else {
      ignored.push(name);
    }
  }
  return { files, pictures: files.reduce((sum, file) => sum + (file.pictures ?? 0), 0), ignored };
}
