import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestStack } from '../e2e/harness';
import { Seller } from '../e2e/seller';
import { phonePhoto, variant, zipToDisk } from './photos';
import { table, writeSection } from './report';
import { uploadZip } from './upload';

/**
 * One processor at its default concurrency taking phone-sized photos (12 MP) one after the
 * other, its resident memory sampled every half second: the peak, and whether memory grows
 * from the first pictures to the last.
 */
const PICTURES = Number(process.env.BENCH_PICTURES ?? 200);
/** What bounds the peak, stated with the result either way. */
const MEMORY_BOUNDS = [
  'What bounds it: photos go to the provider at most 2048 px a side (the most the models give back), and at most `RENDER_THREADS`',
  'of them are decoded for it at once; each render thread holds one picture at a time (a 2048 px Qwen output, its mask, the',
  '2000x2000 canvas and its shadow layer); the libvips cache is off and glibc keeps one malloc arena (`MALLOC_ARENA_MAX=1`, as',
  'docker-compose runs the services). Runs of the same code differ by tens of MiB (200-picture runs on 2026-11-24: 529 and 561 MiB); with two',
  'arenas the peak was 599-603 MiB, and before those changes 741 MiB (photos sent at up to 3072 px, four at once, renders interleaved).',
  'Past it: the mask found at 1024 px with only the edge band at full size, or one render thread per processor and more containers.',
].join('\n');

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const base = await phonePhoto('#1f618d');
  // Distinct bytes per picture (a JPEG comment), so no output is reused.
  const zip = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-memory-')), 'shoot.zip');
  await zipToDisk(zip, PICTURES, (index) => variant(base, index));

  const stack = await startTestStack({
    sim: { latencyMs: 0 },
    env: {
      LOG_LEVEL: 'warn', SIGNUP_CREDITS: String(PICTURES * 3), QWEN_MAX_PER_SECOND: '50', QWEN_MAX_IN_FLIGHT: '8', MAX_IMAGES_PER_JOB: String(Math.max(1000, PICTURES)),
      // 1000 phone photos make a 2.8 GB ZIP, past the default 2 GiB upload: this run is about the processor, not that limit.
      UPLOAD_MAX_FILE_BYTES: String(Math.max(2 * 2 ** 30, statSync(zip).size + 2 ** 20)),
      ZIP_MAX_UNPACKED_BYTES: String(Math.max(4 * 2 ** 30, 2 * statSync(zip).size)),
    },
  });
  try {
    const processor = stack.services.find((service) => service.name.startsWith('processor'))!;
    const pid = processor.child.pid!;
    const seller = await Seller.register(stack.gatewayUrl, 'memory@example.com');
    const upload = await uploadZip(stack, seller.token, zip);
    if (upload.status !== 201 || !upload.jobId) throw new Error(`upload answered ${upload.status}`);
    const jobId = upload.jobId;
    const samples: Array<{ done: number; rss: number }> = [];
    const idle = rssMiB(pid, 'VmRSS');
    await seller.process(jobId, 'amazon');
    const started = Date.now();
    for (;;) {
      const progress = await seller.progress(jobId);
      samples.push({ done: progress.completed + progress.failed, rss: rssMiB(pid, 'VmRSS') });
      if (progress.finished) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const wallS = (Date.now() - started) / 1000;
    const peak = rssMiB(pid, 'VmHWM');
    const share = (from: number, to: number) => {
      const slice = samples.filter((sample) => sample.done >= from * PICTURES && sample.done < to * PICTURES);
      return slice.reduce((sum, sample) => sum + sample.rss, 0) / Math.max(1, slice.length);
    };
    const early = share(0.1, 0.3);
    const late = share(0.7, 0.9);
    // Mean RSS over each tenth of the pictures: growth shows as a rising row, a plateau as a flat one.
    const tenths = Array.from({ length: 10 }, (_, index) => share(index / 10, (index + 1) / 10 + (index === 9 ? 0.01 : 0)));
    const final = await seller.progress(jobId);
    console.log({ idle, peak, early, late, wallS, completed: final.completed, tenths: tenths.map((mib) => Math.round(mib)) });
    writeSection(
      'processor-memory',
      'Processor memory with phone-sized photos',
      `One processor at the default concurrency (\`WORKER_CONCURRENCY=4\`, \`RENDER_THREADS=2\`), ${PICTURES} pictures of 4000x3000 (${(base.length / 2 ** 20).toFixed(1)} MiB JPEGs,
distinct bytes) for the Amazon preset (2000x2000), the stand-in answering at once. Resident memory sampled every 0.5 s.

${table(
  ['pictures made', 'wall time', 'idle RSS', 'peak RSS (VmHWM)', 'mean RSS, 10-30% done', 'mean RSS, 70-90% done'],
  [[`${final.completed}/${PICTURES}`, `${wallS.toFixed(0)} s`, `${idle.toFixed(0)} MiB`, `${peak.toFixed(0)} MiB`, `${early.toFixed(0)} MiB`, `${late.toFixed(0)} MiB`]],
)}

Mean RSS (MiB) over each tenth of the pictures, first to last:

${table(
  tenths.map((_, index) => `${index * 10}-${index * 10 + 10}%`),
  [tenths.map((mib) => mib.toFixed(0))],
)}

Target: peak under 600 MB, and no growth over 1000 pictures. Peak ${peak.toFixed(0)} MiB (${(peak * 1.048576).toFixed(0)} MB): ${peak * 1.048576 < 600 ? 'meets it.' : 'misses it.'}
${MEMORY_BOUNDS} From the early to the late part of the run the mean
RSS went ${late >= early ? 'up' : 'down'} by ${Math.abs(late - early).toFixed(0)} MiB (${(((late - early) / early) * 100).toFixed(1)}%).${
  PICTURES >= 1000 ? '' : ` This run made ${PICTURES} pictures, not 1000: set \`BENCH_PICTURES=1000\` for the full figure (about five times as long).`
}

Reproduce: \`${PICTURES === 200 ? '' : `BENCH_PICTURES=${PICTURES} `}npx --yes pnpm@10 exec tsx bench/processor-memory.bench.ts\`.`,
    );
  } finally {
    await stack.teardown();
    rmSync(path.dirname(zip), { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
