import { createHash } from 'node:crypto';
import type { Logger } from '@masterpost/platform';
import type { FleetGate } from './fleet-gate';
import type { SpendGuard } from './spend-guard';

/**
 * What a provider pause is blamed on: the key, endpoint, model and allowed result hosts this
 * process runs with. Fixing any of them (a new key, a model that exists, a host added to
 * QWEN_RESULT_HOSTS) and starting a processor lifts the pause.
 */
export function providerFingerprint(settings: { apiKey: string; baseUrl: string; model: string; resultHosts: string[] }): string {
  const canonical = [settings.apiKey, settings.baseUrl, settings.model, [...settings.resultHosts].sort().join(',')].join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/**
 * Fixing the setting is what resumes a paused fleet, without an operator touching Redis: a
 * process started with another API key lifts a provider pause, one started with a cap that
 * leaves room lifts a spend-cap pause.
 */
export async function liftPauseWithoutCause(gate: FleetGate, spend: SpendGuard, fingerprint: string, logger: Logger): Promise<void> {
  const paused = await gate.pauseState();
  if (!paused) return;
  const causeGone = paused.kind === 'provider' ? paused.keyFingerprint !== fingerprint : paused.kind === 'spend_cap' && (await spend.roomForOneCall());
  if (!causeGone) return;
  await gate.resume();
  logger.info({ previous: paused.reason }, 'lifted a pause whose cause this process no longer has');
}
