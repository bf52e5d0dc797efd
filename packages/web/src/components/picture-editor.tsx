import { useEffect, useRef, useState } from 'react';
import { messageOf, unwrap, type Catalog, type JobSettings, type ProgressPicture } from '../api/client';
import { pictureBlob } from '../api/files';
import { useSession } from '../state/session';
import { MaskBrush, type MaskBrushHandle } from './mask-brush';

type ShadowType = NonNullable<NonNullable<JobSettings['shadow']>['type']>;
type Format = NonNullable<JobSettings['format']>;

/**
 * The free editor: another shadow or format rendered from the stored cutout, or the product's
 * mask repainted with the erase/restore brush. Neither calls the AI nor costs credits.
 */
export function PictureEditor({ picture, catalog, onEdited }: { picture: ProgressPicture; catalog: Catalog; onEdited: () => void }) {
  const { api } = useSession();
  const [shadow, setShadow] = useState<ShadowType>((catalog.shadow_types.find((type) => type === picture.shadow) ?? 'none') as ShadowType);
  const [opacity, setOpacity] = useState(50);
  const [blur, setBlur] = useState(18);
  const [angle, setAngle] = useState(45);
  const [distance, setDistance] = useState(24);
  const [format, setFormat] = useState<Format | ''>('');
  const [mode, setMode] = useState<'erase' | 'restore'>('erase');
  const [brush, setBrush] = useState(20);
  const [status, setStatus] = useState<{ text: string; error: boolean; busy: boolean }>({ text: '', error: false, busy: false });
  const [bitmaps, setBitmaps] = useState<{ photo: ImageBitmap; mask: ImageBitmap } | null>(null);
  const [bitmapError, setBitmapError] = useState<string | null>(null);
  const brushRef = useRef<MaskBrushHandle>(null);

  useEffect(() => {
    let current = true;
    Promise.all([pictureBlob(api, picture.image_id, 'original'), pictureBlob(api, picture.image_id, 'mask')])
      .then(async ([photo, mask]) => ({ photo: await createImageBitmap(photo), mask: await createImageBitmap(mask) }))
      .then(
        (loaded) => current && setBitmaps(loaded),
        (error: unknown) => current && setBitmapError(`the mask cannot be edited: ${messageOf(error)}`),
      );
    return () => {
      current = false;
    };
  }, [api, picture.image_id]);

  const settings = (): JobSettings => ({
    shadow: { type: shadow, opacity: opacity / 100, blur, angle, distance },
    ...(format ? { format } : {}),
  });

  const run = async (what: string, work: () => Promise<unknown>) => {
    setStatus({ text: `${what}…`, error: false, busy: true });
    try {
      await work();
      setStatus({ text: `${what}: done, no credits used`, error: false, busy: false });
      onEdited();
    } catch (error) {
      setStatus({ text: `${what} failed: ${messageOf(error)}`, error: true, busy: false });
    }
  };

  const applySettings = () =>
    run('Settings applied', async () =>
      unwrap(await api.POST('/api/v1/manual-editor/render', { body: { image_id: picture.image_id, settings: settings() } }), 'rendering'),
    );

  const applyMask = () =>
    run('Mask applied', async () => {
      const png = await brushRef.current!.toPng();
      const answer = await api.POST('/api/v1/manual-editor/mask', {
        // The document types the binary part as a string; the form carries the PNG itself.
        body: { image_id: picture.image_id, mask: 'mask.png', settings: JSON.stringify(settings()) },
        bodySerializer: () => {
          const form = new FormData();
          form.append('image_id', picture.image_id);
          form.append('mask', png, 'mask.png');
          form.append('settings', JSON.stringify(settings()));
          return form;
        },
      });
      unwrap(answer, 'applying the mask');
    });

  return (
    <section className="editor" aria-labelledby="editor-title">
      <h2 id="editor-title">Edit (free)</h2>
      <fieldset>
        <legend>Shadow and format</legend>
        <div className="fields">
          <label>
            Shadow
            <select value={shadow} onChange={(event) => setShadow(event.target.value as ShadowType)} id="edit-shadow">
              {catalog.shadow_types.map((type) => (
                <option key={type}>{type}</option>
              ))}
            </select>
          </label>
          <label>
            Strength {opacity}%
            <input type="range" min={0} max={100} step={10} value={opacity} onChange={(event) => setOpacity(Number(event.target.value))} />
          </label>
          <label>
            Blur
            <input type="number" min={0} max={100} value={blur} onChange={(event) => setBlur(Number(event.target.value))} />
          </label>
          <label>
            Angle
            <input type="number" min={0} max={360} value={angle} onChange={(event) => setAngle(Number(event.target.value))} />
          </label>
          <label>
            Distance
            <input type="number" min={0} max={200} value={distance} onChange={(event) => setDistance(Number(event.target.value))} />
          </label>
          <label>
            Format
            <select value={format} onChange={(event) => setFormat(event.target.value as Format | '')}>
              <option value="">as before</option>
              {catalog.output_formats.map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          </label>
        </div>
        <button type="button" onClick={() => void applySettings()} disabled={status.busy} id="apply-settings">
          Apply settings
        </button>
      </fieldset>
      <fieldset>
        <legend>Mask</legend>
        <p className="muted">Paint over the photo: erase what is not product (shown red), restore what is.</p>
        <div className="fields">
          <label>
            <input type="radio" name="mask-mode" checked={mode === 'erase'} onChange={() => setMode('erase')} id="mode-erase" /> Erase
          </label>
          <label>
            <input type="radio" name="mask-mode" checked={mode === 'restore'} onChange={() => setMode('restore')} id="mode-restore" /> Restore
          </label>
          <label>
            Brush {brush} px
            <input type="range" min={2} max={80} value={brush} onChange={(event) => setBrush(Number(event.target.value))} id="brush" />
          </label>
        </div>
        {bitmapError && <p className="error">{bitmapError}</p>}
        {!bitmaps && !bitmapError && <p className="muted" role="status">Loading the photo and its mask…</p>}
        {bitmaps && <MaskBrush ref={brushRef} photo={bitmaps.photo} mask={bitmaps.mask} mode={mode} brush={brush} />}
        <div className="actions">
          <button type="button" onClick={() => void applyMask()} disabled={status.busy || !bitmaps} id="apply-mask">
            Apply mask
          </button>
          <button type="button" onClick={() => brushRef.current?.reset()} disabled={!bitmaps}>
            Start over
          </button>
        </div>
      </fieldset>
      <p id="edit-status" className={status.error ? 'error' : 'muted'} role="status" aria-live="polite" data-busy={status.busy}>
        {status.text}
      </p>
    </section>
  );
}
