import { useState } from 'react';
import { messageOf, unwrap } from '../api/client';
import { pictureBlob, saveBlob } from '../api/files';
import { BeforeAfter } from '../components/before-after';
import { ComplianceBadges } from '../components/compliance-badges';
import { PictureEditor } from '../components/picture-editor';
import { Loaded } from '../components/status';
import { Link } from '../state/router';
import { useCatalog } from '../state/catalog';
import { useSignedIn } from '../state/session';
import { useAsync } from '../state/use-async';
import { usePictureUrl } from '../state/use-picture-url';

/** One picture: before/after, its checks, a download, and the free editor. */
export function ReviewScreen({ jobId, imageId }: { jobId: string; imageId: string }) {
  const { api } = useSignedIn();
  const catalog = useCatalog();
  const [version, setVersion] = useState(0);
  const job = useAsync(async () => unwrap(await api.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } } }), 'loading the picture'), [api, jobId, version]);
  const before = usePictureUrl(imageId, 'original');
  const after = usePictureUrl(imageId, 'result', version);
  const [note, setNote] = useState<string | null>(null);

  return (
    <main>
      <p>
        <Link to={`/jobs/${jobId}`}>← All pictures of this job</Link>
      </p>
      <Loaded state={job} what="the picture">
        {(progress) => {
          const picture = progress.images.find((candidate) => candidate.image_id === imageId);
          if (!picture || picture.status !== 'done') return <p className="empty">This picture is not delivered{picture ? ` (${picture.status})` : ''}.</p>;
          const name = picture.output_name ?? picture.filename;
          const aspect = picture.compliance ? picture.compliance.width / picture.compliance.height : 1;
          const download = async () => {
            try {
              saveBlob(await pictureBlob(api, imageId, 'result'), name);
            } catch (error) {
              setNote(messageOf(error));
            }
          };
          return (
            <div className="review">
              <div>
                <h1>{name}</h1>
                <BeforeAfter before={before.url} after={after.url} name={name} aspect={aspect} />
                {(before.error || after.error) && <p className="error">{before.error ?? after.error}</p>}
                {picture.compliance && <ComplianceBadges report={picture.compliance} />}
                <p className="muted shadow" id="review-shadow">
                  shadow: {picture.shadow}
                </p>
                <button type="button" onClick={() => void download()} id="download-one">
                  Download this picture
                </button>
                {note && (
                  <p className="error" role="alert">
                    {note}
                  </p>
                )}
              </div>
              <Loaded state={catalog} what="the editor's choices">
                {(choices) => <PictureEditor picture={picture} catalog={choices} onEdited={() => setVersion((n) => n + 1)} />}
              </Loaded>
            </div>
          );
        }}
      </Loaded>
    </main>
  );
}
