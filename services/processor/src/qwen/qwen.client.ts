import http, { type ClientRequest, type RequestOptions } from 'node:http';
import https from 'node:https';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { readPictureHeader } from '@masterpost/platform';
import axiosRetry, { exponentialDelay, isNetworkOrIdempotentRequestError } from 'axios-retry';
import { QwenError, classifyDashScopeAnswer } from './qwen.errors';
import { resultUrlProblem, type ResolveRule } from './result-hosts';

/**
 * The DashScope qwen-image-edit client (docs/dashscope.md). It makes exactly one generation
 * request per `edit` call: retries of the paid call go back through the queue, and so through
 * the fleet's rate gate. Only the free result download is retried here.
 */
export type QwenModel = 'qwen-image-edit' | 'qwen-image-edit-plus' | 'qwen-image-edit-max';

export interface QwenEditInput {
  image: Buffer;
  mime: string;
  prompt: string;
  negativePrompt: string;
  /** Output size for the models that take one. */
  size?: { width: number; height: number };
  seed?: number;
}

export interface QwenEditResult {
  requestId: string;
  resultUrl: string;
  width: number | null;
  height: number | null;
}

export interface QwenClientOptions {
  baseUrl: string;
  apiKey: string;
  model: QwenModel;
  timeoutMs: number;
  resultHosts: string[];
  /** Test-only: result hosts reached at another address (see result-hosts.ts). */
  resultResolve?: Map<string, ResolveRule>;
  maxResultBytes: number;
}

/** The client a processor (and the deploy check) builds from its settings. */
export function createQwenClient(config: {
  DASHSCOPE_BASE_URL: string; DASHSCOPE_API_KEY: string; QWEN_MODEL: QwenModel; QWEN_TIMEOUT_MS: number;
  QWEN_RESULT_HOSTS: string[]; QWEN_RESULT_RESOLVE: Map<string, ResolveRule>; QWEN_RESULT_MAX_BYTES: number;
}): QwenClient {
  return new QwenClient({
    baseUrl: config.DASHSCOPE_BASE_URL,
    apiKey: config.DASHSCOPE_API_KEY,
    model: config.QWEN_MODEL,
    timeoutMs: config.QWEN_TIMEOUT_MS,
    resultHosts: config.QWEN_RESULT_HOSTS,
    resultResolve: config.QWEN_RESULT_RESOLVE,
    maxResultBytes: config.QWEN_RESULT_MAX_BYTES,
  });
}

const TAKES_SIZE: Record<QwenModel, boolean> = {
  'qwen-image-edit': false,
  'qwen-image-edit-plus': true,
  'qwen-image-edit-max': true,
};

export function buildGenerationBody(model: QwenModel, input: QwenEditInput): Record<string, unknown> {
  const parameters: Record<string, unknown> = {
    negative_prompt: input.negativePrompt.slice(0, 500),
    watermark: false,
    n: 1,
  };
  if (input.seed !== undefined) parameters.seed = input.seed;
  if (TAKES_SIZE[model]) {
    // We write our own prompt for a precise edit; Qwen's rewriting would loosen it.
    parameters.prompt_extend = false;
    if (input.size) parameters.size = `${input.size.width}*${input.size.height}`;
  }
  return {
    model,
    input: {
      messages: [
        {
          role: 'user',
          content: [{ image: `data:${input.mime};base64,${input.image.toString('base64')}` }, { text: input.prompt.slice(0, 800) }],
        },
      ],
    },
    parameters,
  };
}

export class QwenClient {
  private readonly api: AxiosInstance;
  private readonly downloads: AxiosInstance;

  constructor(readonly options: QwenClientOptions) {
    this.api = axios.create({
      baseURL: options.baseUrl.replace(/\/$/, ''),
      timeout: options.timeoutMs,
      headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
      maxBodyLength: 16 * 1024 * 1024,
      validateStatus: () => true,
    });
    this.downloads = axios.create({
      timeout: 60_000,
      responseType: 'arraybuffer',
      maxContentLength: options.maxResultBytes,
      maxRedirects: 0,
    });
    axiosRetry(this.downloads, {
      retries: 3,
      retryDelay: (count, error) => exponentialDelay(count, error, 300),
      retryCondition: (error) => isNetworkOrIdempotentRequestError(error) || (error.response?.status ?? 0) >= 500,
    });
  }

  get model(): QwenModel {
    return this.options.model;
  }

  /**
   * One generation call. `onSent` runs when the request has left (its last byte handed to the
   * OS): the fleet's rate window counts calls from then, not from when they were allowed.
   */
  async edit(input: QwenEditInput, onSent?: () => void): Promise<QwenEditResult> {
    const body = buildGenerationBody(this.options.model, input);
    let response;
    try {
      response = await this.api.post('/services/aigc/multimodal-generation/generation', body, onSent ? { transport: sentTransport(onSent) } : {});
    } catch (error) {
      const axiosError = error as AxiosError;
      const timedOut = axiosError.code === 'ECONNABORTED' || axiosError.code === 'ETIMEDOUT';
      // A timeout after the request went out may still be billed: retry, but say so.
      throw new QwenError('retry', timedOut ? 'ClientTimeout' : (axiosError.code ?? 'NetworkError'), `DashScope unreachable: ${axiosError.message}`, null, null, timedOut);
    }
    const data = (response.data ?? {}) as {
      request_id?: string;
      code?: string;
      message?: string;
      usage?: { width?: number; height?: number };
      output?: { choices?: Array<{ message?: { content?: Array<{ image?: string }> } }> };
    };
    const requestId = data.request_id ?? null;
    if (response.status !== 200) {
      const kind = classifyDashScopeAnswer(response.status, data.code, data.message);
      throw new QwenError(kind, data.code ?? `HTTP${response.status}`, data.message ?? `DashScope answered ${response.status}`, response.status, requestId);
    }
    const url = data.output?.choices?.[0]?.message?.content?.find((item) => typeof item.image === 'string')?.image;
    if (!url) throw new QwenError('retry', 'NoImageInOutput', 'DashScope answered 200 without an image URL', 200, requestId, true);
    return { requestId: requestId ?? '', resultUrl: url, width: data.usage?.width ?? null, height: data.usage?.height ?? null };
  }

  /**
   * Fetches the result PNG at once (its URL expires), only from allow-listed hosts. A refused
   * host pauses the fleet rather than failing the picture: the call is paid and its URL
   * recorded, so once QWEN_RESULT_HOSTS is fixed the waiting pictures fetch what was paid for.
   */
  async download(resultUrl: string): Promise<Buffer> {
    const problem = resultUrlProblem(resultUrl, this.options.resultHosts);
    if (problem) throw new QwenError('pause', 'ResultHostNotAllowed', `refusing to download a result: ${problem}`, 200, null);
    const url = new URL(resultUrl);
    const rule = this.options.resultResolve?.get(url.hostname);
    const target = new URL(url);
    const headers: Record<string, string> = {};
    if (rule) {
      target.hostname = rule.address;
      if (rule.port !== null) target.port = String(rule.port);
      headers.host = url.host;
    }
    let bytes: Buffer;
    try {
      const response = await this.downloads.get<ArrayBuffer>(target.toString(), { headers });
      bytes = Buffer.from(response.data);
    } catch (error) {
      throw new QwenError('retry', 'ResultDownloadFailed', `could not download the result: ${(error as Error).message}`, null, null, true);
    }
    try {
      const header = await readPictureHeader(bytes);
      if (!header.width || !header.height) throw new Error('no dimensions');
    } catch {
      throw new QwenError('retry', 'ResultNotAnImage', 'the downloaded result is not a picture', 200, null, true);
    }
    return bytes;
  }
}

/** Node's own http(s) request (no redirects: the API answers, it does not redirect), telling when the request has left. */
function sentTransport(onSent: () => void): { request: (options: RequestOptions, callback: (res: http.IncomingMessage) => void) => ClientRequest } {
  return {
    request(options, callback) {
      const request = (options.protocol === 'https:' ? https : http).request(options, callback);
      request.once('finish', onSent);
      return request;
    },
  };
}
