import sharp from 'sharp';
import request from 'supertest';
import { getBinary, inspectPicture } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * The manual editor: a seller changes a finished picture's settings and gets it made again from
 * its stored cutout, with no AI call and no charge. Nobody else can.
 */
jest.setTimeout(120_000);

let stack: TestStack;
let api: ReturnType<typeof request>;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '30' } });
  api = request(stack.gatewayUrl);
});
cleanUpAfter(() => stack);
test('a finished picture is rendered again as PNG with a drop shadow: no AI call, no charge, the new picture is the one served', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'editor@example.com');
  const jobId = await seller.upload(await distinctPhotos(1, 900, 800));
  await seller.process(jobId, 'shopify');
  const done = await seller.waitUntilFinished(jobId, 60_000);
  const imageId = done.images[0]!.image_id;
  const before = (await getBinary(api, `/api/v1/images/${imageId}/result`, seller.token).expect(200)).body as Buffer;
  const paidCalls = stack.sim.stats.requests;
  const balance = await seller.balance();

  const answer = await api
    .post('/api/v1/manual-editor/render')
    .set('authorization', `Bearer ${seller.token}`)
    .send({ image_id: imageId, settings: { format: 'png', shadow: { type: 'drop', opacity: 0.6, angle: 45, distance: 40, blur: 12 } } })
    .expect(200);
  expect(answer.body).toEqual({ image_id: imageId, result_url: `/api/v1/images/${imageId}/result` });

  const after = (await getBinary(api, answer.body.result_url, seller.token).expect(200)).body as Buffer;
  expect((await sharp(before).metadata()).format).toBe('jpeg');
  expect((await sharp(after).metadata()).format).toBe('png');
  expect(stack.sim.stats.requests).toBe(paidCalls);
  expect(await seller.balance()).toEqual(balance);

  // The product is centred; its shadow falls down and to the right, so what is not white reaches
  // further right than left of the centre, and further down than up. Before, it was symmetric.
  const extents = async (bytes: Buffer) => {
    const { width, height, box } = await inspectPicture(bytes);
    return { right: box!.left + box!.width - width / 2 - (width / 2 - box!.left), down: box!.top + box!.height - height / 2 - (height / 2 - box!.top) };
  };
  const plain = await extents(before);
  const shadowed = await extents(after);
  expect(Math.abs(plain.right)).toBeLessThanOrEqual(4);
  expect(shadowed.right).toBeGreaterThan(20);
  expect(shadowed.down).toBeGreaterThan(plain.down + 20);

  const progress = await seller.progress(jobId);
  expect(progress.images[0]).toMatchObject({ status: 'done', charged: true });
  expect((progress.images[0] as unknown as { shadow: string; output_name: string })).toMatchObject({ shadow: 'drop', output_name: expect.stringMatching(/\.png$/) });
});

test('bad settings are refused naming the field, and another seller gets 404', async () => {
  const owner = await Seller.register(stack.gatewayUrl, 'owner-edit@example.com');
  const stranger = await Seller.register(stack.gatewayUrl, 'stranger-edit@example.com');
  const jobId = await owner.upload(await distinctPhotos(1, 950));
  await owner.process(jobId, 'amazon');
  const imageId = (await owner.waitUntilFinished(jobId, 60_000)).images[0]!.image_id;

  const bad = await api.post('/api/v1/manual-editor/render').set('authorization', `Bearer ${owner.token}`).send({ image_id: imageId, settings: { background: '#000000' } }).expect(400);
  expect(bad.body.error).toMatchObject({ code: 'invalid_settings', field: 'settings.background' });
  await api.post('/api/v1/manual-editor/render').set('authorization', `Bearer ${stranger.token}`).send({ image_id: imageId, settings: {} }).expect(404);
  await api.post('/api/v1/manual-editor/render').send({ image_id: imageId, settings: {} }).expect(401);
});
