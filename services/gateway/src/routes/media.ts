/** What the routes that serve pictures share: content types by format, and the id shape they accept. */
export const CONTENT_TYPES: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', tiff: 'image/tiff', gif: 'image/gif' };
export const EXTENSIONS: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', tiff: 'tiff', gif: 'gif' };
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
