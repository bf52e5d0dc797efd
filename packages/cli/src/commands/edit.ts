import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { editSettings, type EditOptions } from '../edit-settings';
import { ExitCode, usageError } from '../exit-codes';
import { failure, reach, signedIn } from '../gateway';
import { print, say } from '../output';
import { fetchPictureFile, pictureIdIn, pictureKindIn, type PictureBytes } from '../picture-file';
import { formatBytes } from '../progress';

/**
 * `masterpost edit <picture>`: a delivered picture made again, free, from its stored cutout, with
 * other settings (POST /api/v1/manual-editor/render) or cut out along a mask the seller painted
 * (POST /api/v1/manual-editor/mask); the new picture replaces the old one at the gateway (the
 * job's ZIP has it too) and is written to --out. `masterpost image <picture> [kind]` reads one
 * file of a picture: the result, the original, the cutout, or the mask to paint on.
 */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The mask is checked here (a file, a PNG) so a wrong path is named before anything is sent. */
async function maskFile(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw usageError(`--mask ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  if (!bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) throw usageError(`--mask ${file} is not a PNG: the mask is a PNG, white where the product is and black elsewhere`);
  return bytes;
}

async function written(out: string, picture: PictureBytes): Promise<string> {
  await writeFile(out, picture.bytes);
  return `${out} (${picture.extension.toUpperCase()}, ${formatBytes(picture.bytes.length)})`;
}

export async function editPicture(pictureArgument: string, options: EditOptions & { mask?: string; out?: string; url?: string }): Promise<ExitCode> {
  const imageId = pictureIdIn(pictureArgument);
  const settings = editSettings(options);
  const mask = options.mask === undefined ? undefined : await maskFile(options.mask);
  if (!mask && Object.keys(settings).length === 0) {
    throw usageError('nothing to change: give --mask or a setting (--shadow, --shadow-opacity, --background, --coverage, --size, --format, --quality, --settings)');
  }
  const connection = await signedIn(options.url);

  say(`Making picture ${imageId} again${mask ? ' along your mask' : ''} (free)...`);
  const answer = mask
    ? await reach(connection, () => {
        const form = new FormData();
        form.append('image_id', imageId);
        form.append('mask', new Blob([new Uint8Array(mask)], { type: 'image/png' }), 'mask.png');
        if (Object.keys(settings).length) form.append('settings', JSON.stringify(settings));
        // The typed body names the fields; the serializer hands fetch the form, which encodes the mask's bytes.
        return connection.client.POST('/api/v1/manual-editor/mask', { body: { image_id: imageId, mask: 'mask.png' }, bodySerializer: () => form });
      })
    : await reach(connection, () => connection.client.POST('/api/v1/manual-editor/render', { body: { image_id: imageId, settings } }));
  if (!answer.data) throw failure(`editing picture ${imageId}`, connection, answer);

  const picture = await fetchPictureFile(connection, imageId, 'result');
  const out = path.resolve(options.out ?? `${imageId}.${picture.extension}`);
  const wantedExtension = path.extname(out).slice(1).toLowerCase().replace('jpeg', 'jpg');
  if (options.out && wantedExtension && wantedExtension !== picture.extension) say(`Note: the picture is ${picture.extension.toUpperCase()}, written under the name ${path.basename(out)} as asked.`);
  print(`Picture ${imageId} made again, no credits charged: written to ${await written(out, picture)}.`);
  print('The gateway now serves this version (the job\'s download has it too).');
  return ExitCode.Delivered;
}

export async function savePictureFile(pictureArgument: string, kindArgument: string | undefined, options: { out?: string; url?: string }): Promise<ExitCode> {
  const imageId = pictureIdIn(pictureArgument);
  const kind = pictureKindIn(kindArgument ?? 'result');
  const connection = await signedIn(options.url);
  const picture = await fetchPictureFile(connection, imageId, kind);
  const out = path.resolve(options.out ?? `${imageId}-${kind}.${picture.extension}`);
  print(`The ${kind} of picture ${imageId} written to ${await written(out, picture)}.`);
  return ExitCode.Delivered;
}
