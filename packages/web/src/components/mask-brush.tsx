import { forwardRef, useEffect, useImperativeHandle, useRef, useState, type PointerEvent } from 'react';

export interface MaskBrushHandle {
  /** The painted mask as a PNG (white = product), at the size it is shown. */
  toPng: () => Promise<Blob>;
  reset: () => void;
}

/**
 * The erase/restore brush over the photo. The mask is kept in an off-screen canvas at the size
 * it is shown (the API accepts any scale of the picture's shape); the view draws the photo with
 * what is not product tinted red.
 */
export const MaskBrush = forwardRef<MaskBrushHandle, { photo: ImageBitmap; mask: ImageBitmap; mode: 'erase' | 'restore'; brush: number }>(
  function MaskBrush({ photo, mask, mode, brush }, handle) {
    const view = useRef<HTMLCanvasElement>(null);
    const maskCanvas = useRef<HTMLCanvasElement>(document.createElement('canvas'));
    const original = useRef<ImageData | null>(null);
    const painting = useRef(false);
    const lastPoint = useRef<{ x: number; y: number } | null>(null);
    const frame = useRef<number | null>(null);
    const [size, setSize] = useState({ width: 0, height: 0 });

    const draw = () => {
      const canvas = view.current;
      const context = canvas?.getContext('2d');
      const maskContext = maskCanvas.current.getContext('2d');
      if (!canvas || !context || !maskContext) return;
      const { width, height } = canvas;
      context.fillStyle = '#fff';
      context.fillRect(0, 0, width, height);
      context.drawImage(photo, 0, 0, width, height);
      const picture = context.getImageData(0, 0, width, height);
      const painted = maskContext.getImageData(0, 0, width, height).data;
      for (let i = 0; i < painted.length; i += 4) {
        const background = 1 - painted[i]! / 255;
        picture.data[i] = picture.data[i]! * (1 - background * 0.5) + 230 * background * 0.5;
        picture.data[i + 1] = picture.data[i + 1]! * (1 - background * 0.6);
        picture.data[i + 2] = picture.data[i + 2]! * (1 - background * 0.6);
      }
      context.putImageData(picture, 0, 0);
    };

    useEffect(() => {
      const width = Math.min(480, mask.width);
      const height = Math.round((width * mask.height) / mask.width);
      for (const canvas of [view.current, maskCanvas.current]) {
        if (!canvas) continue;
        canvas.width = width;
        canvas.height = height;
      }
      const context = maskCanvas.current.getContext('2d', { willReadFrequently: true });
      context?.drawImage(mask, 0, 0, width, height);
      original.current = context?.getImageData(0, 0, width, height) ?? null;
      setSize({ width, height });
    }, [mask]);

    // Drawn again once the canvases have their size, and when another photo comes.
    useEffect(draw, [size, photo]);

    useImperativeHandle(handle, () => ({
      toPng: () =>
        new Promise<Blob>((resolve, reject) =>
          maskCanvas.current.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the mask could not be made into a PNG'))), 'image/png'),
        ),
      reset: () => {
        if (original.current) maskCanvas.current.getContext('2d')?.putImageData(original.current, 0, 0);
        draw();
      },
    }));

    const paint = (event: PointerEvent<HTMLCanvasElement>) => {
      const canvas = event.currentTarget;
      const box = canvas.getBoundingClientRect();
      const x = ((event.clientX - box.left) * canvas.width) / box.width;
      const y = ((event.clientY - box.top) * canvas.height) / box.height;
      const context = maskCanvas.current.getContext('2d');
      if (!context) return;
      // Pointer moves arrive at most once a frame: a quick stroke is joined from the last point,
      // not left as a row of dots.
      const from = lastPoint.current ?? { x, y };
      context.strokeStyle = context.fillStyle = mode === 'erase' ? '#000' : '#fff';
      context.lineWidth = brush * 2;
      context.lineCap = 'round';
      context.beginPath();
      context.moveTo(from.x, from.y);
      context.lineTo(x, y);
      context.stroke();
      context.beginPath();
      context.arc(x, y, brush, 0, Math.PI * 2);
      context.fill();
      lastPoint.current = { x, y };
      if (frame.current === null) {
        frame.current = requestAnimationFrame(() => {
          frame.current = null;
          draw();
        });
      }
    };

    return (
      <canvas
        ref={view}
        className="mask-view"
        role="img"
        aria-label="The photo with what is not product tinted red; paint with the mouse or a finger to erase or restore"
        onPointerDown={(event) => {
          painting.current = true;
          lastPoint.current = null;
          event.currentTarget.setPointerCapture(event.pointerId);
          paint(event);
        }}
        onPointerMove={(event) => painting.current && paint(event)}
        onPointerUp={() => {
          painting.current = false;
        }}
      />
    );
  },
);
