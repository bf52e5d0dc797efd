import type { RenderSpec } from '@masterpost/shared';

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
