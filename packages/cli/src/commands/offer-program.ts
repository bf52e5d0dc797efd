import type { Command, Option } from 'commander';
import type { ExitCode } from '../exit-codes';
import { buy } from './buy';
import { showCatalog, showGallery } from './offer';

/** `masterpost buy`, `masterpost catalog` and `masterpost gallery` with their help; the work is in buy.ts and offer.ts. */
export function registerOffer(program: Command, finish: (code: ExitCode) => void, urlOption: () => Option): void {
  program
    .command('buy')
    .description('Buy credits: list the packs, or start paying for one on Stripe Checkout (its address is printed).')
    .argument('[pack]', 'the pack to buy, by id or name (run "masterpost buy" alone to list them)')
    .option('--open', 'open the Checkout page in your browser as well')
    .option('--wait', 'stay until the payment is confirmed and the credits are added (up to 30 minutes)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
The Checkout address is printed alone on stdout; everything else goes to stderr. Paying happens
on Stripe's page (a card is never typed into this program); the credits are added when Stripe
confirms the payment, usually seconds after.

Examples:
  $ masterpost buy
  $ masterpost buy pro --open --wait

Exit status:
  0    done (with --wait: the credits were added)
  1    --wait: no payment arrived within 30 minutes (the credits are still added once you pay)
  2    usage or sign-in error, an unknown pack, or a gateway that sells no credits
  3    the gateway could not be reached or had a fault; try again`,
    )
    .action(async (pack: string | undefined, options: { url?: string; open?: boolean; wait?: boolean }) => finish(await buy(pack, options)));

  program
    .command('catalog')
    .description('Show the marketplaces with their canvas, format and shadow, the shadows and formats, the upload limits and the price.')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost catalog')
    .action(async (options: { url?: string }) => finish(await showCatalog(options)));

  program
    .command('gallery')
    .description('List the before/after examples of the gallery; --out downloads their pictures. No sign-in needed.')
    .option('-o, --out <folder>', 'write each example\'s before and after pictures into this folder')
    .addOption(urlOption())
    .addHelpText('after', '\nExamples:\n  $ masterpost gallery\n  $ masterpost gallery --out ./examples')
    .action(async (options: { url?: string; out?: string }) => finish(await showGallery(options)));
}
