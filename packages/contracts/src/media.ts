/**
 * The picture formats we take and make, with their file extension and content type, and the id
 * shape every route accepts: one table, instead of one per file that needed it.
 */
export const pictureFormats = {
  jpeg: { extension: 'jpg', contentType: 'image/jpeg' },
  png: { extension: 'png', contentType: 'image/png' },
  webp: { extension: 'webp', contentType: 'image/webp' },
  tiff: { extension: 'tiff', contentType: 'image/tiff' },
  gif: { extension: 'gif', contentType: 'image/gif' },
} as const;

/** A file name's extension to its picture format, for clients choosing which files to send (the gateway reads the content). */
export const pictureExtensions: Readonly<Record<string, keyof typeof pictureFormats>> = {
  '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff', '.gif': 'gif',
};

const ARCHIVE_LEFTOVER = /(^|\/)(__MACOSX|\.DS_Store|Thumbs\.db|desktop\.ini)(\/|$)/i;

/**
 * A ZIP entry that is not one of the seller's files: a folder, macOS and Windows leftovers,
 * hidden files. The gateway skips them when it unpacks, and the CLI when it counts the estimate.
 */
export function isArchiveLeftover(entryName: string): boolean {
  const base = entryName.split('/').filter(Boolean).pop() ?? '';
  return entryName.endsWith('/') || ARCHIVE_LEFTOVER.test(entryName) || base.startsWith('.');
}

/** Every format in the table is accepted as an upload (by its content, not its name), and ZIPs of them. */
export const acceptedUploadFormats = Object.keys(pictureFormats) as Array<keyof typeof pictureFormats>;

export function extensionOf(format: string): string {
  return (pictureFormats as Record<string, { extension: string }>)[format]?.extension ?? 'bin';
}

export function contentTypeOf(format: string): string {
  return (pictureFormats as Record<string, { contentType: string }>)[format]?.contentType ?? 'application/octet-stream';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids from a client are checked before they reach a query (or a path). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
