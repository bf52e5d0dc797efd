import request from 'supertest';
import { productPhoto } from './fixtures';

/**
 * A seller's side of the public API, for tests that are about what happens behind it (the
 * fleet, faults, money): register, upload, process, wait, read the bill.
 */
export interface ProgressBody {
  status: string;
  finished: boolean;
  completed: number;
  failed: number;
  credits_reserved: number;
  credits_charged: number;
  images: Array<{ image_id: string; filename: string; status: string; result_url?: string; charged?: boolean; error?: { code: string; message: string } }>;
}

export interface Balance {
  balance: number;
  reserved: number;
  available: number;
}

/** Photos that differ in their bytes (so the provider stand-in counts each one apart). */
export async function distinctPhotos(count: number, offset = 0, side = 640): Promise<Buffer[]> {
  const shapes = ['box', 'bottle', 'disc'] as const;
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const n = index + offset;
      const hue = (n * 47) % 360;
      return productPhoto({ width: side + (n % 7) * 8, height: side + (n % 5) * 8, colour: `hsl(${hue}, 70%, 35%)`, shape: shapes[n % 3]! });
    }),
  );
}

export class Seller {
  private constructor(
    private readonly api: ReturnType<typeof request>,
    readonly token: string,
  ) {}

  static async register(gatewayUrl: string, email: string): Promise<Seller> {
    const api = request(gatewayUrl);
    const response = await api.post('/auth/register').send({ email, password: 'long enough password' }).expect(201);
    return new Seller(api, response.body.access_token as string);
  }

  async upload(photos: Buffer[]): Promise<string> {
    let call = this.api.post('/api/v1/upload').set('authorization', `Bearer ${this.token}`);
    photos.forEach((photo, index) => {
      call = call.attach('files', photo, `photo-${index}.jpg`);
    });
    const response = await call.expect(201);
    return response.body.job_id as string;
  }

  async process(jobId: string, pipeline = 'ebay'): Promise<void> {
    await this.api.post('/api/v1/process').set('authorization', `Bearer ${this.token}`).send({ job_id: jobId, pipeline }).expect(202);
  }

  async progress(jobId: string): Promise<ProgressBody> {
    return (await this.api.get(`/api/v1/progress/${jobId}`).set('authorization', `Bearer ${this.token}`).expect(200)).body as ProgressBody;
  }

  async balance(): Promise<Balance> {
    return (await this.api.get('/credits/balance').set('authorization', `Bearer ${this.token}`).expect(200)).body as Balance;
  }

  /** Polls until the job is finished (every credit settled) or the time is up. */
  async waitUntilFinished(jobId: string, timeoutMs: number): Promise<ProgressBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const progress = await this.progress(jobId);
      if (progress.finished) return progress;
      if (Date.now() > deadline) throw new Error(`job ${jobId} not finished after ${timeoutMs} ms: ${JSON.stringify({ ...progress, images: undefined })}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sums one counter of a Prometheus text page across its label sets matching `labels`. */
export function metricValue(page: string, name: string, labels = ''): number {
  return page
    .split('\n')
    .filter((line) => line.startsWith(name) && (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
