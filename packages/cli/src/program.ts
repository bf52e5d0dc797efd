import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { showBalance } from './commands/balance';
import { downloadCommand } from './commands/download';
import { login } from './commands/login';
import { makePicture } from './commands/picture';
import { processFolder } from './commands/process';
import { showStatus } from './commands/status';
import { registerHistory } from './commands/history-program';
import { registerWebhooks } from './commands/webhooks-program';
import { registerAccount } from './commands/account-program';
import { registerKeys } from './commands/keys-program';
import { registerOffer } from './commands/offer-program';
import { registerWork } from './commands/work-program';
import { configDir } from './config-store';
import { CliError, EXIT_CODES_HELP, ExitCode } from './exit-codes';
import { installInterruptHandler } from './interrupt';
import { say } from './output';
import { stopMeters } from './progress';

/**
 * The commands of `masterpost` and their help, and how what they end with becomes the exit
 * status. Each command's work lives in commands/; main.ts runs this.
 */
const version = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The picture command's own codes: one photo, so "some pictures failed" and resuming do not apply. */
const PICTURE_EXIT_CODES_HELP = `
Exit status:
  0    the picture was made and written
  1    the picture could not be made (the reason is printed; nothing was charged)
  2    usage or sign-in error, or not enough credits
  3    the gateway could not be reached or had a fault; try again (a retry is not charged twice)
  130  interrupted (Ctrl-C); the picture may still be made and charged at the gateway`;

const urlOption = () => new Option('--url <gateway>', 'the gateway (default: $MASTERPOST_URL, else the one you logged in to)');

export function buildProgram(finish: (code: ExitCode) => void): Command {
  const program = new Command('masterpost')
    .description('Turn folders of product photos into marketplace-ready pictures with Masterpost.')
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help to see how)')
    // Errors of usage end with status 2, not commander's 1 (which means "some pictures failed" here).
    .exitOverride()
    .addHelpText(
      'after',
      `
Getting started:
  $ masterpost signup --email you@example.com    # or, with an account: masterpost login --email ...
  $ masterpost process ./photos --marketplace amazon --out ./ready
  $ masterpost picture ./bottle.jpg --marketplace etsy
  $ masterpost balance
  $ masterpost buy pro --open
  $ masterpost process --help

The API key is kept in ${configDir()}
($MASTERPOST_CONFIG_DIR, else $XDG_CONFIG_HOME/masterpost, else ~/.config/masterpost).
$MASTERPOST_API_KEY, when set, is used instead of the stored key.
${EXIT_CODES_HELP}`,
    );

  program
    .command('login')
    .description('Store an API key for the other commands: one you have (--key), or one made by signing in (--email).')
    .option('--url <gateway>', 'the gateway to sign in to (default: $MASTERPOST_URL, else http://localhost:8080)')
    .option('--key <mp_key>', 'an API key made on the web page (it is checked, then stored as it is)')
    .option('--email <email>', 'sign in with your email and password; a key named after this computer is made and stored')
    .option('--access-code', 'with --email: sign in once with the access code of the old Masterpost, and choose a password')
    .addHelpText(
      'after',
      `
The password is read from $MASTERPOST_PASSWORD, or asked for without echo. It is never stored:
only the key is, in a file readable by you alone (mode 0600). No account yet? masterpost signup.
Forgot the password? masterpost account forgot-password (or <gateway>/forgot-password); the
address, the password, your data and deleting the account: masterpost account --help.

Moved from the old Masterpost? Sign in once with the access code it mailed you (MP-XXXX-XXXX,
from $MASTERPOST_ACCESS_CODE or asked for) and choose a password ($MASTERPOST_NEW_PASSWORD, or
typed twice); after that the code no longer works.

Examples:
  $ masterpost login --email you@example.com
  $ masterpost login --email you@example.com --access-code
  $ masterpost login --key mp_AbC... --url https://masterpost.example.com`,
    )
    .action(async (options: { url?: string; key?: string; email?: string; accessCode?: boolean }) => finish(await login(options)));

  program
    .command('process')
    .description('Upload a folder of photos, make marketplace pictures of them, and download them into --out.')
    .argument('<folder>', 'the folder of photos (jpg, jpeg, png, webp, tif, tiff, gif) and ZIPs of photos; sub-folders are not searched')
    .requiredOption('-m, --marketplace <name>', 'the marketplace the pictures are for: amazon, ebay, instagram, shopify or etsy')
    .option('-s, --shadow <type>', 'the shadow under the product: none, drop, reflection, natural or auto (default: the marketplace\'s)')
    .option('-o, --out <folder>', 'where the pictures go, named after the originals, with manifest.json (default: <folder>-<marketplace>)')
    .option('-y, --yes', 'do not ask before uploading and spending credits (required when there is no terminal)')
    .option('--wait', 'follow the job until it ends, then download it (the default)')
    .option('--no-wait', 'stop once the job is queued; run the same command again later to download it')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
Before uploading it shows the estimate (pictures x credits per picture, and your balance) and
asks to go ahead; with too few credits it stops before sending anything. Then it shows the
upload in bytes and the processing in pictures, downloads the pictures, and reports how many
pass the marketplace's checks, which rule each other one breaks, what was charged, and every
picture not delivered (or refused at upload) with the reason.

It resumes: the job is remembered in <out>/.masterpost-job.json, so after Ctrl-C (or a lost
connection) the same command follows and downloads the same job, without uploading again.

Examples:
  $ masterpost process ./photos --marketplace amazon --out ./ready
  $ masterpost process ./shoot --marketplace etsy --shadow natural --out ./etsy --yes
${EXIT_CODES_HELP}`,
    )
    .action(async (folder: string, options: { marketplace: string; shadow?: string; out?: string; yes?: boolean; wait?: boolean; url?: string }) =>
      finish(await processFolder(folder, options)),
    );

  program
    .command('picture')
    .description('Make one marketplace picture of one photo, in one call, and write it beside the photo (or to --out).')
    .argument('<file>', 'the photo (jpg, jpeg, png, webp, tif, tiff, gif)')
    .requiredOption('-m, --marketplace <name>', 'the marketplace the picture is for: amazon, ebay, instagram, shopify or etsy')
    .option('-s, --shadow <type>', 'the shadow under the product: none, drop, reflection, natural or auto (default: the marketplace\'s)')
    .option('-o, --out <file>', 'where the picture goes (default: <name>-<marketplace>.<jpg|png|webp> beside the photo)')
    .option('--wait <seconds>', 'how long the gateway holds the request before answering "still being made" (0-300, default 60); either way this command waits until the picture is made')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
No job to follow and no folder: the photo is sent, the picture comes back, and what it cost and
measures is printed (credits charged, size, the product's share of the canvas, whether it
passes the marketplace's checks, the shadow). A picture the service cannot make is not
charged: the reason is printed and the exit status is 1.

A request cut off is sent again with the same Idempotency-Key, so it is never charged twice.

Examples:
  $ masterpost picture ./bottle.jpg --marketplace etsy
  $ masterpost picture ./mug.png --marketplace amazon --shadow drop --out ./ready/mug.jpg
${PICTURE_EXIT_CODES_HELP}`,
    )
    .action(async (file: string, options: { marketplace: string; shadow?: string; out?: string; wait?: string; url?: string }) =>
      finish(await makePicture(file, options)),
    );

  registerWebhooks(program, finish, urlOption);
  registerHistory(program, finish, urlOption);
  registerWork(program, finish, urlOption);

  program
    .command('status')
    .description('Show where a job is: pictures done and failed, time left, credits; the full report once it has ended.')
    .argument('<job>', 'a job id, or the --out folder of "masterpost process"')
    .option('-p, --pictures', 'also list each picture: its id (for edit and image), file, status, marketplace checks and drift report')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
Examples:
  $ masterpost status 0b7c6f0e-3f4a-4b7e-9a51-2f4d1c9e8a10
  $ masterpost status ./ready --pictures`,
    )
    .action(async (job: string, options: { url?: string; pictures?: boolean }) => finish(await showStatus(job, options)));

  program
    .command('download')
    .description('Download a job\'s pictures and manifest.json into a folder (what is delivered so far, if it is still going).')
    .argument('<job>', 'a job id, or the --out folder of "masterpost process"')
    .option('-o, --out <folder>', 'where the pictures go (default: the job\'s folder, else ./masterpost-<first 8 characters of the id>)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
Examples:
  $ masterpost download 0b7c6f0e-3f4a-4b7e-9a51-2f4d1c9e8a10 --out ./ready
  $ masterpost download ./ready`,
    )
    .action(async (job: string, options: { out?: string; url?: string }) => finish(await downloadCommand(job, options)));

  program
    .command('balance')
    .description('Show your credits: available, and reserved by jobs in progress.')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost balance')
    .action(async (options: { url?: string }) => finish(await showBalance(options)));

  registerOffer(program, finish, urlOption);
  registerKeys(program, finish, urlOption);
  registerAccount(program, finish, urlOption);

  return program;
}

export async function run(argv: string[]): Promise<number> {
  installInterruptHandler();
  let code: number = ExitCode.Delivered;
  try {
    await buildProgram((ended) => {
      code = ended;
    }).parseAsync(argv);
    return code;
  } catch (error) {
    stopMeters();
    // Commander has already printed its message (or the help, or the version).
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Delivered : ExitCode.Usage;
    if (error instanceof CliError) {
      say(`masterpost: ${error.message}`);
      return error.exitCode;
    }
    say(`masterpost: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return ExitCode.Unavailable;
  }
}
