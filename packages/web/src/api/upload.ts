import { errorFrom, type Schemas } from './client';

export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
}

/**
 * POST /api/v1/upload with byte progress. fetch cannot report upload progress in browsers yet, so
 * this one call uses XMLHttpRequest; its answer is still typed by the client's schema.
 */
export function uploadFiles(
  files: File[],
  accessToken: string,
  onProgress: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<Schemas['UploadAnswer']> {
  const form = new FormData();
  for (const file of files) form.append('files', file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/upload');
    xhr.setRequestHeader('authorization', `Bearer ${accessToken}`);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => onProgress({ sentBytes: event.loaded, totalBytes: event.lengthComputable ? event.total : totalSize(files) });
    xhr.onload = () => {
      if (xhr.status === 201) resolve(xhr.response as Schemas['UploadAnswer']);
      else reject(errorFrom(xhr.status, xhr.response, 'the upload'));
    };
    xhr.onerror = () => reject(new Error('the upload was interrupted: check your connection and try again'));
    xhr.onabort = () => reject(new Error('the upload was cancelled'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}

export function totalSize(files: File[]): number {
  return files.reduce((sum, file) => sum + file.size, 0);
}
