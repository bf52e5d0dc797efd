import type { ConcreteShadowType, RenderSpec } from '@masterpost/contracts';
import type { Box } from './mask';
import { shadowReach, REFLECTION_GAP } from './shadows';

/** The largest box the product may fill: coverage of the canvas, inside the safe area if any. */
export function productLimits(spec: RenderSpec): { maxWidth: number; maxHeight: number } {
  const { width, height } = spec.canvas;
  let maxWidth = width * spec.coverage;
  let maxHeight = height * spec.coverage;
  if (spec.safeArea) {
    maxWidth = Math.min(maxWidth, Math.min(width, height * spec.safeArea.aspect));
    maxHeight = Math.min(maxHeight, Math.min(height, width / spec.safeArea.aspect));
  }
  return { maxWidth, maxHeight };
}

/** The white kept around everything we draw: shadows fade out before it, so borders stay pure. */
export function canvasMargin(spec: RenderSpec): number {
  return Math.max(2, Math.round(Math.min(spec.canvas.width, spec.canvas.height) * 0.02));
}

export interface Placement {
  product: Box;
  /** Rows the reflection may use below the gap (0 for other shadows). */
  reflectionHeight: number;
}

/**
 * Where the product goes. Its size is fixed first (the coverage target is never traded for a
 * shadow); then it is centred and moved off centre only as far as its shadow needs room,
 * never closer to the edge than the margin. A reflection that still does not fit is shortened:
 * it fades out over the rows there are.
 */
export function placeProduct(spec: RenderSpec, width: number, height: number, shadow: ConcreteShadowType | 'none'): Placement {
  const margin = canvasMargin(spec);
  const reach = shadowReach(shadow, spec.shadow, width, height);
  const left = position(spec.canvas.width, width, reach.left, reach.right, margin);
  const top = position(spec.canvas.height, height, reach.top, reach.bottom, margin);
  const product = { left, top, width, height };
  if (shadow !== 'reflection') return { product, reflectionHeight: 0 };
  const room = spec.canvas.height - margin - (top + height + REFLECTION_GAP);
  return { product, reflectionHeight: Math.max(0, Math.min(reach.bottom - REFLECTION_GAP, room)) };
}

function position(canvas: number, size: number, before: number, after: number, margin: number): number {
  const centred = Math.round((canvas - size) / 2);
  const lowest = margin + before;
  const highest = canvas - margin - after - size;
  const wanted = lowest <= highest ? Math.min(Math.max(centred, lowest), highest) : Math.round((lowest + highest) / 2);
  return Math.min(Math.max(wanted, Math.min(margin, centred)), Math.max(canvas - size - margin, centred));
}
