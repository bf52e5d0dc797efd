import { createHash, randomUUID } from 'node:crypto';
import { fleetKeys, storageKey } from '@masterpost/contracts';
import { type IORedis, type Logger, type Slots, type Storage } from '@masterpost/platform';
import type { ImageContext, ImagesRepository } from '../adapters/images.repository';
import { PermanentImageError } from '../image-errors';
import type { ProcessorMetrics } from '../metrics';
import { FleetPausedError, type FleetGate, type PauseState } from './fleet-gate';
import { prepareQwenInput, UnusableInputError } from './prepare-input';
import type { Prompt, PromptBook } from './prompts';
import type { QwenClient } from './qwen.client';
import { QwenError } from './qwen.errors';
import { msUntilNextUtcDay, type SpendGuard, type SpendReservation } from './spend-guard';

/**
 * Gets Qwen's output for an image while paying for it at most once. In order, it takes:
 * 1. the output already stored for this image (a retry, or a job taken over after a crash);
 * 2. the output stored for the same photo, preset prompt and model by this seller before;
 * 3. the result of a paid call this picture never stored: kept in Redis by an attempt that could
 *    not record it in PostgreSQL (the database away when the answer came), or recorded there by
 *    a process that died before downloading it;
 * 4. only then, a new call: through the spend cap and the fleet's rate gate.
 * Identical photos processed at the same time wait for the first one's call instead of paying
 * for their own (the "twin" claim, held by one attempt until its picture is settled).
 *
 * The store of reusable outputs (2) is filled only by `remember`, once a picture made from a
 * new call has been charged: an output becomes free to reuse only after the seller paid for it
 * once, so deleting a job mid-call and uploading the photo again gets nothing for free.
 */
export interface QwenOutputDeps {
  redis: IORedis;
  prefix: string;
  repo: ImagesRepository;
  storage: Storage;
  qwen: QwenClient;
  prompts: PromptBook;
  gate: FleetGate;
  spend: SpendGuard;
  metrics: ProcessorMetrics;
  pricesMicroUsd: Record<string, number>;
  keyFingerprint: string;
  logger: Logger;
  /** Photos decoded for the provider at once (each 12 MP photo is 36 MB of pixels while it is prepared). */
  preparing: Slots;
}

export interface QwenOutput {
  key: string;
  /** Made by an earlier paid call for the same photo: the seller is not charged again. */
  reused: boolean;
  /** Lets identical photos go on; call once the picture is settled (a no-op when nothing was claimed). */
  releaseTwin: () => Promise<void>;
}

const NOTHING_CLAIMED = async () => undefined;
/** A twin claim lapses this long after its holder stops renewing it (a process that died). */
const TWIN_LEASE_MS = 30_000;

/** An identical photo's call is under way; this image waits for its output. */
export class TwinInFlightError extends Error {
  constructor() {
    super('an identical photo is being processed; waiting for its result');
    this.name = 'TwinInFlightError';
  }
}

/** Qwen's output depends on the photo, the model and the preset's prompt, nothing else. */
export function qwenCacheKey(contentSha256: string, model: string, pipeline: string, promptVersion: string): string {
  return createHash('sha256').update(`${contentSha256}\n${model}\n${pipeline}\n${promptVersion}`).digest('hex');
}

/** Qwen output size: the input's aspect, longest side 2048 (the most the models give), sides 512..2048. */
export function requestedOutputSize(width: number, height: number): { width: number; height: number } {
  const clamp = (value: number) => Math.max(512, Math.min(2048, Math.round(value)));
  return width >= height ? { width: 2048, height: clamp((2048 * height) / width) } : { width: clamp((2048 * width) / height), height: 2048 };
}

export class QwenOutputService {
  constructor(private readonly deps: QwenOutputDeps) {}

  private get price(): number {
    return this.deps.pricesMicroUsd[this.deps.qwen.model] ?? 0;
  }

  async obtain(context: ImageContext): Promise<QwenOutput> {
    const { storage, repo, gate } = this.deps;
    const key = storageKey.qwenOutput(context.jobId, context.imageId);
    if (await storage.exists(key)) {
      // Read again: another attempt may have marked it reused since this one loaded the picture.
      const reused = (await repo.load(context.imageId))?.reusedOutput ?? context.reusedOutput;
      return { key, reused, releaseTwin: NOTHING_CLAIMED };
    }

    const prompt = this.deps.prompts(context.pipeline);
    const cacheKey = this.cacheKeyOf(context, prompt.version);
    if (await this.copyFromCache(cacheKey, key, context.imageId)) return { key, reused: true, releaseTwin: NOTHING_CLAIMED };
    // Checked before the input is prepared, so paused jobs cost nothing while they wait.
    if (await gate.isPaused()) throw new FleetPausedError(await gate.pauseState());

    const releaseTwin = await this.claimTwin(context, cacheKey);
    try {
      // The twin that held the claim may have stored the output a moment ago.
      if (await this.copyFromCache(cacheKey, key, context.imageId)) {
        await releaseTwin();
        return { key, reused: true, releaseTwin: NOTHING_CLAIMED };
      }
      const output = (await this.recoverPaidResult(context, 'success')) ?? (await this.callShrinkingOnce(context, prompt));
      await storage.put(key, output);
      await repo.setQwenKey(context.imageId, key, false);
      return { key, reused: false, releaseTwin };
    } catch (error) {
      await releaseTwin();
      throw error;
    }
  }

  /**
   * One more paid call for a picture whose output drifted `major`ly (on_major_drift: retry),
   * through the same spend cap and fleet gate; the new output replaces the stored one. Recorded
   * as `drift_retry`: our cost, visible in qwen_calls and /metrics, never charged to the seller.
   */
  async callAgainForDrift(context: ImageContext): Promise<void> {
    const output = (await this.recoverPaidResult(context, 'drift_retry')) ?? (await this.callShrinkingOnce(context, this.deps.prompts(context.pipeline), 'drift_retry'));
    await this.deps.storage.put(storageKey.qwenOutput(context.jobId, context.imageId), output);
  }

  /** After the seller was charged for a picture made from a new call: its output is reusable from now on. */
  async remember(context: ImageContext, key: string): Promise<void> {
    const cacheKey = this.cacheKeyOf(context, this.deps.prompts(context.pipeline).version);
    await this.deps.storage.put(cacheKey, await this.deps.storage.get(key));
  }

  private cacheKeyOf(context: ImageContext, promptVersion: string): string {
    return storageKey.qwenCache(context.userId, qwenCacheKey(context.contentSha256, this.deps.qwen.model, context.pipeline, promptVersion));
  }

  private async copyFromCache(cacheKey: string, key: string, imageId: string): Promise<boolean> {
    if (!(await this.deps.storage.exists(cacheKey))) return false;
    // The flag first: a crash between the two leaves a free picture marked free, never one
    // charged for an output it reused.
    await this.deps.repo.setQwenKey(imageId, key, true);
    await this.deps.storage.put(key, await this.deps.storage.get(cacheKey));
    return true;
  }

  /**
   * One attempt at a time makes the call for a photo: identical photos of this seller, and a
   * second attempt at this very picture (a stalled job taken over while its first worker still
   * runs), wait instead of paying again. The claim is a short lease renewed while held, so one
   * whose process died lapses within seconds.
   */
  private async claimTwin(context: ImageContext, cacheKey: string): Promise<() => Promise<void>> {
    const twinKey = fleetKeys(this.deps.prefix).twin(`${context.userId}:${cacheKey}`);
    const owner = `${context.imageId}:${randomUUID()}`;
    const claimed = await this.deps.redis.set(twinKey, owner, 'PX', TWIN_LEASE_MS, 'NX');
    if (claimed !== 'OK') throw new TwinInFlightError();
    const renew = setInterval(() => {
      void this.deps.redis.eval(RENEW_TWIN, 1, twinKey, owner, String(TWIN_LEASE_MS)).catch(() => undefined);
    }, TWIN_LEASE_MS / 3);
    renew.unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      await this.deps.redis.eval(RELEASE_TWIN, 1, twinKey, owner).catch(() => undefined);
    };
  }

  /**
   * A result already paid for this picture and never stored. One kept in Redis is recorded in
   * PostgreSQL first, unless it is there already (only forgetting it failed), so the books show
   * the one paid call; then it is forgotten. Without one kept, PostgreSQL's latest paid call for
   * the picture (a process that died between the answer and the download) is fetched. Drift
   * retries are only ever kept: the handler asks for one only while none is recorded.
   */
  private async recoverPaidResult(context: ImageContext, purpose: CallPurpose): Promise<Buffer | null> {
    const { repo, qwen } = this.deps;
    const kept = await this.keptAnswer(context, purpose);
    let url: string | null = null;
    if (kept) {
      const recorded = purpose === 'success' ? (await repo.unclaimedResultUrl(context.imageId, qwen.model)) === kept.resultUrl : (await repo.driftRetries(context.imageId)) > 0;
      if (!recorded) {
        await this.record(context, purpose, kept);
        this.deps.logger.warn({ imageId: context.imageId, requestId: kept.requestId, purpose }, 'a paid AI result PostgreSQL could not record when it came is recorded now, and used: not paid again');
      } else await this.forget(context, purpose);
      url = kept.resultUrl;
    } else if (purpose === 'success') {
      url = await repo.unclaimedResultUrl(context.imageId, qwen.model);
    }
    if (!url) return null;
    try {
      const output = await this.deps.qwen.download(url);
      this.deps.logger.info({ imageId: context.imageId }, 'recovered a paid result left by a stopped process');
      return output;
    } catch (error) {
      // A refused host is our setting, not the result: calling again would pay for the same refusal.
      if (error instanceof QwenError && error.kind === 'pause') throw error;
      this.deps.logger.warn({ imageId: context.imageId, err: (error as Error).message }, 'a paid result could not be recovered; calling again');
      return null;
    }
  }

  /**
   * Where a paid answer waits for PostgreSQL: one key per picture, model and purpose, so any
   * attempt at this picture (on any processor) finds it and no other picture can.
   */
  private keptKey(context: ImageContext, purpose: CallPurpose): string {
    return `${this.deps.prefix}:qwen:paid:${purpose}:${this.deps.qwen.model}:${context.imageId}`;
  }

  /**
   * A failure to keep it is logged, not thrown: the answer is paid for, and PostgreSQL's record
   * (next) still saves it in the usual case. Only both failing at once loses it.
   */
  private async keep(context: ImageContext, purpose: CallPurpose, paid: PaidAnswer): Promise<void> {
    await this.deps.redis.set(this.keptKey(context, purpose), JSON.stringify(paid), 'EX', PAID_ANSWER_KEPT_SECONDS).catch((error: unknown) => {
      this.deps.logger.warn({ imageId: context.imageId, err: (error as Error).message }, 'a paid AI answer could not be kept in Redis; PostgreSQL\'s record is its only copy');
    });
  }

  /** Thrown while PostgreSQL is away: the attempt fails, and the next one records the kept answer. */
  private async record(context: ImageContext, purpose: CallPurpose, paid: PaidAnswer): Promise<void> {
    await this.deps.repo.recordQwenCall({
      imageId: context.imageId, requestId: paid.requestId, model: this.deps.qwen.model, outcome: purpose, httpStatus: 200, errorCode: null,
      latencyMs: paid.latencyMs, costMicroUsd: paid.costMicroUsd, resultUrl: paid.resultUrl,
    });
    await this.forget(context, purpose);
  }

  /** Recorded: PostgreSQL is the copy from now on, and Redis keeps nothing that grows. A failure leaves it to expire. */
  private async forget(context: ImageContext, purpose: CallPurpose): Promise<void> {
    await this.deps.redis.del(this.keptKey(context, purpose)).catch(() => undefined);
  }

  private async keptAnswer(context: ImageContext, purpose: CallPurpose): Promise<PaidAnswer | null> {
    const text = await this.deps.redis.get(this.keptKey(context, purpose));
    if (!text) return null;
    const value = JSON.parse(text) as Partial<PaidAnswer>;
    if (typeof value.resultUrl !== 'string') return null;
    return { requestId: value.requestId ?? null, resultUrl: value.resultUrl, latencyMs: value.latencyMs ?? 0, costMicroUsd: value.costMicroUsd ?? this.price };
  }

  /** A 413 (the provider found the input too large): sent once more, shrunk; a second 413 fails the picture. */
  private async callShrinkingOnce(context: ImageContext, prompt: Prompt, purpose: CallPurpose = 'success'): Promise<Buffer> {
    try {
      return await this.call(context, prompt, 1, purpose);
    } catch (error) {
      if (!(error instanceof QwenError && error.kind === 'shrink')) throw error;
      this.deps.logger.warn({ imageId: context.imageId }, 'DashScope found the input too large; sending it once more, smaller');
      return this.call(context, prompt, SHRINK_FACTOR, purpose);
    }
  }

  private async call(context: ImageContext, prompt: Prompt, shrinkBy = 1, purpose: CallPurpose = 'success'): Promise<Buffer> {
    const { qwen, gate, repo, metrics } = this.deps;
    let input;
    try {
      const photo = await this.deps.storage.get(context.uploadKey);
      input = await this.deps.preparing.run(() => prepareQwenInput(photo, shrinkBy));
    } catch (error) {
      if (error instanceof UnusableInputError) throw new PermanentImageError('unusable_image', error.message);
      throw error;
    }

    const { lease, reservation } = await this.admit();
    const stopKeepAlive = gate.keepAlive(lease);
    const started = Date.now();
    // When the request left (Redis ms), from the gate's record of it: a 429 cuts the fleet's rate once per burst.
    let sentAt: Promise<number> | null = null;
    try {
      let result;
      try {
        result = await qwen.edit(
          {
            image: input.bytes,
            mime: input.mime,
            prompt: prompt.text,
            negativePrompt: prompt.negative,
            size: requestedOutputSize(input.width, input.height),
          },
          () => {
            sentAt = gate.markSent(lease).catch(() => 0);
          },
        );
      } catch (error) {
        if (error instanceof QwenError) {
          metrics.qwenCalls.inc({ outcome: error.kind });
          if (error.kind === 'throttle') {
            metrics.qwenThrottled.inc();
            const rate = await gate.throttled(await (sentAt ?? Promise.resolve(0))).catch(() => null);
            if (rate !== null) this.deps.logger.warn({ rate }, 'DashScope answered 429: the fleet\'s rate is now %s calls a second', rate.toFixed(2));
          }
          const cost = error.possiblyBilled ? this.price : 0;
          // Recorded before the counter settles: a counter reseeded from Postgres in between still counts it.
          await repo.recordQwenCall({
            imageId: context.imageId, requestId: error.requestId, model: qwen.model, outcome: error.possiblyBilled ? 'timeout' : error.kind,
            httpStatus: error.httpStatus, errorCode: error.code, latencyMs: Date.now() - started, costMicroUsd: cost,
          });
          await (error.possiblyBilled ? reservation.commit() : reservation.release());
          metrics.qwenSpend.inc(cost);
        } else {
          await reservation.release();
        }
        throw error;
      }
      await sentAt;
      void gate.clean().catch(() => undefined);
      metrics.qwenCalls.inc({ outcome: purpose });
      if (purpose === 'drift_retry') metrics.driftRetries.inc();
      metrics.qwenLatency.observe((Date.now() - started) / 1000);
      metrics.qwenSpend.inc(this.price);
      const paid: PaidAnswer = { requestId: result.requestId, resultUrl: result.resultUrl, latencyMs: Date.now() - started, costMicroUsd: this.price };
      // Kept in Redis, then recorded with its result URL, both before the download: if
      // PostgreSQL cannot take the record now (away, restarting) the next attempt finds the
      // answer in Redis, and if this process dies the next one finds it in either; both fetch
      // this paid result instead of paying again.
      await this.keep(context, purpose, paid);
      await this.record(context, purpose, paid);
      await reservation.commit();
      return await qwen.download(result.resultUrl);
    } finally {
      stopKeepAlive();
      await gate.release(lease);
    }
  }

  /**
   * A slot at the fleet's gate, then today's price reserved (a reservation waiting at a gate
   * the spend cap paused would never be used). A grant that grew too old to send in time
   * meanwhile (a stalled process) is given back, unsent, and asked again.
   */
  private async admit(): Promise<{ lease: string; reservation: Extract<SpendReservation, { ok: true }> }> {
    const { gate, spend } = this.deps;
    for (;;) {
      const lease = await gate.acquire();
      let reservation: SpendReservation;
      try {
        reservation = await spend.reserve();
        if (!reservation.ok) throw await this.pauseForSpendCap(reservation.spentMicroUsd);
      } catch (error) {
        await gate.release(lease, 'unsent');
        throw error;
      }
      if (gate.sendable(lease)) return { lease, reservation };
      await reservation.release();
      await gate.release(lease, 'unsent');
    }
  }

  private async pauseForSpendCap(spentMicroUsd: number): Promise<FleetPausedError> {
    const dollars = (microUsd: number) => `$${(microUsd / 1e6).toFixed(2)}`;
    const state: PauseState = {
      kind: 'spend_cap',
      code: 'DailySpendCap',
      reason: `the daily AI spend cap of ${dollars(this.deps.spend.capMicroUsd)} is reached (${dollars(spentMicroUsd)} spent today); calls resume at 00:00 UTC or when the cap is raised`,
      keyFingerprint: this.deps.keyFingerprint,
      since: new Date().toISOString(),
    };
    await this.deps.gate.pause(state, msUntilNextUtcDay(new Date()));
    this.deps.logger.error({ spentMicroUsd, capMicroUsd: this.deps.spend.capMicroUsd }, 'ALERT: daily AI spend cap reached; processing is paused');
    return new FleetPausedError(state);
  }
}

const SHRINK_FACTOR = 0.6;

/**
 * How long a paid answer waits in Redis for PostgreSQL to record it: far past a picture's
 * retries (six attempts within about a minute, plus waits for billing), and under the 24 hours
 * DashScope keeps the result behind the URL (docs/dashscope.md), as for the recorded URLs
 * (ImagesRepository.unclaimedResultUrl). A picture that waits out a provider pause longer than
 * this would find the URL expired anyway.
 */
const PAID_ANSWER_KEPT_SECONDS = 23 * 3600;

/** A successful call's answer, as recorded in qwen_calls. */
interface PaidAnswer {
  requestId: string | null;
  resultUrl: string;
  latencyMs: number;
  costMicroUsd: number;
}

/**
 * How a successful call is recorded: `success` for the picture's call, `drift_retry` for one
 * made again because the first output drifted (the reconciliation counts `success` calls to
 * find a picture paid twice; a drift retry is paid on purpose).
 */
type CallPurpose = 'success' | 'drift_retry';

/** Renewed by its holder, and taken back by it if it lapsed meanwhile (Redis out of reach for a while). */
const RENEW_TWIN = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0 end
return 0
`;

const RELEASE_TWIN = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
