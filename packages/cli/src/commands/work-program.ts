import type { Command, Option } from 'commander';
import { ACTION_EXIT_CODES_HELP, type ExitCode } from '../exit-codes';
import { editPicture, savePictureFile } from './edit';
import type { EditOptions } from '../edit-settings';
import { cancelJob, deleteJob } from './job-actions';

/**
 * `masterpost cancel`, `delete`, `edit` and `image`: acting on a job or a picture already made.
 * The work is in job-actions.ts and edit.ts.
 */
const JOB_ARGUMENT = 'a job id, or the --out folder of "masterpost process"';
const PICTURE_ARGUMENT = 'the picture\'s id (listed by "masterpost status <job> --pictures" and in manifest.json)';

export function registerWork(program: Command, finish: (code: ExitCode) => void, urlOption: () => Option): void {
  program
    .command('cancel')
    .description('Cancel a job: pictures not yet started are not made and their reserved credits go back.')
    .argument('<job>', JOB_ARGUMENT)
    .addOption(urlOption())
    .addHelpText('after', `\nPictures already delivered are kept and charged.\n\nExample:\n  $ masterpost cancel ./ready\n${ACTION_EXIT_CODES_HELP}`)
    .action(async (job: string, options: { url?: string }) => finish(await cancelJob(job, options)));

  program
    .command('delete')
    .description('Delete a job and every file of it at the gateway (photos, pictures); asks first.')
    .argument('<job>', JOB_ARGUMENT)
    .option('-y, --yes', 'do not ask before deleting (required when there is no terminal)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
A job still going is cancelled first (its unstarted pictures' credits go back). Pictures already
delivered stay charged. Copies you downloaded are not touched.

Example:
  $ masterpost delete 0b7c6f0e-3f4a-4b7e-9a51-2f4d1c9e8a10 --yes
${ACTION_EXIT_CODES_HELP}`,
    )
    .action(async (job: string, options: { url?: string; yes?: boolean }) => finish(await deleteJob(job, options)));

  program
    .command('edit')
    .description('Make a delivered picture again, free (no AI call): other settings, or cut out along a mask you painted.')
    .argument('<picture>', PICTURE_ARGUMENT)
    .option('-s, --shadow <type>', 'the shadow: none, drop, reflection, natural or auto')
    .option('--shadow-opacity <0-1>', 'how dark the shadow is')
    .option('--background <#RRGGBB>', 'the background colour (some marketplaces take white only)')
    .option('--coverage <0.5-0.95>', 'the share of the canvas the product covers')
    .option('--size <WxH>', 'the canvas in pixels, e.g. 2000x2000')
    .option('-f, --format <format>', 'jpeg, png or webp')
    .option('--quality <50-100>', 'the JPEG or WebP quality')
    .option('--settings <json>', 'any other setting as JSON (e.g. \'{"shadow":{"blur":12,"angle":45}}\'); the options above win')
    .option('--mask <png>', 'a PNG the shape of the picture, white where the product is (get the current one with "masterpost image <picture> mask")')
    .option('-o, --out <file>', 'where the new picture goes (default: <picture id>.<format> in the current folder)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
The new picture replaces the old one at the gateway (the job's download has it too) and is
written to --out. Nothing is charged. A value out of range is named by its option before
anything is sent; what a marketplace forbids (a coloured background on Amazon) is said by the
gateway.

Examples:
  $ masterpost edit 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d --shadow drop --format png --out mug.png
  $ masterpost image 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d mask --out mask.png   # paint it, then:
  $ masterpost edit 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d --mask mask.png
${ACTION_EXIT_CODES_HELP}`,
    )
    .action(async (picture: string, options: EditOptions & { mask?: string; out?: string; url?: string }) => finish(await editPicture(picture, options)));

  program
    .command('image')
    .description('Download one file of a picture: the result (default), the original photo, the cutout (transparent PNG) or the mask.')
    .argument('<picture>', PICTURE_ARGUMENT)
    .argument('[kind]', 'result, original, cutout or mask', 'result')
    .option('-o, --out <file>', 'where it goes (default: <picture id>-<kind>.<format> in the current folder)')
    .addOption(urlOption())
    .addHelpText('after', '\nExamples:\n  $ masterpost image 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d\n  $ masterpost image 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d cutout --out mug-cutout.png')
    .action(async (picture: string, kind: string, options: { out?: string; url?: string }) => finish(await savePictureFile(picture, kind, options)));
}
