import { useEffect, useMemo, useState } from 'react';
import { ApiError, messageOf, unwrap, type Catalog, type JobSettings, type PipelineId, type Schemas } from '../api/client';
import { pictureBlob } from '../api/files';
import { credits, percent, pictures } from '../components/format';
import { ShadowSketch } from '../components/shadow-sketch';
import { ErrorNote, Loaded } from '../components/status';
import { VerifyFirst } from '../components/verify-notice';
import { Link, navigate } from '../state/router';
import { useCatalog } from '../state/catalog';
import { useSignedIn } from '../state/session';
import { useAsync } from '../state/use-async';

type ShadowType = NonNullable<NonNullable<JobSettings['shadow']>['type']>;
type Format = NonNullable<JobSettings['format']>;
type ProductPixels = NonNullable<JobSettings['product_pixels']>;
type DriftAction = NonNullable<JobSettings['on_major_drift']>;

// The catalog does not list these two yet; typed as records so a value the contract adds fails the build here.
const PRODUCT_PIXELS: Record<ProductPixels, string> = {
  original: 'your photo’s pixels (the AI only finds the product)',
  ai: 'the AI output’s pixels',
};
const DRIFT_ACTIONS: Record<DriftAction, string> = {
  deliver: 'deliver it, marked',
  retry: 'try the AI again (our cost)',
  fail: 'do not deliver it (not charged)',
};

export function ChooseScreen({ jobId }: { jobId: string }) {
  const catalog = useCatalog();
  const { api } = useSignedIn();
  const job = useAsync(async () => unwrap(await api.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } } }), 'loading the job'), [api, jobId]);
  return (
    <Loaded state={catalog} what="the marketplaces">
      {(catalogData) => (
        <Loaded state={job} what="the job">
          {(progress) =>
            progress.status === 'uploaded' ? (
              <ChooseForm catalog={catalogData} job={progress} />
            ) : (
              <main>
                <h1>Already started</h1>
                <p>
                  This job is {progress.status}. <Link to={`/jobs/${jobId}`}>Follow it</Link>.
                </p>
              </main>
            )
          }
        </Loaded>
      )}
    </Loaded>
  );
}

function ChooseForm({ catalog, job }: { catalog: Catalog; job: Schemas['Progress'] }) {
  const { api, balance, me, refreshBalance, refreshMe } = useSignedIn();
  // Known from /auth/me, or learnt from the API's 403 when that was stale.
  const [refusedUnverified, setRefusedUnverified] = useState(false);
  const unverified = me?.email_verified === false || refusedUnverified;
  const [pipeline, setPipeline] = useState<PipelineId>(catalog.pipelines[0]!.id);
  const [shadow, setShadow] = useState<ShadowType | ''>('');
  const [strength, setStrength] = useState(50);
  const [format, setFormat] = useState<Format | ''>('');
  const [background, setBackground] = useState('');
  const [productPixels, setProductPixels] = useState<ProductPixels | ''>('');
  const [onDrift, setOnDrift] = useState<DriftAction | ''>('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [photo, setPhoto] = useState<ImageBitmap | null>(null);

  const preset = catalog.pipelines.find((candidate) => candidate.id === pipeline)!;
  const firstImage = job.images[0];
  useEffect(() => {
    if (!firstImage) return;
    let current = true;
    pictureBlob(api, firstImage.image_id, 'original')
      .then((blob) => createImageBitmap(blob))
      .then((bitmap) => current && setPhoto(bitmap))
      .catch(() => undefined); // the sketch then shows the empty canvas: enough to judge its shape
    return () => {
      current = false;
    };
  }, [api, firstImage]);

  const cost = job.total * catalog.credits_per_picture;
  const available = balance?.available ?? 0;
  const short = cost - available;
  const sketch = useMemo(
    () => ({
      canvas: preset.canvas,
      coverage: preset.coverage,
      background: /^#[0-9a-f]{6}$/i.test(background) ? background : '#ffffff',
      shadow: { type: shadow || preset.shadow, opacity: strength / 100 },
    }),
    [preset, background, shadow, strength],
  );

  const settings = (): JobSettings => ({
    ...(shadow || strength !== 50 ? { shadow: { ...(shadow ? { type: shadow } : {}), opacity: strength / 100 } } : {}),
    ...(format ? { format } : {}),
    ...(background ? { background } : {}),
    ...(productPixels ? { product_pixels: productPixels } : {}),
    ...(onDrift ? { on_major_drift: onDrift } : {}),
  });

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      unwrap(await api.POST('/api/v1/process', { body: { job_id: job.job_id, pipeline, settings: settings() } }), 'starting the job');
      await refreshBalance();
      navigate(`/jobs/${job.job_id}`);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'email_not_verified') {
        setRefusedUnverified(true);
        refreshMe().catch(() => undefined);
      } else {
        setError(messageOf(caught));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <h1>Choose the marketplace</h1>
      <div className="choose">
        <div>
          <fieldset>
            <legend>Marketplace</legend>
            <div className="pipelines">
              {catalog.pipelines.map((option) => (
                <label key={option.id} className={`pipeline${option.id === pipeline ? ' chosen' : ''}`}>
                  <input type="radio" name="pipeline" value={option.id} checked={option.id === pipeline} onChange={() => setPipeline(option.id)} />
                  <span className="pipeline-name">{option.id}</span>
                  <span className="muted">
                    {option.canvas.width}×{option.canvas.height} px, product {percent(option.coverage)} of it, {option.format.toUpperCase()}, shadow {option.shadow}
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>Look</legend>
            <div className="fields">
              <label>
                Shadow
                <select value={shadow} onChange={(event) => setShadow(event.target.value as ShadowType | '')} id="shadow">
                  <option value="">the marketplace’s ({preset.shadow})</option>
                  {catalog.shadow_types.map((type) => (
                    <option key={type}>{type}</option>
                  ))}
                </select>
              </label>
              <label>
                Strength {strength}%
                <input type="range" min={0} max={100} step={10} value={strength} onChange={(event) => setStrength(Number(event.target.value))} id="strength" />
              </label>
              <label>
                Format
                <select value={format} onChange={(event) => setFormat(event.target.value as Format | '')} id="format">
                  <option value="">the marketplace’s ({preset.format})</option>
                  {catalog.output_formats.map((value) => (
                    <option key={value}>{value}</option>
                  ))}
                </select>
              </label>
            </div>
          </fieldset>
          <details className="advanced">
            <summary>Advanced settings</summary>
            <div className="fields">
              <label>
                Background (#RRGGBB, empty for the marketplace’s)
                <input value={background} onChange={(event) => setBackground(event.target.value.trim())} placeholder="#FFFFFF" pattern="#[0-9A-Fa-f]{6}" id="background" />
              </label>
              <label>
                Product drawn with
                <select value={productPixels} onChange={(event) => setProductPixels(event.target.value as ProductPixels | '')} id="product-pixels">
                  <option value="">the service’s choice</option>
                  {Object.entries(PRODUCT_PIXELS).map(([value, words]) => (
                    <option key={value} value={value}>
                      {words}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                When the AI changes the product a lot (major drift)
                <select value={onDrift} onChange={(event) => setOnDrift(event.target.value as DriftAction | '')} id="on-major-drift">
                  <option value="">the service’s choice</option>
                  {Object.entries(DRIFT_ACTIONS).map(([value, words]) => (
                    <option key={value} value={value}>
                      {words}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          </details>
        </div>
        <aside className="preview" aria-labelledby="preview-title">
          <h2 id="preview-title">Preview of {firstImage?.filename ?? 'the first photo'}</h2>
          <ShadowSketch photo={photo} spec={sketch} />
          <p className="muted">A sketch of the canvas and shadow, made in your browser: free. The picture itself is made when you start.</p>
        </aside>
      </div>
      <section className="cost" aria-labelledby="cost-title">
        <h2 id="cost-title">
          {pictures(job.total)} × {credits(catalog.credits_per_picture)} = {credits(cost)}
        </h2>
        <p>
          You have {credits(available)}. Only delivered pictures are charged; the rest is given back.
        </p>
        {unverified ? (
          <VerifyFirst />
        ) : (
          short > 0 && (
            <p className="warning">
              {credits(short)} short. <Link to="/buy">Buy credits</Link>, then come back to this job from History.
            </p>
          )
        )}
        {error && <ErrorNote message={error} />}
        <button type="button" className="primary" onClick={() => void start()} disabled={busy || short > 0 || unverified} id="process">
          {busy ? 'Starting…' : `Make ${pictures(job.total)} for ${credits(cost)}`}
        </button>
      </section>
    </main>
  );
}
