import IORedis from 'ioredis';
import sharp from 'sharp';
import { FleetGate } from '../services/processor/src/qwen/fleet-gate';
import { QwenClient } from '../services/processor/src/qwen/qwen.client';
import { QwenError } from '../services/processor/src/qwen/qwen.errors';

/**
 * One processor's calls for bench/fleet-gate.bench.ts: the gate and the client exactly as
 * qwen-output.service.ts uses them (acquire, give back a stale grant, send, mark sent, release,
 * adapt), without the pictures' preparation and render, so that only the gate is measured.
 * Takes calls from a shared counter until the batch is done.
 */
async function main(): Promise<void> {
  const env = process.env;
  const redis = new IORedis(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = env.GATE_PREFIX!;
  const total = Number(env.GATE_CALLS);
  const gate = new FleetGate(redis, prefix, {
    maxPerSecond: Number(env.GATE_RATE), maxInFlight: Number(env.GATE_IN_FLIGHT), leaseMs: 15_000, marginMs: Number(env.QWEN_RATE_MARGIN_MS ?? 20),
  });
  const client = new QwenClient({ baseUrl: env.GATE_SIM_URL!, apiKey: 'sk-bench', model: 'qwen-image-edit-plus', timeoutMs: 60_000, resultHosts: [], maxResultBytes: 1e7 });
  const image = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#c04040' } }).jpeg().toBuffer();
  const loops = Number(env.GATE_LOOPS);
  await Promise.all(
    Array.from({ length: loops }, async () => {
      for (;;) {
        const taken = await redis.incr(`${prefix}:bench:taken`);
        if (taken > total) return;
        for (;;) {
          const lease = await gate.acquire();
          if (!gate.sendable(lease)) {
            await gate.release(lease, 'unsent');
            continue;
          }
          let sentAt: Promise<number> | null = null;
          try {
            await client.edit({ image, mime: 'image/jpeg', prompt: 'white background', negativePrompt: '' }, () => {
              sentAt = gate.markSent(lease);
            });
            await sentAt;
            await gate.clean();
            await redis.incr(`${prefix}:bench:done`);
            break;
          } catch (error) {
            if (!(error instanceof QwenError && error.kind === 'throttle')) throw error;
            await gate.throttled(await (sentAt ?? Promise.resolve(0)));
            await gate.coolDown(1000);
          } finally {
            await gate.release(lease);
          }
        }
      }
    }),
  );
  redis.disconnect();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
