import { pictureLine } from './report';
import type { Progress } from './follow-job';

type Picture = Progress['images'][number];

const drift = {
  verdict: 'major' as const, registration: { scale: 1, dx: 0, dy: 0, confidence: 0.9 }, delta_e_mean: 12.34, delta_e_p95: 20.5, ssim: 0.712,
  detail_change: -0.25, product_pixels: 'ai' as const, product_pixels_reason: 'the output did not register to the photo', retries: 1,
};

test('a delivered picture shows its id, names, the rule it breaks and its drift report', () => {
  const picture: Picture = {
    image_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d', filename: 'mug.jpeg', output_name: 'mug.png', status: 'done', shadow: 'drop', charged: true,
    compliance: {
      pipeline: 'amazon', width: 2000, height: 2000, format: 'png', bytes: 1000, pure_white_border: true, coverage: 0.6, passed: false, drift,
      rules: [{ rule: 'coverage', pass: false, expected: '>= 0.85', actual: '0.60' }, { rule: 'size', pass: true, expected: '2000x2000', actual: '2000x2000' }],
    },
  };
  expect(pictureLine(picture).split('\t')).toEqual([
    '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d', 'mug.jpeg -> mug.png', 'done', 'checks FAIL: coverage (expected >= 0.85, got 0.60)',
    'drift major (colour ΔE 12.3, p95 20.5; structure SSIM 0.71; detail -25%; product pixels from the AI output: the output did not register to the photo)',
    'shadow drop',
  ]);
});

test('a picture not delivered says why and that it was not charged', () => {
  const picture: Picture = { image_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5e', filename: 'broken.jpg', status: 'failed', error: { code: 'corrupt_image', message: 'cannot be read' } };
  expect(pictureLine(picture)).toBe('9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5e\tbroken.jpg\tfailed\tcorrupt_image: cannot be read\tnot charged');
});
