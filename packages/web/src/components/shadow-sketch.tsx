import { useEffect, useRef } from 'react';

export interface SketchSpec {
  canvas: { width: number; height: number };
  coverage: number;
  background: string;
  shadow: { type: string; opacity: number };
}

/**
 * A client-side sketch of the first photo on the chosen canvas, before anything is spent: the
 * canvas's shape, the product's share of it and where the shadow falls. The real cut-out is made
 * by the AI; here the whole photo stands in for the product, which is why it is called a sketch.
 */
export function ShadowSketch({ photo, spec }: { photo: ImageBitmap | null; spec: SketchSpec }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return;
    const scale = 320 / Math.max(spec.canvas.width, spec.canvas.height);
    canvas.width = Math.round(spec.canvas.width * scale);
    canvas.height = Math.round(spec.canvas.height * scale);
    context.fillStyle = spec.background;
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (!photo) return;
    const longest = Math.max(canvas.width, canvas.height) * spec.coverage;
    const fit = longest / Math.max(photo.width, photo.height);
    const width = photo.width * fit;
    const height = photo.height * fit;
    const x = (canvas.width - width) / 2;
    const y = (canvas.height - height) / 2;
    context.save();
    context.globalAlpha = spec.shadow.opacity;
    context.fillStyle = '#000';
    switch (spec.shadow.type) {
      case 'drop':
      case 'auto':
        context.filter = 'blur(6px)';
        context.fillRect(x + 8, y + 8, width, height);
        break;
      case 'natural':
        context.filter = 'blur(5px)';
        context.beginPath();
        context.ellipse(x + width / 2, y + height, width / 2, height * 0.05, 0, 0, Math.PI * 2);
        context.fill();
        break;
      case 'reflection':
        context.globalAlpha = spec.shadow.opacity * 0.5;
        context.translate(0, 2 * (y + height) + 4);
        context.scale(1, -1);
        context.drawImage(photo, x, y + height * 0.65, width, height * 0.35);
        break;
      default:
        break;
    }
    context.restore();
    context.drawImage(photo, x, y, width, height);
  }, [photo, spec]);
  return (
    <canvas
      ref={ref}
      className="sketch"
      role="img"
      aria-label={`Sketch: ${spec.canvas.width}×${spec.canvas.height} canvas, product ${Math.round(spec.coverage * 100)}% of it, ${spec.shadow.type} shadow`}
    />
  );
}
