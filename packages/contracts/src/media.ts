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
