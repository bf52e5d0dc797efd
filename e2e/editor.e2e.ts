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

/** The served mask with its right half painted black (an "erase" stroke), sent at half scale. */
async function eraseRightHalf(mask: Buffer): Promise<Buffer> {
  const { width, height } = await sharp(mask).metadata();
  const black = await sharp({ create: { width: Math.ceil(width! / 2), height: height!, channels: 3, background: '#000000' } }).png().toBuffer();
  const erased = await sharp(mask).composite([{ input: black, left: Math.floor(width! / 2), top: 0 }]).png().toBuffer();
  return sharp(erased)
    .resize({ width: Math.round(width! / 2), height: Math.round(height! / 2), fit: 'fill' })
    .png()
    .toBuffer();
}

test('mask: the seller erases half the product; the picture is cut out again along their mask, keeps their last settings, no AI call, no charge', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'mask@example.com');
  const jobId = await seller.upload(await distinctPhotos(1, 700, 800));
  await seller.process(jobId, 'shopify');
  const imageId = (await seller.waitUntilFinished(jobId, 60_000)).images[0]!.image_id;
  const mask = (await getBinary(api, `/api/v1/images/${imageId}/mask`, seller.token).expect(200)).body as Buffer;
  expect((await sharp(mask).metadata()).format).toBe('png');

  // An earlier edit chose PNG; the mask edit, with no settings of its own, keeps it.
  await api.post('/api/v1/manual-editor/render').set('authorization', `Bearer ${seller.token}`).send({ image_id: imageId, settings: { format: 'png' } }).expect(200);
  const before = await inspectPicture((await getBinary(api, `/api/v1/images/${imageId}/result`, seller.token).expect(200)).body as Buffer);
  const paidCalls = stack.sim.stats.requests;
  const balance = await seller.balance();

  const answer = await api
    .post('/api/v1/manual-editor/mask')
    .set('authorization', `Bearer ${seller.token}`)
    .field('image_id', imageId)
    .attach('mask', await eraseRightHalf(mask), 'strokes.png')
    .expect(200);
  expect(answer.body).toEqual({ image_id: imageId, result_url: `/api/v1/images/${imageId}/result`, mask_url: `/api/v1/images/${imageId}/mask` });

  const after = await inspectPicture((await getBinary(api, answer.body.result_url, seller.token).expect(200)).body as Buffer);
  expect(after.format).toBe('png');
  // What is left of the product is scaled to the same coverage: as tall as before (to the
  // pixel or so a half-scale mask blurs its edge by), and narrower, since only its left half is left.
  expect(Math.abs(after.box!.height - before.box!.height)).toBeLessThanOrEqual(before.box!.height * 0.015);
  expect(after.box!.width).toBeLessThan(before.box!.width * 0.75);
  expect(stack.sim.stats.requests).toBe(paidCalls);
  expect(await seller.balance()).toEqual(balance);

  // The stored mask is now the seller's: its right half holds no product (past the few pixels
  // that scaling the half-size mask up softens its edge by).
  const stored = await sharp((await getBinary(api, answer.body.mask_url, seller.token).expect(200)).body as Buffer).greyscale().raw().toBuffer({ resolveWithObject: true });
  let productRight = 0;
  for (let y = 0; y < stored.info.height; y++) {
    for (let x = Math.ceil(stored.info.width / 2) + 4; x < stored.info.width; x++) if (stored.data[(y * stored.info.width + x) * stored.info.channels]! > 0) productRight++;
  }
  expect(productRight).toBe(0);
});

test('mask: what is not a usable mask is refused naming the field, another seller gets 404, and the picture is unchanged', async () => {
  const owner = await Seller.register(stack.gatewayUrl, 'mask-owner@example.com');
  const stranger = await Seller.register(stack.gatewayUrl, 'mask-stranger@example.com');
  const jobId = await owner.upload(await distinctPhotos(1, 720, 800));
  await owner.process(jobId, 'amazon');
  const imageId = (await owner.waitUntilFinished(jobId, 60_000)).images[0]!.image_id;
  const mask = (await getBinary(api, `/api/v1/images/${imageId}/mask`, owner.token).expect(200)).body as Buffer;
  const { width, height } = await sharp(mask).metadata();
  const result = (await getBinary(api, `/api/v1/images/${imageId}/result`, owner.token).expect(200)).body as Buffer;
  const balance = await owner.balance();

  const send = (token: string, fields: Record<string, string>, file?: Buffer) => {
    let req = api.post('/api/v1/manual-editor/mask').set('authorization', `Bearer ${token}`);
    for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
    return file ? req.attach('mask', file, 'mask.png') : req;
  };
  const refusal = async (fields: Record<string, string>, file: Buffer | undefined, code: string, field: string) => {
    const answer = await send(owner.token, fields, file).expect(400);
    expect(answer.body.error).toMatchObject({ code, field });
    return answer.body.error.message as string;
  };
  const jpeg = await sharp(mask).jpeg().toBuffer();
  const tall = await sharp({ create: { width: 100, height: 300, channels: 3, background: '#ffffff' } }).png().toBuffer();
  const black = await sharp({ create: { width: width!, height: height!, channels: 3, background: '#000000' } }).png().toBuffer();

  expect(await refusal({ image_id: imageId }, jpeg, 'invalid_mask', 'mask')).toMatch(/PNG/);
  expect(await refusal({ image_id: imageId }, tall, 'invalid_mask', 'mask')).toMatch(new RegExp(`${width}x${height}`));
  expect(await refusal({ image_id: imageId }, black, 'invalid_mask', 'mask')).toMatch(/nothing as product/);
  await refusal({ image_id: imageId }, undefined, 'invalid_mask', 'mask');
  await refusal({ image_id: 'x/../../etc' }, mask, 'invalid_input', 'image_id');
  await refusal({ image_id: imageId, settings: '{not json' }, mask, 'invalid_settings', 'settings');
  await refusal({ image_id: imageId, settings: '{"background":"#000000"}' }, mask, 'invalid_settings', 'settings.background');
  await send(stranger.token, { image_id: imageId }, mask).expect(404);
  await api.post('/api/v1/manual-editor/mask').field('image_id', imageId).attach('mask', mask, 'mask.png').expect(401);

  expect((await getBinary(api, `/api/v1/images/${imageId}/result`, owner.token).expect(200)).body).toEqual(result);
  expect(await owner.balance()).toEqual(balance);
  await getBinary(api, `/api/v1/images/${imageId}/mask`, stranger.token).expect(404);
});
