import sharp from 'sharp';
import request from 'supertest';
import { seedGallery } from '../scripts/seed-gallery';
import { getBinary } from './fixtures';
import { cleanUpAfter, runScript, startTestStack, type TestStack } from './harness';
import { distinctPhotos, Seller } from './seller';

/**
 * The landing page's before/after gallery: public to read, seeded with generated examples, and
 * an operator can add an item from one of their own finished pictures. Nobody else can add.
 */
jest.setTimeout(120_000);

let stack: TestStack;
let api: ReturnType<typeof request>;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '30' } });
  api = request(stack.gatewayUrl);
});
cleanUpAfter(() => stack);
interface GalleryItem {
  id: string;
  title: string;
  pipeline: string;
  original_url: string;
  processed_url: string;
}

async function publicPicture(url: string): Promise<sharp.Metadata> {
  const answer = await api.get(url).buffer(true).parse((res, callback) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => callback(null, Buffer.concat(chunks)));
  });
  expect(answer.status).toBe(200);
  return sharp(answer.body as Buffer).metadata();
}

test('the seeded gallery is public: three before/after pairs whose pictures are served without signing in', async () => {
  expect(await seedGallery(stack.databaseUrl, stack.env.STORAGE_DIR!)).toBe(3);
  expect(await seedGallery(stack.databaseUrl, stack.env.STORAGE_DIR!)).toBe(0);
  const gallery = (await api.get('/api/v1/gallery/all').expect(200)).body as { items: GalleryItem[]; total: number };
  expect(gallery.total).toBe(3);
  expect(gallery.items.map((item) => item.pipeline).sort()).toEqual(['amazon', 'etsy', 'instagram']);
  for (const item of gallery.items) {
    const before = await publicPicture(item.original_url);
    const after = await publicPicture(item.processed_url);
    expect(before.format).toBe('jpeg');
    expect(after.width).toBeGreaterThanOrEqual(1080);
  }
});

test('an operator adds one of their finished pictures; a seller cannot add, nor can an operator add a seller\'s picture', async () => {
  const operator = await Seller.register(stack.gatewayUrl, 'operator@example.com');
  const seller = await Seller.register(stack.gatewayUrl, 'plain-seller@example.com');
  const granted = await runScript('scripts/operator.ts', ['grant', 'operator@example.com'], { DATABASE_URL: stack.databaseUrl });
  expect(granted).toEqual({ code: 0, output: 'operator@example.com is now an operator\n' });
  const operatorJob = await operator.upload(await distinctPhotos(1, 1200));
  await operator.process(operatorJob, 'ebay');
  const operatorImage = (await operator.waitUntilFinished(operatorJob, 60_000)).images[0]!.image_id;
  const sellerJob = await seller.upload(await distinctPhotos(1, 1300));
  await seller.process(sellerJob, 'ebay');
  const sellerImage = (await seller.waitUntilFinished(sellerJob, 60_000)).images[0]!.image_id;

  await api.post('/api/v1/gallery').set('authorization', `Bearer ${seller.token}`).send({ image_id: sellerImage, title: 'Mine' }).expect(403);
  await api.post('/api/v1/gallery').set('authorization', `Bearer ${operator.token}`).send({ image_id: sellerImage, title: 'Not mine' }).expect(404);
  await api.post('/api/v1/gallery').set('authorization', `Bearer ${operator.token}`).send({ image_id: operatorImage }).expect(400);
  const added = await api.post('/api/v1/gallery').set('authorization', `Bearer ${operator.token}`).send({ image_id: operatorImage, title: 'Box for eBay' }).expect(201);
  expect(added.body).toMatchObject({ title: 'Box for eBay', pipeline: 'ebay' });

  const gallery = (await api.get('/api/v1/gallery/all').expect(200)).body as { items: GalleryItem[] };
  const item = gallery.items.find((candidate) => candidate.id === added.body.id)!;
  const served = (await getBinary(api, item.processed_url, operator.token).expect(200)).body as Buffer;
  const result = (await getBinary(api, `/api/v1/images/${operatorImage}/result`, operator.token).expect(200)).body as Buffer;
  expect(served.equals(result)).toBe(true);
  // A copy: deleting the job leaves the gallery item whole.
  await api.delete(`/api/v1/jobs/${operatorJob}`).set('authorization', `Bearer ${operator.token}`).expect(200);
  expect((await publicPicture(item.processed_url)).width).toBe(1600);
});
