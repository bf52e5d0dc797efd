import { borderMedian, reduceLuma, type Level } from './levels';

/**
 * Registration: where the seller's photo lies in the AI output. The model regenerates the whole
 * picture at a size and framing of its own, so the output is the photo scaled and shifted
 * (`output = scale * photo + (dx, dy)`, in full-size pixels of each, pixel edges at integers).
 *
 * Found by matching, coarse to fine: first guesses from the product's silhouettes (bounding
 * boxes and centres) and from the usual framings (fit to width or height, centred); the best
 * is refined by a pattern search on a coarse luma image, then on the measuring level, down to
 * a twentieth of a level pixel. The score is the normalised cross-correlation of luma around
 * the product: insensitive to a change of brightness or contrast (a recoloured product still
 * registers), and the confidence reported is that correlation at the optimum.
 */
export interface Transform {
  scale: number;
  dx: number;
  dy: number;
}
export interface Registration extends Transform {
  confidence: number;
}

type LumaLevel = Pick<Level, 'luma' | 'width' | 'height' | 'kx' | 'ky'>;
interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * The output pixels compared: around the product, where the match is decided. Kept by rows
 * (points `rowStart[r]` to `rowStart[r + 1]` lie on row centre `rowY[r]`), so a score samples
 * each row's position in the photo once.
 */
interface Points {
  x: Float32Array;
  value: Float32Array;
  rowY: Float32Array;
  rowStart: Int32Array;
  rows: number;
  count: number;
}

const COARSE_FACTOR = 4;

export function register(
  output: Level, mask: Uint8Array, photo: Level, outputFull: { width: number; height: number }, photoFull: { width: number; height: number },
): Registration {
  const productBox = boxOfMask(mask, output.width, output.height);
  if (!productBox) return { scale: outputFull.width / photoFull.width, dx: 0, dy: 0, confidence: 0 };
  const fullBox = { left: productBox.left * output.kx, top: productBox.top * output.ky, right: productBox.right * output.kx, bottom: productBox.bottom * output.ky };
  const centre = { x: (fullBox.left + fullBox.right) / 2, y: (fullBox.top + fullBox.bottom) / 2 };
  const size = Math.max(fullBox.right - fullBox.left, fullBox.bottom - fullBox.top);

  const guesses = firstGuesses(fullBox, photo, outputFull, photoFull);
  const coarseOut = reduceLuma(output, COARSE_FACTOR);
  const coarsePhoto = reduceLuma(photo, COARSE_FACTOR);
  const coarsePoints = pointsAround(coarseOut, expand(scaleBox(productBox, 1 / COARSE_FACTOR), 0.15, coarseOut), 1);
  const coarseScore = (t: Transform) => correlation(coarsePoints, coarseOut, coarsePhoto, t);
  const ranked = guesses.map((t) => ({ t, score: coarseScore(t) })).sort((a, b) => b.score - a.score).slice(0, 3);
  // Framings can coincide (fit to width and to height, for a photo of the output's shape): a start searched once.
  const starts = ranked.filter((start, i) => ranked.findIndex((other) => other.t.scale === start.t.scale && other.t.dx === start.t.dx && other.t.dy === start.t.dy) === i);
  
  let best = { t: ranked[0]!.t, score: -Infinity };
  for (const start of starts) {
    const found = patternSearch(coarseScore, start.t, centre, size, 2 * coarseOut.kx, 0.25 * coarseOut.kx);
    if (found.score > best.score) best = found;
  }
  // Fine: only the pixels that carry the match (edges, texture) and a sparse grid of the rest.
  const finePoints = pointsAround(output, expand(productBox, 0.1, output), 3);
  const fineScore = (t: Transform) => correlation(finePoints, output, photo, t);
  const fine = patternSearch(fineScore, best.t, centre, size, 1 * output.kx, 0.05 * output.kx);
  const refined = parabolic(fineScore, fine, centre, size, 0.25 * output.kx);
  return { ...refined.t, confidence: Math.max(0, refined.score) };
}

function firstGuesses(box: Box, photo: Level, outputFull: { width: number; height: number }, photoFull: { width: number; height: number }): Transform[] {
  const guesses: Transform[] = [];
  const fitWidth = outputFull.width / photoFull.width;
  const fitHeight = outputFull.height / photoFull.height;
  guesses.push({ scale: fitWidth, dx: 0, dy: (outputFull.height - fitWidth * photoFull.height) / 2 });
  guesses.push({ scale: fitHeight, dx: (outputFull.width - fitHeight * photoFull.width) / 2, dy: 0 });
  const silhouette = photoSilhouette(photo);
  if (silhouette) {
    const photoBox = { left: silhouette.left * photo.kx, top: silhouette.top * photo.ky, right: silhouette.right * photo.kx, bottom: silhouette.bottom * photo.ky };
    const byWidth = (box.right - box.left) / Math.max(1, photoBox.right - photoBox.left);
    const byHeight = (box.bottom - box.top) / Math.max(1, photoBox.bottom - photoBox.top);
    for (const scale of [byWidth, byHeight, (byWidth + byHeight) / 2]) {
      if (!Number.isFinite(scale) || scale <= 0) continue;
      guesses.push({
        scale,
        dx: (box.left + box.right) / 2 - (scale * (photoBox.left + photoBox.right)) / 2,
        dy: (box.top + box.bottom) / 2 - (scale * (photoBox.top + photoBox.bottom)) / 2,
      });
    }
  }
  return guesses;
}

/**
 * What of the photo is not its backdrop (the median colour of its border), as a box between
 * the 1st and 99th percentiles: a first guess only, so a busy backdrop costs a guess, not the match.
 */
function photoSilhouette(photo: Level): Box | null {
  const { rgb, width, height } = photo;
  const backdrop = borderMedian(photo);
  const columns = new Uint32Array(width);
  const rows = new Uint32Array(height);
  let total = 0;
  for (let y = 0, offset = 0; y < height; y++) {
    for (let x = 0; x < width; x++, offset += 3) {
      const distance = Math.max(Math.abs(rgb[offset]! - backdrop[0]!), Math.abs(rgb[offset + 1]! - backdrop[1]!), Math.abs(rgb[offset + 2]! - backdrop[2]!));
      if (distance > 40) {
        columns[x]!++;
        rows[y]!++;
        total++;
      }
    }
  }
  if (total < 16) return null;
  const span = (histogram: Uint32Array): [number, number] => {
    let seen = 0;
    let low = 0;
    let high = histogram.length - 1;
    for (let i = 0; i < histogram.length; i++) {
      seen += histogram[i]!;
      if (seen >= total * 0.01) {
        low = i;
        break;
      }
    }
    seen = 0;
    for (let i = histogram.length - 1; i >= 0; i--) {
      seen += histogram[i]!;
      if (seen >= total * 0.01) {
        high = i;
        break;
      }
    }
    return [low, high + 1];
  };
  const [left, right] = span(columns);
  const [top, bottom] = span(rows);
  return { left, top, right, bottom };
}

/**
 * Compass search over (scale, dx, dy): each of the six moves tried, the best taken, the step
 * halved when none helps. Scale moves are about the product's centre, so a scale step does not
 * also move the product and the three parameters are found independently.
 */
function patternSearch(score: (t: Transform) => number, start: Transform, centre: { x: number; y: number }, size: number, step: number, minStep: number): { t: Transform; score: number } {
  let best = start;
  let bestScore = score(start);
  let evaluations = 1;
  // The move that would undo the last one taken leads back to a point already beaten: not scored again.
  let undo = -1;
  while (step >= minStep && evaluations < 400) {
    let next: Transform | null = null;
    let nextMove = -1;
    let nextScore = bestScore;
    const factor = 1 + step / Math.max(1, size / 2);
    const moves: Transform[] = [
      aboutCentre(best, factor, centre),
      aboutCentre(best, 1 / factor, centre),
      { ...best, dx: best.dx + step },
      { ...best, dx: best.dx - step },
      { ...best, dy: best.dy + step },
      { ...best, dy: best.dy - step },
    ];
    for (let move = 0; move < moves.length; move++) {
      if (move === undo) continue;
      const value = score(moves[move]!);
      evaluations++;
      if (value > nextScore) {
        nextScore = value;
        next = moves[move]!;
        nextMove = move;
      }
    }
    if (next) {
      best = next;
      bestScore = nextScore;
      // Moves come in pairs (0, 1), (2, 3), (4, 5): the undoing move is the other of the pair.
      undo = nextMove ^ 1;
    } else {
      step /= 2;
      undo = -1;
    }
  }
  return { t: best, score: bestScore };
}

/**
 * Below the search's last step: each parameter moved to the top of the parabola through its
 * score at -h, 0 and +h (the score is smooth near its peak), kept only if the score agrees.
 */
function parabolic(score: (t: Transform) => number, found: { t: Transform; score: number }, centre: { x: number; y: number }, size: number, h: number): { t: Transform; score: number } {
  const factor = 1 + h / Math.max(1, size / 2);
  const offset = (minus: number, plus: number) => {
    const curvature = minus + plus - 2 * found.score;
    return curvature < 0 ? Math.max(-1, Math.min(1, (minus - plus) / (2 * curvature))) : 0;
  };
  const sScale = offset(score(aboutCentre(found.t, 1 / factor, centre)), score(aboutCentre(found.t, factor, centre)));
  const sx = offset(score({ ...found.t, dx: found.t.dx - h }), score({ ...found.t, dx: found.t.dx + h }));
  const sy = offset(score({ ...found.t, dy: found.t.dy - h }), score({ ...found.t, dy: found.t.dy + h }));
  const moved = aboutCentre(found.t, factor ** sScale, centre);
  const candidate = { ...moved, dx: moved.dx + sx * h, dy: moved.dy + sy * h };
  const value = score(candidate);
  return value >= found.score ? { t: candidate, score: value } : found;
}

function aboutCentre(t: Transform, factor: number, centre: { x: number; y: number }): Transform {
  return { scale: t.scale * factor, dx: factor * (t.dx - centre.x) + centre.x, dy: factor * (t.dy - centre.y) + centre.y };
}

/**
 * Normalised cross-correlation between the output's points and the photo sampled where the
 * transform puts them (bilinear). Points falling off the photo count against the match.
 */
function correlation(points: Points, output: LumaLevel, photo: LumaLevel, t: Transform): number {
  // Output level pixel centre (x) -> output full (x*kx) -> photo full ((X - dx)/scale) -> photo level index.
  const ax = output.kx / (t.scale * photo.kx);
  const bx = -t.dx / (t.scale * photo.kx) - 0.5;
  const ay = output.ky / (t.scale * photo.ky);
  const by = -t.dy / (t.scale * photo.ky) - 0.5;
  const { luma, width, height } = photo;
  const { x: xs, value: values, rowY, rowStart } = points;
  const maxU = width - 1;
  const maxV = height - 1;
  const lastX = width - 2;
  const lastY = height - 2;
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let r = 0; r < points.rows; r++) {
    const v = rowY[r]! * ay + by;
    if (v < 0 || v > maxV) continue;
    // v and u are non-negative here: truncation is the floor.
    const y0 = Math.min(lastY, v | 0);
    const fy = v - y0;
    const above = y0 * width;
    const below = above + width;
    for (let i = rowStart[r]!, end = rowStart[r + 1]!; i < end; i++) {
      const u = xs[i]! * ax + bx;
      if (u < 0 || u > maxU) continue;
      const x0 = Math.min(lastX, u | 0);
      const fx = u - x0;
      const l00 = luma[above + x0]!;
      const l10 = luma[below + x0]!;
      const top = l00 + (luma[above + x0 + 1]! - l00) * fx;
      const bottom = l10 + (luma[below + x0 + 1]! - l10) * fx;
      const b = top + (bottom - top) * fy;
      const a = values[i]!;
      n++;
      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
    }
  }
  if (n < 16) return -1;
  const covariance = sab - (sa * sb) / n;
  const variance = (saa - (sa * sa) / n) * (sbb - (sb * sb) / n);
  if (variance <= 0) return -1;
  return (covariance / Math.sqrt(variance)) * (n / points.count);
}

/** Pixel centres in the box; with `stride` above 1, every pixel with a gradient and a sparse grid of the flat ones. */
function pointsAround(level: LumaLevel, box: Box, stride: number): Points {
  const capacity = Math.max(0, (box.right - box.left) * (box.bottom - box.top));
  const rowCapacity = Math.max(0, box.bottom - box.top);
  const x = new Float32Array(capacity);
  const value = new Float32Array(capacity);
  const rowY = new Float32Array(rowCapacity);
  const rowStart = new Int32Array(rowCapacity + 1);
  let count = 0;
  let rows = 0;
  const { luma, width, height } = level;
  for (let row = box.top; row < box.bottom; row++) {
    const first = count;
    for (let column = box.left; column < box.right; column++) {
      const index = row * width + column;
      if (stride > 1 && (row % stride !== 0 || column % stride !== 0)) {
        if (column === 0 || row === 0 || column === width - 1 || row === height - 1) continue;
        const gradient = Math.abs(luma[index + 1]! - luma[index - 1]!) + Math.abs(luma[index + width]! - luma[index - width]!);
        if (gradient < 8) continue;
      }
      x[count] = column + 0.5;
      value[count] = luma[index]!;
      count++;
    }
    if (count === first) continue;
    rowY[rows] = row + 0.5;
    rowStart[rows] = first;
    rows++;
    rowStart[rows] = count;
  }
  return { x, value, rowY, rowStart, rows, count };
}

export function boxOfMask(mask: Uint8Array, width: number, height: number): Box | null {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0, index = 0; y < height; y++) {
    for (let x = 0; x < width; x++, index++) {
      if (mask[index]! < 128) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  return right < 0 ? null : { left, top, right: right + 1, bottom: bottom + 1 };
}

function scaleBox(box: Box, factor: number): Box {
  return { left: Math.floor(box.left * factor), top: Math.floor(box.top * factor), right: Math.ceil(box.right * factor), bottom: Math.ceil(box.bottom * factor) };
}

export function expand(box: Box, share: number, level: { width: number; height: number }): Box {
  const mx = Math.round((box.right - box.left) * share);
  const my = Math.round((box.bottom - box.top) * share);
  return {
    left: Math.max(0, box.left - mx),
    top: Math.max(0, box.top - my),
    right: Math.min(level.width, box.right + mx),
    bottom: Math.min(level.height, box.bottom + my),
  };
}
