/**
 * Colour difference as a person sees it: sRGB to CIELAB (D65) and CIEDE2000. A plain RGB
 * distance would call a small shift in a dark blue as large as a glaring one in a light yellow;
 * ΔE2000 is about 1 where a trained eye starts to see a difference.
 */

/** sRGB levels to linear light, once: the conversion runs over every measured pixel. */
const LINEAR = new Float64Array(256);
for (let level = 0; level < 256; level++) {
  const c = level / 255;
  LINEAR[level] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

const EPSILON = 216 / 24389;
const KAPPA = 24389 / 27;
const labF = (t: number) => (t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116);

/** Writes L, a, b of an sRGB colour (channels 0..255, fractions allowed) into `out` at `at`. */
export function rgbToLab(r: number, g: number, b: number, out: Float32Array, at: number): void {
  RGB[0] = r;
  RGB[1] = g;
  RGB[2] = b;
  rgbToLabAt(RGB, 0, out, at);
}
const RGB = new Float64Array(3);

/**
 * The same, reading the colour from `rgb` at `offset`. The measuring loop uses this form: colours
 * passed as numbers from one function to another that is not inlined are each put on the heap,
 * and tens of thousands of pixels made most of the measurement's garbage.
 */
export function rgbToLabAt(rgb: ArrayLike<number>, offset: number, out: Float32Array, at: number): void {
  const lr = linear(rgb[offset]!);
  const lg = linear(rgb[offset + 1]!);
  const lb = linear(rgb[offset + 2]!);
  const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047;
  const y = 0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb;
  const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / 1.08883;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  out[at] = 116 * fy - 16;
  out[at + 1] = 500 * (fx - fy);
  out[at + 2] = 200 * (fy - fz);
}

/** ΔE2000 between the sRGB colours of `a` at `aAt` and of `b` at `bAt` (Lab held as 32-bit floats, as `rgbToLab` writes them). */
export function deltaE2000Rgb(a: ArrayLike<number>, aAt: number, b: ArrayLike<number>, bAt: number): number {
  rgbToLabAt(a, aAt, LAB, 0);
  rgbToLabAt(b, bAt, LAB, 3);
  return deltaE2000Of(LAB);
}
const LAB = new Float32Array(6);

/** Interpolated between table entries: resampled pixels are fractional levels. */
function linear(level: number): number {
  if (level <= 0) return 0;
  if (level >= 255) return 1;
  const low = Math.floor(level);
  const share = level - low;
  return LINEAR[low]! * (1 - share) + LINEAR[low + 1]! * share;
}

const DEG = Math.PI / 180;
const POW25_7 = 25 ** 7;

/** CIEDE2000 (Sharma, Wu and Dalal's formulation; kL = kC = kH = 1). */
export function deltaE2000(l1: number, a1: number, b1: number, l2: number, a2: number, b2: number): number {
  PAIR[0] = l1;
  PAIR[1] = a1;
  PAIR[2] = b1;
  PAIR[3] = l2;
  PAIR[4] = a2;
  PAIR[5] = b2;
  return deltaE2000Of(PAIR);
}
const PAIR = new Float64Array(6);

const COS30 = Math.cos(30 * DEG);
const SIN30 = Math.sin(30 * DEG);
const COS6 = Math.cos(6 * DEG);
const SIN6 = Math.sin(6 * DEG);
const COS63 = Math.cos(63 * DEG);
const SIN63 = Math.sin(63 * DEG);

/** CIEDE2000 of the Lab pair `lab` (L1, a1, b1, L2, a2, b2). */
function deltaE2000Of(lab: ArrayLike<number>): number {
  const l1 = lab[0]!;
  const a1 = lab[1]!;
  const b1 = lab[2]!;
  const l2 = lab[3]!;
  const a2 = lab[4]!;
  const b2 = lab[5]!;
  // Powers and hypotenuses written out: this runs tens of thousands of times a picture, and
  // Math.hypot and ** are several times slower than the products.
  const c1 = Math.sqrt(a1 * a1 + b1 * b1);
  const c2 = Math.sqrt(a2 * a2 + b2 * b2);
  const cMean7 = pow7((c1 + c2) / 2);
  const g = 0.5 * (1 - Math.sqrt(cMean7 / (cMean7 + POW25_7)));
  const a1p = (1 + g) * a1;
  const a2p = (1 + g) * a2;
  const c1p = Math.sqrt(a1p * a1p + b1 * b1);
  const c2p = Math.sqrt(a2p * a2p + b2 * b2);
  const h1p = hueAngle(b1, a1p);
  const h2p = hueAngle(b2, a2p);
  const dLp = l2 - l1;
  const dCp = c2p - c1p;
  let dhp = 0;
  if (c1p * c2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(c1p * c2p) * Math.sin((dhp / 2) * DEG);
  const lMean = (l1 + l2) / 2;
  const cMeanP = (c1p + c2p) / 2;
  let hMean = h1p + h2p;
  if (c1p * c2p !== 0) {
    if (Math.abs(h1p - h2p) <= 180) hMean /= 2;
    else hMean = hMean < 360 ? (hMean + 360) / 2 : (hMean - 360) / 2;
  }
  // T's four cosines (of h - 30, 2h, 3h + 6 and 4h - 63 degrees) from one cosine and sine of h.
  const cos1 = Math.cos(hMean * DEG);
  const sin1 = Math.sin(hMean * DEG);
  const cos2 = 2 * cos1 * cos1 - 1;
  const sin2 = 2 * sin1 * cos1;
  const cos3 = cos2 * cos1 - sin2 * sin1;
  const sin3 = sin2 * cos1 + cos2 * sin1;
  const cos4 = 2 * cos2 * cos2 - 1;
  const sin4 = 2 * sin2 * cos2;
  const t = 1 - 0.17 * (cos1 * COS30 + sin1 * SIN30) + 0.24 * cos2 + 0.32 * (cos3 * COS6 - sin3 * SIN6) - 0.2 * (cos4 * COS63 + sin4 * SIN63);
  const hueOffset = (hMean - 275) / 25;
  const dTheta = 30 * Math.exp(-(hueOffset * hueOffset));
  const cMeanP7 = pow7(cMeanP);
  const rc = 2 * Math.sqrt(cMeanP7 / (cMeanP7 + POW25_7));
  const lShift = (lMean - 50) * (lMean - 50);
  const sl = 1 + (0.015 * lShift) / Math.sqrt(20 + lShift);
  const sc = 1 + 0.045 * cMeanP;
  const sh = 1 + 0.015 * cMeanP * t;
  const rt = -Math.sin(2 * dTheta * DEG) * rc;
  const lTerm = dLp / sl;
  const cTerm = dCp / sc;
  const hTerm = dHp / sh;
  return Math.sqrt(lTerm * lTerm + cTerm * cTerm + hTerm * hTerm + rt * cTerm * hTerm);
}

function pow7(value: number): number {
  const squared = value * value;
  return squared * squared * squared * value;
}

function hueAngle(b: number, a: number): number {
  if (a === 0 && b === 0) return 0;
  const angle = Math.atan2(b, a) / DEG;
  return angle < 0 ? angle + 360 : angle;
}
