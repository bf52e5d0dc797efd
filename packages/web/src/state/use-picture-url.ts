import { useEffect, useState } from 'react';
import { messageOf } from '../api/client';
import { pictureBlob, type PictureKind } from '../api/files';
import { useSession } from './session';

/**
 * An object URL for one of a picture's files, made again whenever `version` changes (an edit
 * replaces the file under the same address) and released when no longer shown.
 */
export function usePictureUrl(imageId: string | null, kind: PictureKind, version = 0): { url: string | null; error: string | null } {
  const { api } = useSession();
  const [state, setState] = useState<{ url: string | null; error: string | null }>({ url: null, error: null });
  useEffect(() => {
    if (!imageId) return;
    let url: string | null = null;
    let current = true;
    pictureBlob(api, imageId, kind).then(
      (blob) => {
        if (!current) return;
        url = URL.createObjectURL(blob);
        setState({ url, error: null });
      },
      (error: unknown) => current && setState({ url: null, error: messageOf(error) }),
    );
    return () => {
      current = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, imageId, kind, version]);
  return state;
}
