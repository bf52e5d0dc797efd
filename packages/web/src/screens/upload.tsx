import { useState } from 'react';
import { messageOf, type Catalog, type Schemas } from '../api/client';
import { totalSize, uploadFiles, type UploadProgress } from '../api/upload';
import { ErrorNote, Loaded } from '../components/status';
import { bytes, credits, duration, pictures } from '../components/format';
import { DropZone } from '../components/drop-zone';
import { VerifyFirst } from '../components/verify-notice';
import { Link, navigate } from '../state/router';
import { useCatalog } from '../state/catalog';
import { useSignedIn } from '../state/session';

/** What the browser's file picker is told to offer: the catalog's accepted types as extensions. */
function acceptList(catalog: Catalog): string {
  return ['image/*', ...catalog.upload.accepted.map((type) => `.${type}`)].join(',');
}

export function UploadScreen() {
  const catalog = useCatalog();
  return <Loaded state={catalog} what="the upload limits">{(data) => <UploadForm catalog={data} />}</Loaded>;
}

function UploadForm({ catalog }: { catalog: Catalog }) {
  const { session, refreshBalance } = useSignedIn();
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [answer, setAnswer] = useState<Schemas['UploadAnswer'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Files the gateway would refuse whole are named here before a byte is sent.
  const tooLarge = files.filter((file) => file.size > catalog.upload.max_file_bytes);
  const sendable = files.filter((file) => file.size <= catalog.upload.max_file_bytes);
  const tooMany = sendable.length > catalog.upload.max_files;

  const addFiles = (added: File[]) => {
    setAnswer(null);
    setError(null);
    setFiles((current) => [...current, ...added.filter((file) => !current.some((known) => known.name === file.name && known.size === file.size))]);
  };

  const upload = async () => {
    setError(null);
    setProgress({ sentBytes: 0, totalBytes: totalSize(sendable) });
    try {
      const uploaded = await uploadFiles(sendable, session.token, setProgress);
      setAnswer(uploaded);
      setFiles([]);
      await refreshBalance();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setProgress(null);
    }
  };

  return (
    <main>
      <h1>New pictures</h1>
      <p className="muted">
        Photos ({catalog.upload.accepted.filter((type) => type !== 'zip').join(', ')}) and ZIPs of them, up to {catalog.upload.max_files} files of{' '}
        {bytes(catalog.upload.max_file_bytes)} each. Nothing is charged until you choose a marketplace and start.
      </p>
      <DropZone accept={acceptList(catalog)} onFiles={addFiles} disabled={progress !== null} />

      {files.length > 0 && (
        <section aria-labelledby="chosen-title">
          <h2 id="chosen-title">Chosen files</h2>
          <ul className="file-list" id="chosen-files">
            {files.map((file) => (
              <li key={`${file.name}:${file.size}`}>
                <span>
                  {file.name} <span className="muted">({bytes(file.size)})</span>
                  {file.size > catalog.upload.max_file_bytes && <span className="error"> too large: at most {bytes(catalog.upload.max_file_bytes)}</span>}
                </span>
                <button type="button" onClick={() => setFiles((current) => current.filter((other) => other !== file))} aria-label={`Remove ${file.name}`} disabled={progress !== null}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
          {tooMany && <p className="error">At most {catalog.upload.max_files} files at once: remove {sendable.length - catalog.upload.max_files}.</p>}
          <button type="button" className="primary" id="upload" onClick={() => void upload()} disabled={progress !== null || sendable.length === 0 || tooMany}>
            Upload {sendable.length} file{sendable.length === 1 ? '' : 's'} ({bytes(totalSize(sendable))})
          </button>
          {tooLarge.length > 0 && <p className="muted">{tooLarge.length} file(s) too large will not be sent.</p>}
        </section>
      )}

      <div aria-live="polite" role="status" className="upload-progress">
        {progress && (
          <>
            <progress max={progress.totalBytes} value={progress.sentBytes} aria-label="Upload progress" />
            <p>
              Uploaded {bytes(progress.sentBytes)} of {bytes(progress.totalBytes)}
            </p>
          </>
        )}
      </div>
      {error && <ErrorNote message={`The upload failed: ${error}`} />}
      {answer && <Estimate answer={answer} catalog={catalog} />}
    </main>
  );
}

function Estimate({ answer, catalog }: { answer: Schemas['UploadAnswer']; catalog: Catalog }) {
  const { estimate } = answer;
  const { me } = useSignedIn();
  const short = estimate.credits_needed - estimate.credits_available;
  return (
    <section aria-labelledby="estimate-title" className="estimate" id="estimate">
      <h2 id="estimate-title">{pictures(answer.files_count)} ready</h2>
      {answer.rejected.length > 0 && (
        <>
          <h3>Not accepted</h3>
          <ul className="rejected" id="rejected">
            {answer.rejected.map((file, index) => (
              <li key={`${file.filename}:${index}`}>
                <strong>{file.filename}</strong>: {file.message}
              </li>
            ))}
          </ul>
        </>
      )}
      <dl className="numbers">
        <div>
          <dt>Credits needed</dt>
          <dd id="credits-needed">{estimate.credits_needed}</dd>
        </div>
        <div>
          <dt>Credits available</dt>
          <dd>{estimate.credits_available}</dd>
        </div>
        <div>
          <dt>Pictures you can afford</dt>
          <dd>{estimate.max_affordable_images}</dd>
        </div>
        <div>
          <dt>About</dt>
          <dd>{duration(estimate.seconds)}</dd>
        </div>
      </dl>
      <p className="muted">
        {credits(catalog.credits_per_picture)} a delivered picture; a picture that fails is not charged.
      </p>
      {me?.email_verified === false ? (
        <VerifyFirst />
      ) : (
        short > 0 && (
          <p className="warning" id="short">
            You need {credits(short)} more for all of them. <Link to="/buy">Buy credits</Link>: your upload waits, and History brings you back to it.
          </p>
        )
      )}
      <button type="button" className="primary" onClick={() => navigate(`/jobs/${answer.job_id}/choose`)} id="to-choose">
        Choose the marketplace
      </button>
    </section>
  );
}
