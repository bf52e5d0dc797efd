import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Schemas } from '@masterpost/client';
import { fetchBalance } from '../balance';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { errorDetails, failure, publicGateway, reach, signedIn, type Connection } from '../gateway';
import { onInterruptSay } from '../interrupt';
import { print, say } from '../output';

/**
 * `masterpost buy [pack]`: credits are bought on Stripe Checkout, in a browser, as on the web
 * page. Without a pack it lists the packs; with one it prints the Checkout address (alone on
 * stdout), opens it with --open, and with --wait stays until Stripe's confirmation reaches the
 * ledger, found as the purchase carrying the Checkout Session's id in the credit history.
 */
type Pack = Schemas['Pack'];

export interface BuyOptions {
  url?: string;
  open?: boolean;
  wait?: boolean;
}

const POLL_MS = 2000;
/** Paying takes a person a few minutes; past this the command stops waiting (the credits still come). */
const PATIENCE_MS = 30 * 60_000;

export function price(pack: Pack): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: pack.currency.toUpperCase() }).format(pack.price_cents / 100);
  } catch {
    // A currency code Intl does not know is still shown, rather than failing the command.
    return `${(pack.price_cents / 100).toFixed(2)} ${pack.currency.toUpperCase()}`;
  }
}

export const packLine = (pack: Pack): string => [pack.id, pack.name, `${pack.credits} credits`, price(pack)].join('\t');

/** The pack a seller names: its id or its name, in any case. */
export function packIn(packs: Pack[], name: string): Pack {
  const wanted = name.trim().toLowerCase();
  const found = packs.find((pack) => pack.id.toLowerCase() === wanted || pack.name.toLowerCase() === wanted);
  if (!found) throw usageError(`unknown pack "${name}": choose one of ${packs.map((pack) => pack.id).join(', ')}`);
  return found;
}

async function fetchPacks(connection: Connection): Promise<Pack[]> {
  const answer = await reach(connection, () => connection.client.GET('/payments/packs'));
  if (!answer.data) throw failure('reading the credit packs', connection, answer);
  return answer.data;
}

export async function buy(packName: string | undefined, options: BuyOptions): Promise<ExitCode> {
  if (packName === undefined) {
    if (options.open || options.wait) throw usageError('name the pack to buy: masterpost buy <pack> (run "masterpost buy" to list them)');
    const packs = await fetchPacks(await publicGateway(options.url));
    if (packs.length === 0) print('No credit packs are on sale at this gateway.');
    for (const pack of packs) print(packLine(pack));
    if (packs[0]) say(`Buy one with: masterpost buy ${packs[0].id} --open`);
    return ExitCode.Delivered;
  }

  const connection = await signedIn(options.url);
  const pack = packIn(await fetchPacks(connection), packName);
  const answer = await reach(connection, () => connection.client.POST('/payments/checkout', { body: { pack: pack.id } }));
  if (!answer.data) {
    // Not a passing fault: this gateway has no Stripe account set up, so trying again will not help.
    const { code, message } = errorDetails(answer.error);
    if (code === 'payments_unavailable') throw usageError(`this gateway does not sell credits${message ? ` (${message})` : ''}; ask its operator`);
    throw failure(`starting the payment for ${pack.id}`, connection, answer);
  }
  const { url, session_id: sessionId } = answer.data;
  say(`Pay for ${pack.name} (${pack.credits} credits, ${price(pack)}) on Stripe Checkout:`);
  print(url);
  if (options.open) await openInBrowser(url);
  if (!options.wait) {
    say('The credits are added as soon as Stripe confirms the payment ("masterpost balance" shows them).');
    return ExitCode.Delivered;
  }
  return waitForGrant(connection, sessionId, pack);
}

/** The purchase's movement appears when Stripe's webhook reaches billing, seconds after paying. */
async function waitForGrant(connection: Connection, sessionId: string, pack: Pack): Promise<ExitCode> {
  say('Waiting for the payment (Ctrl-C stops waiting; the credits still come once you pay)...');
  onInterruptSay('Stopped waiting. Once you pay, the credits are added all the same: "masterpost balance" shows them.');
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const history = await reach(connection, () => connection.client.GET('/credits/history', { params: { query: { limit: 20 } } }));
    if (!history.data) throw failure('reading your credit history', connection, history);
    const grant = history.data.items.find((item) => item.kind === 'purchase' && item.reference.endsWith(sessionId));
    if (grant) {
      const balance = await fetchBalance(connection);
      print(`Paid: ${grant.delta} credits added (${pack.name}); ${balance.available} credits available.`);
      return ExitCode.Delivered;
    }
    if (Date.now() > deadline) {
      throw new CliError(`no payment for this checkout arrived within ${PATIENCE_MS / 60_000} minutes; once you pay, the credits are added all the same`, ExitCode.SomeFailed);
    }
    await sleep(POLL_MS);
  }
}

/** The system's own opener; a machine without one (a server over ssh) just gets the address to copy. */
async function openInBrowser(url: string): Promise<void> {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  await new Promise<void>((resolve) => {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.once('spawn', () => {
      child.unref();
      say('Opened in your browser.');
      resolve();
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      say(`Could not open a browser (${error.code ?? error.message}): open the address above yourself.`);
      resolve();
    });
  });
}
