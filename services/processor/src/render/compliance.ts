import sharp from 'sharp';
import type { ComplianceReport, ComplianceRule, RenderSpec } from '@masterpost/contracts';
import { parseHex } from './compose';
import { productLimits } from './layout';
import type { Box } from './mask';

/**
 * What a marketplace would check, measured on the encoded bytes we deliver (not on what we
 * meant to encode): size, format, file size, a pure background border and the product's
 * coverage. Shown per picture in the progress API and the ZIP's manifest.
 */
export type { ComplianceReport, ComplianceRule };

export async function checkCompliance(bytes: Buffer, spec: RenderSpec, product: Box): Promise<ComplianceReport> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const format = (await sharp(bytes).metadata()).format ?? 'unknown';
  const [br, bg, bb] = parseHex(spec.background);
  const white = br === 255 && bg === 255 && bb === 255;
  // JPEG cannot keep a non-white flat colour exact; a small tolerance there, none for white.
  const tolerance = white ? 0 : 3;
  let borderClean = true;
  const check = (x: number, y: number) => {
    const offset = (y * info.width + x) * info.channels;
    if (
      Math.abs(data[offset]! - br) > tolerance ||
      Math.abs(data[offset + 1]! - bg) > tolerance ||
      Math.abs(data[offset + 2]! - bb) > tolerance
    ) {
      borderClean = false;
    }
  };
  for (let x = 0; x < info.width && borderClean; x++) {
    check(x, 0);
    check(x, info.height - 1);
  }
  for (let y = 0; y < info.height && borderClean; y++) {
    check(0, y);
    check(info.width - 1, y);
  }
  const limits = productLimits(spec);
  const coverage = Math.round(Math.max(product.width / info.width, product.height / info.height) * 1000) / 1000;
  const expectedFormat = spec.format === 'jpeg' ? 'jpeg' : spec.format;
  const rules: ComplianceRule[] = [
    {
      rule: 'size',
      pass: info.width === spec.canvas.width && info.height === spec.canvas.height,
      expected: `${spec.canvas.width}x${spec.canvas.height}`,
      actual: `${info.width}x${info.height}`,
    },
    { rule: 'format', pass: format === expectedFormat, expected: expectedFormat, actual: format },
    { rule: 'max_bytes', pass: bytes.length <= spec.maxBytes, expected: `<= ${spec.maxBytes}`, actual: String(bytes.length) },
    white
      ? { rule: 'pure_white_border', pass: borderClean, expected: '255,255,255 on every border pixel', actual: borderClean ? 'pure white' : 'not pure white' }
      : { rule: 'background_border', pass: borderClean, expected: `${spec.background} on every border pixel`, actual: borderClean ? 'clean' : 'not clean' },
    {
      rule: 'coverage',
      // The product must reach the largest box it may fill (coverage, or the safe area where it
      // is smaller) on one side; one pixel of rounding is all the slack there is.
      pass: product.width >= limits.maxWidth - 1 || product.height >= limits.maxHeight - 1,
      expected: `>= ${spec.coverage}`,
      actual: String(coverage),
    },
  ];
  return {
    pipeline: spec.pipeline,
    width: info.width,
    height: info.height,
    format,
    bytes: bytes.length,
    pure_white_border: white && borderClean,
    coverage,
    rules,
    passed: rules.every((rule) => rule.pass),
  };
}
