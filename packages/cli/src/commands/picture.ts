import { randomUUID } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { contentTypeOf, pictureExtensions } from '@masterpost/contracts';
import { fetchBalance } from '../balance';
import { fetchCatalog, marketplaceIn, shadowIn, type Marketplace } from '../catalog';
import { ExitCode, usageError } from '../exit-codes';
import { errorDetails, failure, isTransient, reach, signedIn, type Connection } from '../gateway';
import { onInterruptSay } from '../interrupt';
import { print, say } from '../output';

/**
 * `masterpost picture <file>`: one photo to one marketplace picture in one call
 * (POST /api/v1/pictures), for a script that wants a picture now rather than a job to follow.
 * The picture's bytes come back as the answer and what it cost and measures in headers; past
 * the wait the gateway answers 202 and the picture is asked for again until it is made.
 */
export interface PictureOptions {
  marketplace: string;
  shadow?: string;
  out?: string;
  /** Seconds the gateway waits for the picture before answering 202 (its default: 60). */
  wait?: string;
  url?: string;
}

/** What the gateway's `wait` takes: whole seconds, 0 to 300. */
const MAX_WAIT_SECONDS = 300;
/** Each poll of a picture still being made waits this long at the gateway (a long poll, not a busy loop). */
const POLL_WAIT_SECONDS = 30;
/** A request cut off or answered 5xx/429 is sent again (under the same Idempotency-Key) this many times. */
const ATTEMPTS = 3;

/** The typed client's answer to either picture route with the bytes read as an ArrayBuffer. */
interface PictureAnswer {
  data?: ArrayBuffer;
  error?: unknown;
  response: Response;
}

export async function makePicture(fileArgument: string, options: PictureOptions): Promise<ExitCode> {
  const file = path.resolve(fileArgument);
  if (!(await stat(file).catch(() => null))?.isFile()) throw usageError(`${fileArgument} is not a file`);
  const extension = path.extname(file).toLowerCase();
  const format = pictureExtensions[extension];
  if (!format) throw usageError(`${fileArgument} is not a photo the gateway takes (${Object.keys(pictureExtensions).join(', ')})`);
  const wait = options.wait === undefined ? undefined : waitSeconds(options.wait);

  const connection = await signedIn(options.url);
  const catalog = await fetchCatalog(connection);
  const marketplace = marketplaceIn(catalog, options.marketplace);
  const shadow = options.shadow ? shadowIn(catalog, options.shadow) : null;

  // One key for every try of this run: a request cut off after the gateway took it is answered
  // from the picture it made, instead of making (and charging) a second one.
  const idempotencyKey = `cli-picture-${randomUUID()}`;
  const form = new FormData();
  form.append('image', await openAsBlob(file, { type: contentTypeOf(format) }), path.basename(file));
  form.append('pipeline', marketplace);
  if (shadow) form.append('settings', JSON.stringify({ shadow: { type: shadow } }));
  if (wait !== undefined) form.append('wait', String(wait));

  say(`Making a ${marketplace} picture of ${path.basename(file)}${shadow ? ` with a ${shadow} shadow` : ''} (${catalog.credits_per_picture} credits)...`);
  onInterruptSay('Interrupted. If the photo was sent, the picture is still being made and charged; it is not lost, but this command cannot pick it up again.');
  let answer = await withRetries(connection, 'sending the photo', () =>
    connection.client.POST('/api/v1/pictures', {
      params: { header: { 'Idempotency-Key': idempotencyKey } },
      // The typed body names the fields; the serializer hands fetch the form, which encodes the file's bytes.
      body: { image: path.basename(file), pipeline: marketplace },
      bodySerializer: () => form,
      headers: { accept: 'image/*' },
      parseAs: 'arrayBuffer',
    }),
  );

  while (answer.response.status === 202) {
    const pictureId = answer.response.headers.get('x-picture-id') ?? pictureIdOf(answer.data);
    if (!pictureId) throw failure('waiting for the picture', connection, { error: { error: { message: 'the gateway answered 202 without naming the picture' } }, response: answer.response });
    onInterruptSay(`Interrupted. Picture ${pictureId} is still being made at ${connection.url} (and is charged once made); get it then with: masterpost image ${pictureId}`);
    say(`Still being made (picture ${pictureId}); waiting for it...`);
    answer = await withRetries(connection, `waiting for picture ${pictureId}`, () =>
      connection.client.GET('/api/v1/pictures/{pictureId}', {
        params: { path: { pictureId }, query: { wait: POLL_WAIT_SECONDS } },
        headers: { accept: 'image/*' },
        parseAs: 'arrayBuffer',
      }),
    );
  }

  if (answer.response.status !== 200 || !answer.data) return refused(connection, answer);
  const out = path.resolve(options.out ?? defaultOut(file, marketplace, answer.response.headers.get('content-type')));
  if (out === file) throw usageError('--out must not be the photo itself: the picture would replace it');
  await writeFile(out, Buffer.from(answer.data));
  for (const line of summary(answer.response.headers, marketplace, out)) print(line);
  const available = await fetchBalance(connection).then((balance) => balance.available).catch(() => undefined);
  if (available !== undefined) print(`${available} credits available.`);
  return ExitCode.Delivered;
}

function waitSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || seconds > MAX_WAIT_SECONDS) throw usageError(`--wait takes whole seconds from 0 to ${MAX_WAIT_SECONDS}, not "${value}"`);
  return seconds;
}

/**
 * Sends a request again when it was cut off or met a passing fault (a restart, a proxy's 502, a
 * rate limit). Safe only because the POST carries its Idempotency-Key and the GET changes nothing.
 */
async function withRetries(connection: Connection, what: string, request: () => Promise<PictureAnswer>): Promise<PictureAnswer> {
  for (let attempt = 1; ; attempt++) {
    let answer: PictureAnswer;
    try {
      answer = await reach(connection, request);
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      say(`${what}: ${error instanceof Error ? error.message : String(error)}; trying again`);
      await pause(2);
      continue;
    }
    // 409: the first try is still running at the gateway; asking again later gets its answer.
    const inProgress = answer.response.status === 409 && errorDetails(answer.error).code === 'request_in_progress';
    if ((!isTransient(answer.response.status) && !inProgress) || attempt >= ATTEMPTS) return answer;
    const retryAfter = Number(answer.response.headers.get('retry-after'));
    say(`${what}: the gateway answered ${answer.response.status}; trying again`);
    await pause(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) : 2);
  }
}

const pause = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** The 202's record, read from the bytes parseAs gave, for a gateway that sent no X-Picture-Id. */
function pictureIdOf(data: ArrayBuffer | undefined): string | undefined {
  if (!data) return undefined;
  try {
    const record = JSON.parse(Buffer.from(data).toString('utf8')) as { picture_id?: unknown };
    return typeof record.picture_id === 'string' ? record.picture_id : undefined;
  } catch {
    return undefined;
  }
}

/** A picture that could not be made says why (exit 1: this photo, not the command, is the problem); anything else is the usual error. */
function refused(connection: Connection, answer: PictureAnswer): ExitCode {
  const { code, message, details } = errorDetails(answer.error);
  if (answer.response.status === 422 && code === 'picture_failed') {
    const reason = details.reason as { code?: unknown; message?: unknown } | null | undefined;
    const why = typeof reason?.message === 'string' ? `${typeof reason.code === 'string' ? `${reason.code}: ` : ''}${reason.message}` : (message ?? 'no reason given');
    print(`The picture could not be made: ${why}`);
    print('Nothing was charged.');
    return ExitCode.SomeFailed;
  }
  throw failure('making the picture', connection, answer);
}

/** `<photo name>-<marketplace>.<the picture's format>`, beside the photo. */
function defaultOut(file: string, marketplace: Marketplace, contentType: string | null): string {
  const subtype = (contentType ?? '').split(';')[0]!.trim().toLowerCase().replace(/^image\//, '');
  const extension = subtype === 'jpeg' || subtype === '' ? 'jpg' : subtype;
  return path.join(path.dirname(file), `${path.basename(file, path.extname(file))}-${marketplace}.${extension}`);
}

/** The headers of the answer as lines a person reads; a header the gateway left out is skipped. */
function summary(headers: Headers, marketplace: Marketplace, out: string): string[] {
  const header = (name: string) => headers.get(name) || undefined;
  const charged = header('x-credits-charged');
  const width = header('x-width');
  const height = header('x-height');
  const coverage = Number(header('x-coverage'));
  const compliance = header('x-compliance');
  const shadow = header('x-shadow');
  const pictureId = header('x-picture-id');
  const lines = [`${pictureId ? `Picture ${pictureId}` : 'The picture'} for ${marketplace} written to ${out}`];
  if (charged !== undefined) lines.push(`  ${charged} credit${charged === '1' ? '' : 's'} charged${charged === '0' ? ' (it reused a picture already paid for)' : ''}`);
  if (width && height) lines.push(`  ${width} x ${height} px${Number.isFinite(coverage) && header('x-coverage') ? `, the product covering ${Math.round(coverage * 100)}% of the canvas` : ''}`);
  if (compliance) lines.push(`  compliance ${compliance}${compliance === 'pass' ? `: it meets ${marketplace}'s rules` : `: it breaks one of ${marketplace}'s rules (see the web page for which)`}`);
  if (shadow) lines.push(`  shadow: ${shadow}`);
  return lines;
}
