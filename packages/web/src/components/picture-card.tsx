import type { ProgressPicture } from '../api/client';
import { Link } from '../state/router';
import { usePictureUrl } from '../state/use-picture-url';
import { ComplianceBadges } from './compliance-badges';

/**
 * One picture of a job. The card keeps its size from the start (a square frame), so the grid does
 * not move when a picture arrives.
 */
export function PictureCard({ jobId, picture, onDownload }: { jobId: string; picture: ProgressPicture; onDownload: (picture: ProgressPicture) => void }) {
  const done = picture.status === 'done';
  const { url, error } = usePictureUrl(done ? picture.image_id : null, 'result');
  const name = picture.output_name ?? picture.filename;
  return (
    <li className="card" data-status={picture.status} data-image-id={picture.image_id}>
      <div className="card-frame">
        {done && url ? <img src={url} alt={name} /> : <div className={`placeholder ${picture.status}`} aria-hidden="true" />}
      </div>
      <p className="card-name">{name}</p>
      {done && (
        <>
          {picture.shadow && <p className="muted shadow">shadow: {picture.shadow}</p>}
          {picture.compliance && <ComplianceBadges report={picture.compliance} />}
          {error && <p className="error">{error}</p>}
          <div className="actions">
            <Link to={`/jobs/${jobId}/pictures/${picture.image_id}`} className="button" aria-label={`Review and edit ${name}`}>
              Review
            </Link>
            <button type="button" onClick={() => onDownload(picture)} aria-label={`Download ${name}`}>
              Download
            </button>
          </div>
        </>
      )}
      {picture.status === 'failed' && (
        <p className="error failure">
          {picture.error?.message ?? 'This picture could not be made.'} <strong>Not charged.</strong>
        </p>
      )}
      {picture.status === 'cancelled' && <p className="muted">Cancelled, not charged.</p>}
      {(picture.status === 'pending' || picture.status === 'processing') && <p className="muted">{picture.status === 'pending' ? 'waiting' : 'being made…'}</p>}
    </li>
  );
}
