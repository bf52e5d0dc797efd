import type { DriftVerdict } from '@masterpost/contracts';
import { deltaE2000Rgb, rgbToLab, rgbToLabAt } from './lab';
import { borderMedian, type Level } from './levels';
import { boxOfMask, expand, type Transform } from './register';

/**
 * How far the AI output's product drifted from the seller's photo, once registered, measured on
 * the measuring level (MEASURE_SIDE):
 * - colour: CIEDE2000 between the output and the photo sampled where registration puts it, over
 *   the product's interior (the mask eroded past the matted edge band) and over any part of the
 *   photo's product the output whitened (a part removed); mean and 95th percentile;
 * - structure: mean SSIM of luma (7x7 windows wholly inside the interior);
 * - detail: gradient energy per pixel inside the interior, the output's over the photo's, minus
 *   1 (a smoothed label or logo loses energy, an added part brings some), each on its own grid so
 *   no resampling softens one side;
 * - whitened regions: photo pixels that are neither backdrop nor white where the output shows
 *   white, larger than a speck. Inside the product's outline (its convex hull) they are an
 *   occluder the AI removed (a prop in front of the product); outside it, a part that went.
 */
export interface DriftThresholds {
  minor: DriftLimits;
  major: DriftLimits;
  /** Below this registration confidence the seller's pixels are not composited (`ai`, with the reason). */
  minConfidence: number;
  /** An occluder covering more than this share of the product falls back to `ai`. */
  occluderShare: number;
}
export interface DriftLimits {
  deltaEMean: number;
  deltaEP95: number;
  /** SSIM below this... */
  ssim: number;
  /** ...or |detail_change| above this. */
  detail: number;
}

export const defaultDriftThresholds: DriftThresholds = {
  minor: { deltaEMean: 3, deltaEP95: 8, ssim: 0.9, detail: 0.2 },
  major: { deltaEMean: 6, deltaEP95: 15, ssim: 0.8, detail: 0.35 },
  minConfidence: 0.75,
  occluderShare: 0.02,
};

export interface DriftMeasures {
  deltaEMean: number;
  deltaEP95: number;
  ssim: number;
  detailChange: number;
  /** Shares of the product's interior: the output whitened inside its outline (an occluder) and outside it (a lost part). */
  occluderShare: number;
  lostShare: number;
  /** Interior pixels measured; 0 when the product is too thin to measure. */
  measured: number;
}

export function verdictOf(measures: DriftMeasures, thresholds: DriftThresholds): DriftVerdict {
  const beyond = (limits: DriftLimits) =>
    measures.deltaEMean > limits.deltaEMean || measures.deltaEP95 > limits.deltaEP95 || measures.ssim < limits.ssim || Math.abs(measures.detailChange) > limits.detail;
  if (beyond(thresholds.major)) return 'major';
  if (beyond(thresholds.minor)) return 'minor';
  return 'none';
}

const HISTOGRAM_STEP = 0.05;
const HISTOGRAM_BINS = 4000;
const SSIM_RADIUS = 3;

/** A rectangle of the measured region, in the region's own pixel coordinates ([left, right) x [top, bottom)). */
interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export function measureDrift(output: Level, mask: Uint8Array, photo: Level, t: Transform): DriftMeasures {
  const { width, height } = output;
  const productBox = boxOfMask(mask, width, height);
  const empty = { deltaEMean: 0, deltaEP95: 0, ssim: 1, detailChange: 0, occluderShare: 0, lostShare: 0, measured: 0 };
  if (!productBox) return empty;
  // Wide enough to see a part of the photo's product the output lost beyond its own outline (a cap, a handle).
  const region = expand(productBox, 0.35, output);
  const rw = region.right - region.left;
  const rh = region.bottom - region.top;
  const count = rw * rh;
  // The interior, and so colour, structure and detail, lies inside the product's box; only the
  // whitened-region check needs the whole region, and only where the output is white. Work is
  // kept to those (SSIM windows reach SSIM_RADIUS past the interior).
  const box: Rect = { left: productBox.left - region.left, top: productBox.top - region.top, right: productBox.right - region.left, bottom: productBox.bottom - region.top };
  const near = grow(box, SSIM_RADIUS + 1, rw, rh);

  // The photo where registration puts it (RGB and luma), and whether it is on the photo at all.
  const warped = new Float32Array(count * 3);
  const warpedLuma = new Float32Array(count);
  const onPhoto = new Uint8Array(count);
  const whiteOverPhoto = new Uint8Array(count);
  const ax = output.kx / (t.scale * photo.kx);
  const bx = -t.dx / (t.scale * photo.kx) - 0.5;
  const ay = output.ky / (t.scale * photo.ky);
  const by = -t.dy / (t.scale * photo.ky) - 0.5;
  const outRgb = output.rgb;
  const photoRgb = photo.rgb;
  const photoStride = photo.width * 3;
  for (let y = 0; y < rh; y++) {
    const v = (region.top + y + 0.5) * ay + by;
    if (v < 0 || v > photo.height - 1) continue;
    const y0 = Math.min(photo.height - 2, Math.floor(v));
    const fy = v - y0;
    const nearRow = y >= near.top && y < near.bottom;
    for (let x = 0, out = ((region.top + y) * width + region.left) * 3; x < rw; x++, out += 3) {
      // Outside the box's neighbourhood only white output pixels are looked at (whitened regions).
      if (!(nearRow && x >= near.left && x < near.right) && !isWhite(outRgb[out]!, outRgb[out + 1]!, outRgb[out + 2]!)) continue;
      const u = (region.left + x + 0.5) * ax + bx;
      if (u < 0 || u > photo.width - 1) continue;
      const x0 = Math.min(photo.width - 2, Math.floor(u));
      const fx = u - x0;
      const index = y * rw + x;
      onPhoto[index] = 1;
      const p00 = y0 * photoStride + x0 * 3;
      const p10 = p00 + photoStride;
      const w = index * 3;
      for (let c = 0; c < 3; c++) {
        const c00 = photoRgb[p00 + c]!;
        const c10 = photoRgb[p10 + c]!;
        const top = c00 + (photoRgb[p00 + 3 + c]! - c00) * fx;
        const bottom = c10 + (photoRgb[p10 + 3 + c]! - c10) * fx;
        warped[w + c] = top + (bottom - top) * fy;
      }
      warpedLuma[index] = 0.2126 * warped[w]! + 0.7152 * warped[w + 1]! + 0.0722 * warped[w + 2]!;
      // Inside the product too: a white label stays product and white, and is excluded by the photo being white there.
      if (isWhite(outRgb[out]!, outRgb[out + 1]!, outRgb[out + 2]!)) {
        const low = Math.min(warped[w]!, warped[w + 1]!, warped[w + 2]!);
        if (low < 215 || Math.max(warped[w]!, warped[w + 1]!, warped[w + 2]!) - low > 20) whiteOverPhoto[index] = 1;
      }
    }
  }

  // Interior: fully product at this level and one pixel in (the matted band is about that wide here).
  const full = new Uint8Array(count);
  const touched = new Uint8Array(count);
  const touchedBox: Rect = { left: rw, top: rh, right: 0, bottom: 0 };
  for (let y = 0; y < rh; y++) {
    for (let x = 0, index = y * rw, at = (region.top + y) * width + region.left; x < rw; x++, index++, at++) {
      const value = mask[at]!;
      if (value === 0) continue;
      touched[index] = 1;
      if (value === 255) full[index] = 1;
      if (x < touchedBox.left) touchedBox.left = x;
      if (x >= touchedBox.right) touchedBox.right = x + 1;
      if (y < touchedBox.top) touchedBox.top = y;
      if (y >= touchedBox.bottom) touchedBox.bottom = y + 1;
    }
  }
  // Full pixels are inside the product's box: every erosion stays there. The core is the
  // interior eroded once more, the deep interior (SSIM's window centres) SSIM_RADIUS times.
  const interior = erode(full, rw, rh, 1, box);
  const core = erode(interior, rw, rh, 1, box);
  const deep = erode(core, rw, rh, SSIM_RADIUS - 1, box);
  // The mask's edge band, two level pixels either side of its outline: matting and sub-pixel registration live there.
  const band = dilate(touched, rw, rh, 2, touchedBox);
  for (let index = 0; index < count; index++) band[index] = band[index]! & (core[index]! ^ 1);

  const whitened = whitenedRegions(rw, rh, warped, whiteOverPhoto, band, photo);
  const hull = convexHullRows(mask, width, productBox, region);

  const histogram = new Uint32Array(HISTOGRAM_BINS);
  let sum = 0;
  let n = 0;
  let interiorCount = 0;
  let occluder = 0;
  let lost = 0;
  for (let y = 0; y < rh; y++) {
    const span = hull[y]!;
    for (let x = 0, index = y * rw; x < rw; x++, index++) {
      let measured = false;
      if (interior[index] && onPhoto[index]) {
        interiorCount++;
        measured = true;
      } else if (whitened[index]) {
        if (x >= span[0] && x < span[1]) occluder++;
        else lost++;
        measured = true;
      }
      // Colour on every other pixel (a checkerboard): the statistics are the same, at half the cost.
      if (!measured || (x + y) % 2 !== 0) continue;
      const difference = deltaE2000Rgb(outRgb, ((region.top + y) * width + region.left + x) * 3, warped, index * 3);
      sum += difference;
      n++;
      histogram[Math.min(HISTOGRAM_BINS - 1, Math.floor(difference / HISTOGRAM_STEP))]!++;
    }
  }
  if (interiorCount < 32) return { ...empty, measured: interiorCount };

  let p95 = 0;
  for (let bin = 0, seen = 0; bin < HISTOGRAM_BINS; bin++) {
    seen += histogram[bin]!;
    if (seen >= n * 0.95) {
      p95 = (bin + 0.5) * HISTOGRAM_STEP;
      break;
    }
  }

  const outLuma = new Float32Array(count);
  for (let y = near.top; y < near.bottom; y++) {
    const from = (region.top + y) * width + region.left;
    outLuma.set(output.luma.subarray(from + near.left, from + near.right), y * rw + near.left);
  }
  const ssim = meanSsim(outLuma, warpedLuma, hasAny(deep, box, rw) ? deep : interior, rw, rh, near);
  const detailChange = detailChangeOf(outLuma, interior, rw, rh, box, region, output, photo, t);
  return {
    deltaEMean: sum / n,
    deltaEP95: p95,
    ssim,
    detailChange,
    occluderShare: occluder / interiorCount,
    lostShare: lost / interiorCount,
    measured: interiorCount,
  };
}

/** White as the whitened-region check means it: bright and nearly grey. */
function isWhite(r: number, g: number, b: number): boolean {
  const low = Math.min(r, g, b);
  return low >= 235 && Math.max(r, g, b) - low <= 14;
}

function grow(rect: Rect, by: number, width: number, height: number): Rect {
  return { left: Math.max(0, rect.left - by), top: Math.max(0, rect.top - by), right: Math.min(width, rect.right + by), bottom: Math.min(height, rect.bottom + by) };
}

function hasAny(flags: Uint8Array, rect: Rect, width: number): boolean {
  for (let y = rect.top; y < rect.bottom; y++) for (let index = y * width + rect.left, end = y * width + rect.right; index < end; index++) if (flags[index]) return true;
  return false;
}

/**
 * Photo pixels that are product-like (neither the photo's backdrop nor white) where the output is
 * white, off the mask's edge band. `whiteOverPhoto` marks the pixels that pass the cheap tests
 * (on the photo, the output white, the photo not white there), made while warping.
 */
function whitenedRegions(rw: number, rh: number, warped: Float32Array, whiteOverPhoto: Uint8Array, band: Uint8Array, photo: Level): Uint8Array {
  const backdrop = borderMedian(photo);
  const backdropLab = new Float32Array(3);
  rgbToLab(backdrop[0]!, backdrop[1]!, backdrop[2]!, backdropLab, 0);
  const candidate = new Uint8Array(rw * rh);
  const lab = new Float32Array(3);
  for (let index = 0; index < candidate.length; index++) {
    if (!whiteOverPhoto[index] || band[index]) continue;
    rgbToLabAt(warped, index * 3, lab, 0);
    const dL = lab[0]! - backdropLab[0]!;
    const da = lab[1]! - backdropLab[1]!;
    const db = lab[2]! - backdropLab[2]!;
    const dab = Math.sqrt(da * da + db * db);
    // A shadow on the backdrop is the backdrop darker (though not black) with its own hue: not a product part.
    if (dab < 10 && dL < 0 && dL > -40) continue;
    if (dL * dL + dab * dab < 400) continue;
    candidate[index] = 1;
  }
  // An opening: specks of a pixel or two are resampling, not a region.
  const opened = dilate(erode(candidate, rw, rh, 1), rw, rh, 1);
  for (let index = 0; index < opened.length; index++) opened[index] = opened[index]! & candidate[index]!;
  return opened;
}

/** For each row of the region, the span [from, to) of the product mask's convex hull (region coordinates). */
function convexHullRows(mask: Uint8Array, width: number, productBox: { left: number; top: number; right: number; bottom: number }, region: { left: number; top: number; right: number; bottom: number }): Array<[number, number]> {
  // Product pixels (at least half product) all lie in the product's box.
  const points: Array<[number, number]> = [];
  for (let y = productBox.top; y < productBox.bottom; y++) {
    let first = -1;
    let last = -1;
    for (let x = productBox.left, at = y * width + productBox.left; x < productBox.right; x++, at++) {
      if (mask[at]! < 128) continue;
      if (first < 0) first = x;
      last = x;
    }
    if (first >= 0) points.push([first, y], [last + 1, y], [first, y + 1], [last + 1, y + 1]);
  }
  const hull = monotoneChain(points);
  // The hull's corners as plain numbers: the row loop below reads each edge once a row.
  const hx = Float64Array.from(hull, (point) => point[0]);
  const hy = Float64Array.from(hull, (point) => point[1]);
  const rows: Array<[number, number]> = [];
  for (let y = region.top; y < region.bottom; y++) {
    const centre = y + 0.5;
    let from = Infinity;
    let to = -Infinity;
    for (let i = 0; i < hx.length; i++) {
      const next = i + 1 === hx.length ? 0 : i + 1;
      const x1 = hx[i]!;
      const y1 = hy[i]!;
      const x2 = hx[next]!;
      const y2 = hy[next]!;
      if ((y1 <= centre && y2 >= centre) || (y2 <= centre && y1 >= centre)) {
        const x = y1 === y2 ? Math.min(x1, x2) : x1 + ((centre - y1) * (x2 - x1)) / (y2 - y1);
        const xEnd = y1 === y2 ? Math.max(x1, x2) : x;
        from = Math.min(from, x);
        to = Math.max(to, xEnd);
      }
    }
    rows.push(from <= to ? [Math.ceil(from) - region.left, Math.floor(to) - region.left] : [0, 0]);
  }
  return rows;
}

function monotoneChain(points: Array<[number, number]>): Array<[number, number]> {
  const sorted = points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length < 3) return sorted;
  const cross = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Array<[number, number]> = [];
  for (const point of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, point) <= 0) lower.pop();
    lower.push(point);
  }
  const upper: Array<[number, number]> = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const point = sorted[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, point) <= 0) upper.pop();
    upper.push(point);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/**
 * Mean SSIM (Wang et al., constants for 8-bit data) over windows centred on `centres`. The
 * window sums slide: per row, the columns' sums over the window's rows are updated by the row
 * entering and the row leaving, then summed along the row the same way (no integral images:
 * five arrays of the region's size each time were most of the cost).
 */
function meanSsim(a: Float32Array, b: Float32Array, centres: Uint8Array, width: number, height: number, rect: Rect): number {
  const r = SSIM_RADIUS;
  const span = 2 * r + 1;
  const share = 1 / (span * span);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  // Window centres: in the rect and at least r from the frame's border (so is every window).
  const yFrom = Math.max(r, rect.top + r);
  const yTo = Math.min(height - r, rect.bottom - r);
  const xFrom = Math.max(r, rect.left + r);
  const xTo = Math.min(width - r, rect.right - r);
  if (yFrom >= yTo || xFrom >= xTo) return 1;
  const left = xFrom - r;
  const columns = xTo + r - left;
  const ca = new Float64Array(columns);
  const cb = new Float64Array(columns);
  const caa = new Float64Array(columns);
  const cbb = new Float64Array(columns);
  const cab = new Float64Array(columns);
  const addRow = (y: number, sign: number) => {
    for (let c = 0, at = y * width + left; c < columns; c++, at++) {
      const va = a[at]!;
      const vb = b[at]!;
      ca[c]! += sign * va;
      cb[c]! += sign * vb;
      caa[c]! += sign * va * va;
      cbb[c]! += sign * vb * vb;
      cab[c]! += sign * va * vb;
    }
  };
  for (let y = yFrom - r; y < yFrom + r; y++) addRow(y, 1);
  let total = 0;
  let windows = 0;
  for (let y = yFrom; y < yTo; y++) {
    addRow(y + r, 1);
    let sa = 0;
    let sb = 0;
    let saa = 0;
    let sbb = 0;
    let sab = 0;
    for (let c = 0; c < span - 1; c++) {
      sa += ca[c]!;
      sb += cb[c]!;
      saa += caa[c]!;
      sbb += cbb[c]!;
      sab += cab[c]!;
    }
    for (let x = xFrom, entering = span - 1, row = y * width; x < xTo; x++, entering++) {
      sa += ca[entering]!;
      sb += cb[entering]!;
      saa += caa[entering]!;
      sbb += cbb[entering]!;
      sab += cab[entering]!;
      if (centres[row + x]) {
        const ma = sa * share;
        const mb = sb * share;
        const va = saa * share - ma * ma;
        const vb = sbb * share - mb * mb;
        const cov = sab * share - ma * mb;
        total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
        windows++;
      }
      const leaving = entering - span + 1;
      sa -= ca[leaving]!;
      sb -= cb[leaving]!;
      saa -= caa[leaving]!;
      sbb -= cbb[leaving]!;
      sab -= cab[leaving]!;
    }
    addRow(y - r, -1);
  }
  return windows ? total / windows : 1;
}

/**
 * Gradient energy per pixel inside the interior: the output's on its grid, the photo's on its
 * own (each photo pixel mapped into the output to ask whether it is interior), the photo's
 * brought to output pixels (a gradient per photo pixel is 1/scale per output pixel).
 */
function detailChangeOf(outLuma: Float32Array, interior: Uint8Array, rw: number, rh: number, box: Rect, region: { left: number; top: number }, output: Level, photo: Level, t: Transform): number {
  const inner = erode(interior, rw, rh, 1, box);
  let outEnergy = 0;
  let outCount = 0;
  for (let y = Math.max(1, box.top); y < Math.min(rh - 1, box.bottom); y++) {
    for (let x = Math.max(1, box.left), index = y * rw + x; x < Math.min(rw - 1, box.right); x++, index++) {
      if (!inner[index]) continue;
      const gx = (outLuma[index + 1]! - outLuma[index - 1]!) / 2;
      const gy = (outLuma[index + rw]! - outLuma[index - rw]!) / 2;
      outEnergy += gx * gx + gy * gy;
      outCount++;
    }
  }
  // Photo level pixel centre -> photo full -> output full -> output level -> region.
  const sx = (t.scale * photo.kx) / output.kx;
  const sy = (t.scale * photo.ky) / output.ky;
  const ox = t.dx / output.kx - region.left;
  const oy = t.dy / output.ky - region.top;
  // Only photo pixels that land in the product's box can be interior: the rows and columns
  // that do, found by inverting the mapping (a pixel either side, for rounding).
  const yFrom = Math.max(1, Math.floor((box.top - oy) / sy - 0.5) - 1);
  const yTo = Math.min(photo.height - 1, Math.ceil((box.bottom - oy) / sy - 0.5) + 1);
  const xFrom = Math.max(1, Math.floor((box.left - ox) / sx - 0.5) - 1);
  const xTo = Math.min(photo.width - 1, Math.ceil((box.right - ox) / sx - 0.5) + 1);
  let photoEnergy = 0;
  let photoCount = 0;
  const { luma, width } = photo;
  for (let y = yFrom; y < yTo; y++) {
    const ry = Math.floor((y + 0.5) * sy + t.dy / output.ky) - region.top;
    if (ry < 0 || ry >= rh) continue;
    for (let x = xFrom; x < xTo; x++) {
      const rx = Math.floor((x + 0.5) * sx + t.dx / output.kx) - region.left;
      if (rx < 0 || rx >= rw || !inner[ry * rw + rx]) continue;
      const index = y * width + x;
      const gx = (luma[index + 1]! - luma[index - 1]!) / 2;
      const gy = (luma[index + width]! - luma[index - width]!) / 2;
      photoEnergy += gx * gx + gy * gy;
      photoCount++;
    }
  }
  if (!outCount || !photoCount) return 0;
  // A flat product has next to no energy: a floor of about one level of gradient keeps noise from reading as detail.
  const floor = 1;
  const outDensity = outEnergy / outCount + floor;
  const photoDensity = photoEnergy / photoCount / ((sx + sy) / 2) ** 2 + floor;
  return outDensity / photoDensity - 1;
}

/**
 * Erosion by the 4-neighbourhood, `radius` times; the frame's border pixels become 0. With
 * `within`, every set pixel of `source` is inside it, so nothing outside it can be set.
 */
function erode(source: Uint8Array, width: number, height: number, radius: number, within: Rect = { left: 0, top: 0, right: width, bottom: height }): Uint8Array {
  let current = source;
  const yFrom = Math.max(1, within.top);
  const yTo = Math.min(height - 1, within.bottom);
  const xFrom = Math.max(1, within.left);
  const xTo = Math.min(width - 1, within.right);
  for (let pass = 0; pass < radius; pass++) {
    const next = new Uint8Array(current.length);
    for (let y = yFrom; y < yTo; y++) {
      for (let x = xFrom, index = y * width + xFrom; x < xTo; x++, index++) {
        next[index] = current[index]! & current[index - 1]! & current[index + 1]! & current[index - width]! & current[index + width]!;
      }
    }
    current = next;
  }
  return current;
}

/** Dilation by the 4-neighbourhood, `radius` times. With `within`, every set pixel of `source` is inside it; each pass reaches a pixel further. */
function dilate(source: Uint8Array, width: number, height: number, radius: number, within: Rect = { left: 0, top: 0, right: width, bottom: height }): Uint8Array {
  let current = source;
  let reach = within;
  for (let pass = 0; pass < radius; pass++) {
    reach = grow(reach, 1, width, height);
    const next = new Uint8Array(current.length);
    for (let y = reach.top; y < reach.bottom; y++) {
      for (let x = reach.left, index = y * width + reach.left; x < reach.right; x++, index++) {
        next[index] = current[index]! | (x > 0 ? current[index - 1]! : 0) | (x < width - 1 ? current[index + 1]! : 0) | (y > 0 ? current[index - width]! : 0) | (y < height - 1 ? current[index + width]! : 0);
      }
    }
    current = next;
  }
  return current;
}
