import type { FinishedImage, ImagesRepository } from './adapters/images.repository';
import { countPictureEndings, createProcessorMetrics } from './metrics';

type Endings = Pick<ImagesRepository, 'markDone' | 'markFailed' | 'markUndelivered'>;

/** The images table's transitions, as the repository reports them: true (or the result key) only for the call that changed the row. */
function pictures(): Endings {
  const status = new Map<string, string>();
  const ends = (imageId: string, to: string) => {
    if (['done', 'failed'].includes(status.get(imageId) ?? 'processing')) return false;
    status.set(imageId, to);
    return true;
  };
  return {
    markDone: async (imageId: string) => ends(imageId, 'done'),
    markFailed: async (imageId: string) => ends(imageId, 'failed'),
    markUndelivered: async (imageId: string) => {
      if (status.get(imageId) !== 'done') return null;
      status.set(imageId, 'failed');
      return `jobs/j/results/${imageId}.jpg`;
    },
  };
}

async function counted(metrics: ReturnType<typeof createProcessorMetrics>): Promise<Record<string, number>> {
  const { values } = await metrics.picturesEnded.get();
  return Object.fromEntries(values.filter((sample) => sample.value > 0).map((sample) => [`${sample.labels.outcome}${sample.labels.reason ? `:${sample.labels.reason}` : ''}`, sample.value]));
}

test('each picture is counted once as it ends, however many attempts and finalizers end it', async () => {
  const metrics = createProcessorMetrics();
  const repo = pictures();
  countPictureEndings(repo, metrics);
  const finished = {} as FinishedImage;

  expect(await repo.markDone('a', finished)).toBe(true);
  expect(await repo.markDone('a', finished)).toBe(false); // a second attempt finding it done
  expect(await repo.markFailed('b', 'processing_failed', 'This photo could not be processed. It was not charged.')).toBe(true);
  expect(await repo.markFailed('b', 'not_processed', 'finalizer')).toBe(false); // the job's finalizer after it
  expect(await repo.markFailed('c', 'content_refused', 'refused')).toBe(true);
  // Delivered, then taken back: the ledger would not charge it.
  expect(await repo.markDone('d', finished)).toBe(true);
  expect(await repo.markUndelivered('d', 'reservation_expired', 'expired')).toBe('jobs/j/results/d.jpg');
  expect(await repo.markUndelivered('d', 'reservation_expired', 'expired')).toBeNull();

  expect(await counted(metrics)).toEqual({ delivered: 2, 'failed:processing_failed': 1, 'failed:content_refused': 1, 'failed:reservation_expired': 1 });
});

test('the known reasons are exported at 0 before the first failure, so a rate sees the first one', async () => {
  const text = await createProcessorMetrics().registry.getSingleMetricAsString('pictures_ended_total');
  expect(text).toContain('pictures_ended_total{outcome="delivered"} 0');
  expect(text).toContain('pictures_ended_total{outcome="failed",reason="processing_failed"} 0');
});
