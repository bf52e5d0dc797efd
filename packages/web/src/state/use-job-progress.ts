import { useCallback, useEffect, useState } from 'react';
import { messageOf, unwrap, type Schemas } from '../api/client';
import { followProgress } from '../api/progress-stream';
import { useSession } from './session';

/**
 * A job's progress: read once, then followed over the event stream until it ends, then read
 * once more (the finished job, settled). `refresh` reads it again (after an edit or a cancel).
 */
export function useJobProgress(jobId: string): { progress: Schemas['Progress'] | null; error: string | null; refresh: () => Promise<void>; retry: () => void } {
  const { api, refreshBalance } = useSession();
  const [progress, setProgress] = useState<Schemas['Progress'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);

  const refresh = useCallback(async () => {
    setProgress(unwrap(await api.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } } }), 'reading the job'));
  }, [api, jobId]);

  useEffect(() => {
    const controller = new AbortController();
    const follow = async () => {
      const first = unwrap(await api.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } }, signal: controller.signal }), 'reading the job');
      setProgress(first);
      if (first.finished || first.status === 'uploaded') return;
      await followProgress(api, jobId, setProgress, controller.signal);
      setProgress(unwrap(await api.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } }, signal: controller.signal }), 'reading the job'));
      await refreshBalance();
    };
    setError(null);
    follow().catch((caught: unknown) => {
      if (!controller.signal.aborted) setError(messageOf(caught));
    });
    return () => controller.abort();
  }, [api, jobId, refreshBalance, round]);

  return { progress, error, refresh, retry: () => setRound((n) => n + 1) };
}
