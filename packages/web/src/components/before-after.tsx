import { useId, useState } from 'react';

/**
 * The photo and the delivered picture on top of each other; the slider (a real range input, so
 * keys and screen readers move it) uncovers one over the other.
 */
export function BeforeAfter({ before, after, name, aspect }: { before: string | null; after: string | null; name: string; aspect: number }) {
  const [split, setSplit] = useState(50);
  const id = useId();
  return (
    <figure className="before-after">
      <div className="before-after-frame" style={{ aspectRatio: String(aspect) }}>
        {after ? <img src={after} alt={`${name}, after`} /> : <div className="placeholder" aria-hidden="true" />}
        {before && <img src={before} alt={`${name}, before`} className="before" style={{ clipPath: `inset(0 ${100 - split}% 0 0)` }} />}
        <div className="before-after-line" style={{ left: `${split}%` }} aria-hidden="true" />
      </div>
      <label htmlFor={id} className="before-after-label">
        Before ← → after
      </label>
      <input id={id} type="range" min={0} max={100} value={split} onChange={(event) => setSplit(Number(event.target.value))} aria-valuetext={`${split}% before`} />
    </figure>
  );
}
