import { readPictureHeader, samplePicture } from '@masterpost/platform';
import type { ProcessorConfig } from '../config';
import { createQwenClient } from './qwen.client';
import { QwenError } from './qwen.errors';
import { requestedOutputSize } from './qwen-output.service';

/**
 * The operator's check after a deploy (`npm run provider-check`): one real call with the
 * configured key, endpoint and model on a small built-in picture, then the result fetched
 * through the allow-list, exactly as a processor would. It is one billed call.
 */
export interface CheckReport {
  name: string;
  status: 'ok' | 'failed' | 'skipped';
  /** What was found, or why it failed and what to change. */
  details: string[];
}

const REGIONS: Record<string, string> = {
  'dashscope-intl.aliyuncs.com': 'Singapore',
  'dashscope.aliyuncs.com': 'Beijing (China)',
  'dashscope-us.aliyuncs.com': 'US (Virginia)',
};

export function regionOf(baseUrl: string): string {
  const host = new URL(baseUrl).hostname;
  if (REGIONS[host]) return `${REGIONS[host]} (${host})`;
  const workspace = /^[a-z0-9-]+\.([a-z0-9-]+)\.maas\.aliyuncs\.com$/.exec(host);
  if (workspace) return `workspace endpoint in ${workspace[1]} (${host})`;
  return `not Alibaba's: ${host} (the local stand-in?)`;
}

/** The key as an operator recognises it, without revealing it. */
export function maskKey(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}…${key.slice(-4)}`;
}

/** A product on a grey floor: something moderation has no reason to refuse. */
async function testPicture(): Promise<Buffer> {
  return samplePicture(640, '#d6d6d6', { width: 260, height: 340, colour: '#1f6fb2' });
}

function explain(error: unknown, config: ProcessorConfig, region: string): string {
  if (!(error instanceof QwenError)) return `unexpected error: ${(error as Error).message}`;
  switch (error.code) {
    case 'InvalidApiKey':
      return `the key is refused (InvalidApiKey: ${error.message}): a wrong key, or a key of another region; this endpoint is ${region}, and a key works only in its own region (DASHSCOPE_BASE_URL)`;
    case 'ResultHostNotAllowed':
      return `${error.message}; add a pattern that matches it to QWEN_RESULT_HOSTS`;
    case 'DataInspectionFailed':
    case 'InvalidParameter.DataInspection':
      return `moderation refused the built-in test picture (${error.code}): the key and endpoint work; try again, and tell Alibaba support if it persists`;
    case 'ClientTimeout':
      return `no answer within QWEN_TIMEOUT_MS (${config.QWEN_TIMEOUT_MS} ms): the endpoint is unreachable from here or overloaded`;
    default:
      if (error.httpStatus === null) return `${config.DASHSCOPE_BASE_URL} could not be reached: ${error.message}`;
      return `${error.code} (HTTP ${error.httpStatus}): ${error.message}`;
  }
}

export async function checkDashScope(config: ProcessorConfig): Promise<CheckReport> {
  const region = regionOf(config.DASHSCOPE_BASE_URL);
  const qwen = createQwenClient(config);
  const prices = JSON.parse(config.QWEN_PRICES_MICRO_USD) as Record<string, number>;
  const price = prices[config.QWEN_MODEL];
  const setting = [
    `key ${config.usingStandIn ? 'none (DASHSCOPE_API_KEY unset: the local stand-in)' : maskKey(config.DASHSCOPE_API_KEY)}`,
    `region ${region}`,
    `model ${config.QWEN_MODEL}`,
  ];
  const started = Date.now();
  let resultHost = 'none';
  try {
    const result = await qwen.edit({
      image: await testPicture(),
      mime: 'image/jpeg',
      prompt: 'Replace the background with pure white (RGB 255,255,255). Keep the product exactly as it is.',
      negativePrompt: 'shadows, props, text, watermark',
      size: requestedOutputSize(640, 640),
    });
    resultHost = new URL(result.resultUrl).hostname;
    const picture = await qwen.download(result.resultUrl);
    const { width, height } = await readPictureHeader(picture);
    return {
      name: 'DashScope',
      status: 'ok',
      details: [
        ...setting,
        `result host ${resultHost}`,
        `answered and fetched in ${((Date.now() - started) / 1000).toFixed(1)} s (${width}x${height} PNG, request ${result.requestId})`,
        price === undefined ? `no price for ${config.QWEN_MODEL} in QWEN_PRICES_MICRO_USD` : `price $${(price / 1e6).toFixed(3)} a call (this check made one billed call)`,
      ],
    };
  } catch (error) {
    return { name: 'DashScope', status: 'failed', details: [...setting, ...(resultHost === 'none' ? [] : [`result host ${resultHost}`]), explain(error, config, region)] };
  }
}
