import { unwrap, type MasterpostClient } from './client';

export type PictureKind = 'result' | 'original' | 'cutout' | 'mask';

/** One of a picture's files as a Blob (they need the seller's token, so no plain <img src>). */
export async function pictureBlob(api: MasterpostClient, imageId: string, kind: PictureKind): Promise<Blob> {
  // An edit replaces the result under the same URL: never a cached copy.
  const answer = await api.GET('/api/v1/images/{imageId}/{kind}', { params: { path: { imageId, kind } }, parseAs: 'blob', cache: 'no-store' });
  return unwrap(answer, `loading the ${kind} picture`) as Blob;
}

export async function jobZip(api: MasterpostClient, jobId: string): Promise<Blob> {
  const answer = await api.GET('/api/v1/download/{jobId}', { params: { path: { jobId } }, parseAs: 'blob' });
  return unwrap(answer, 'the download') as Blob;
}

/** Hands a Blob to the browser as a download under `filename`. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has started the download by now; the URL is kept briefly for slow starts.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
