import { useState } from 'react';
import { messageOf, unwrap, type ProgressPicture, type Schemas } from '../api/client';
import { jobZip, pictureBlob, saveBlob } from '../api/files';
import { credits, duration } from '../components/format';
import { PictureCard } from '../components/picture-card';
import { ErrorNote, Loading } from '../components/status';
import { Link } from '../state/router';
import { useSignedIn } from '../state/session';
import { useJobProgress } from '../state/use-job-progress';

/** Watch a job and see its pictures: progress live, each picture as it is done, cancel, download. */
export function JobScreen({ jobId }: { jobId: string }) {
  const { progress, error, retry, refresh } = useJobProgress(jobId);
  if (error && !progress) return <ErrorNote message={`Could not follow the job: ${error}`} onRetry={retry} />;
  if (!progress) return <Loading what="the job" />;
  return <JobView progress={progress} streamError={error} onRetry={retry} onChanged={refresh} />;
}

function statusSentence(progress: Schemas['Progress']): string {
  const counts = `${progress.completed} of ${progress.total} done${progress.failed ? `, ${progress.failed} failed` : ''}${progress.cancelled ? `, ${progress.cancelled} cancelled` : ''}`;
  if (progress.finished) return `Finished: ${counts}. ${credits(progress.credits_charged)} charged.`;
  if (progress.status === 'uploaded') return 'Not started yet.';
  return `${progress.status === 'queued' ? 'Queued' : 'Working'}: ${counts}${progress.eta_seconds > 0 ? `, about ${duration(progress.eta_seconds)} left` : ''}.`;
}

function JobView({ progress, streamError, onRetry, onChanged }: { progress: Schemas['Progress']; streamError: string | null; onRetry: () => void; onChanged: () => Promise<void> }) {
  const { api, refreshBalance } = useSignedIn();
  const [majorDriftOnly, setMajorDriftOnly] = useState(false);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const jobId = progress.job_id;
  const shown = majorDriftOnly ? progress.images.filter((picture) => picture.compliance?.drift?.verdict === 'major') : progress.images;
  const anyDrift = progress.images.some((picture) => picture.compliance?.drift);

  const act = async (work: () => Promise<string>) => {
    setBusy(true);
    try {
      setNote({ text: await work(), error: false });
    } catch (caught) {
      setNote({ text: messageOf(caught), error: true });
    } finally {
      setBusy(false);
    }
  };
  const cancel = () =>
    act(async () => {
      const answer = unwrap(await api.POST('/api/v1/jobs/{jobId}/cancel', { params: { path: { jobId } } }), 'cancelling');
      await Promise.all([onChanged(), refreshBalance()]);
      return `Cancelled: ${credits(answer.released_credits)} given back.`;
    });
  const downloadAll = () =>
    act(async () => {
      saveBlob(await jobZip(api, jobId), `masterpost-${jobId.slice(0, 8)}.zip`);
      return 'The ZIP is downloading.';
    });
  const downloadOne = (picture: ProgressPicture) =>
    void act(async () => {
      saveBlob(await pictureBlob(api, picture.image_id, 'result'), picture.output_name ?? picture.filename);
      return `${picture.output_name ?? picture.filename} is downloading.`;
    });

  return (
    <main>
      <h1>{progress.pipeline ? `Pictures for ${progress.pipeline}` : 'Pictures'}</h1>
      <div className="job-status">
        <progress max={100} value={progress.percentage} aria-label="Job progress" />
        {/* One polite live region: a screen reader hears the counts change, not every card. */}
        <p role="status" aria-live="polite" id="job-status" data-finished={progress.finished}>
          {statusSentence(progress)}
        </p>
        {streamError && <ErrorNote message={`Lost the live progress: ${streamError}`} onRetry={onRetry} />}
        <div className="actions">
          {!progress.finished && progress.status !== 'uploaded' && (
            <button type="button" onClick={() => void cancel()} disabled={busy} id="cancel">
              Cancel the job
            </button>
          )}
          {progress.status === 'uploaded' && (
            <Link to={`/jobs/${jobId}/choose`} className="button primary">
              Choose the marketplace
            </Link>
          )}
          {progress.finished && progress.completed > 0 && (
            <button type="button" className="primary" onClick={() => void downloadAll()} disabled={busy} id="download-zip">
              Download all (ZIP)
            </button>
          )}
        </div>
        {note && (
          <p className={note.error ? 'error' : 'muted'} role={note.error ? 'alert' : 'status'}>
            {note.text}
          </p>
        )}
      </div>
      {anyDrift && (
        <label className="inline filter">
          <input type="checkbox" checked={majorDriftOnly} onChange={(event) => setMajorDriftOnly(event.target.checked)} id="major-drift-only" /> Major drift only
        </label>
      )}
      {shown.length === 0 ? (
        <p className="empty">{majorDriftOnly ? 'No picture drifted majorly.' : 'This job has no pictures.'}</p>
      ) : (
        <ul className="cards" id="results">
          {shown.map((picture) => (
            <PictureCard key={picture.image_id} jobId={jobId} picture={picture} onDownload={downloadOne} />
          ))}
        </ul>
      )}
    </main>
  );
}
