import { useCallback, useEffect, useState } from 'react';
import { messageOf } from '../api/client';

/** A list read page by page (`next_cursor`), with "load more" and the three states. */
export function usePages<T>(loadPage: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>, deps: readonly unknown[]) {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [status, setStatus] = useState<'loading' | 'ready' | 'error'>('loading');
  const [error, setError] = useState<string | null>(null);
  // The caller names what the load depends on, as with useEffect.
  const load = useCallback(loadPage, deps);

  const fetchPage = useCallback(
    async (cursor: string | undefined, append: boolean) => {
      setStatus('loading');
      try {
        const page = await load(cursor);
        setItems((current) => (append ? [...current, ...page.items] : page.items));
        setNext(page.next);
        setStatus('ready');
      } catch (caught) {
        setError(messageOf(caught));
        setStatus('error');
      }
    },
    [load],
  );

  useEffect(() => {
    void fetchPage(undefined, false);
  }, [fetchPage]);

  return {
    items,
    status,
    error,
    hasMore: next !== null,
    loadMore: () => void fetchPage(next ?? undefined, true),
    reload: () => void fetchPage(undefined, false),
  };
}
