import type { Command, Option } from 'commander';
import { ACTION_EXIT_CODES_HELP, type ExitCode } from '../exit-codes';
import { createKey, listKeys, revokeKey } from './keys';

/** `masterpost keys` and its subcommands with their help; the work is in keys.ts. */
const PASSWORD_HELP = `
The gateway makes, lists and revokes keys for a signed-in session only (a key cannot make
keys), so the password is read from $MASTERPOST_PASSWORD, or asked for without echo, each time;
the address is your signed-in key's account unless --email says otherwise. Nothing is stored.`;

export function registerKeys(program: Command, finish: (code: ExitCode) => void, urlOption: () => Option): void {
  const keys = program
    .command('keys')
    .description('Manage your API keys: the ones your scripts, shop and CI send as X-API-Key.')
    .addHelpText(
      'after',
      `${PASSWORD_HELP}

Examples:
  $ masterpost keys list
  $ KEY=$(masterpost keys create --name "shop sync")
  $ masterpost keys revoke "shop sync" --yes
${ACTION_EXIT_CODES_HELP}`,
    );

  keys
    .command('list')
    .description('List your keys: id, prefix, name, when made, last used or revoked (tab-separated).')
    .option('--email <email>', 'the account to sign in to (default: the signed-in key\'s)')
    .addOption(urlOption())
    .addHelpText('after', `${PASSWORD_HELP}\n\nExample:\n  $ masterpost keys list`)
    .action(async (options: { url?: string; email?: string }) => finish(await listKeys(options)));

  keys
    .command('create')
    .description('Make a key; it is printed (alone, on stdout) this once.')
    .requiredOption('-n, --name <name>', 'what the key is for, to tell it apart later (1-100 characters)')
    .option('--email <email>', 'the account to sign in to (default: the signed-in key\'s)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `${PASSWORD_HELP}

The gateway keeps only a hash of the key: keep the printed key in your secret store.

Examples:
  $ masterpost keys create --name "shop sync"
  $ MASTERPOST_PASSWORD=... masterpost keys create --name ci > ci-key.txt`,
    )
    .action(async (options: { url?: string; email?: string; name: string }) => finish(await createKey(options)));

  keys
    .command('revoke')
    .description('Revoke a key: every request with it is refused at once, everywhere.')
    .argument('<key>', 'the key\'s id, its prefix (mp_AbC1234, as listed) or its name')
    .option('-y, --yes', 'do not ask before revoking (required when there is no terminal)')
    .option('--email <email>', 'the account to sign in to (default: the signed-in key\'s)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `${PASSWORD_HELP}

Examples:
  $ masterpost keys revoke 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e
  $ masterpost keys revoke "shop sync" --yes`,
    )
    .action(async (key: string, options: { url?: string; email?: string; yes?: boolean }) => finish(await revokeKey(key, options)));
}
