import type { Command, Option } from 'commander';
import { ACTION_EXIT_CODES_HELP, type ExitCode } from '../exit-codes';
import { changePassword, deleteAccount, exportAccount, setNotifications, showAccount } from './account';
import { changeEmail, confirmEmail, forgotPassword, resendVerification, resetPassword, verifyEmail } from './account-mail';
import { signup } from './signup';

/** `masterpost signup` and `masterpost account ...` with their help; the work is in signup.ts, account.ts and account-mail.ts. */
const LINK_HELP = 'the whole link from the mail (or just its token)';

export function registerAccount(program: Command, finish: (code: ExitCode) => void, urlOption: () => Option): void {
  program
    .command('signup')
    .description('Make an account (with the free credits) and sign this computer in to it.')
    .requiredOption('--email <email>', 'the address of the new account')
    .option('--url <gateway>', 'the gateway (default: $MASTERPOST_URL, else http://localhost:8080)')
    .addHelpText(
      'after',
      `
The password is read from $MASTERPOST_PASSWORD, or typed twice without echo (at least 8
characters). It is never stored: a key named after this computer is, as "login --email" does.
Where the gateway asks for the address to be proven first, it mails a link: follow it (or run
"masterpost account verify <link>"), then "masterpost login --email you@example.com".

Example:
  $ masterpost signup --email you@example.com
${ACTION_EXIT_CODES_HELP}`,
    )
    .action(async (options: { url?: string; email?: string }) => finish(await signup(options)));

  const account = program
    .command('account')
    .description('Your account: show it, prove or change the address, mails, password, your data, deleting it.')
    .addHelpText(
      'after',
      `
"masterpost account" alone shows the account. Passwords are read from $MASTERPOST_PASSWORD
(the current one) and $MASTERPOST_NEW_PASSWORD (a new one), or asked for without echo.

Examples:
  $ masterpost account
  $ masterpost account notifications on
  $ masterpost account export --out my-data.zip
  $ masterpost account email new@example.com
  $ masterpost account delete
${ACTION_EXIT_CODES_HELP}`,
    );

  account
    .command('show', { isDefault: true })
    .description('Show the address (and whether it is proven), credits, mail preference and password state.')
    .addOption(urlOption())
    .action(async (options: { url?: string }) => finish(await showAccount(options)));

  account
    .command('resend-verification')
    .description('Mail the link that proves your address again (nothing can be spent until it is followed).')
    .addOption(urlOption())
    .action(async (options: { url?: string }) => finish(await resendVerification(options)));

  account
    .command('verify')
    .description('Prove your address with the link we mailed: the free credits come with it. No sign-in needed.')
    .argument('<link>', LINK_HELP)
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost account verify "https://masterpost.example.com/verify-email?token=..."')
    .action(async (link: string, options: { url?: string }) => finish(await verifyEmail(link, options)));

  account
    .command('email')
    .description('Change your address: a link goes to the new one, and the change takes effect once it is followed.')
    .argument('<new-email>', 'the new address')
    .addOption(urlOption())
    .addHelpText('after', '\nYour password is asked for ($MASTERPOST_PASSWORD). The old address is told of the change.\n\nExample:\n  $ masterpost account email new@example.com')
    .action(async (newEmail: string, options: { url?: string }) => finish(await changeEmail(newEmail, options)));

  account
    .command('confirm-email')
    .description('Follow the link mailed to your new address: from then on it is your address. No sign-in needed.')
    .argument('<link>', LINK_HELP)
    .addOption(urlOption())
    .action(async (link: string, options: { url?: string }) => finish(await confirmEmail(link, options)));

  account
    .command('notifications')
    .description('Whether a mail tells you when a job\'s pictures are ready.')
    .argument('<on|off>', 'on to be mailed, off not to be')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost account notifications on')
    .action(async (value: string, options: { url?: string }) => finish(await setNotifications(value, options)));

  account
    .command('password')
    .description('Change your password (the current one is asked for); other signed-in sessions are signed out, API keys keep working.')
    .option('--email <email>', 'the account (default: the signed-in key\'s)')
    .addOption(urlOption())
    .addHelpText('after', '\nThe current password from $MASTERPOST_PASSWORD, the new one from $MASTERPOST_NEW_PASSWORD, else both asked for.\n\nExample:\n  $ masterpost account password')
    .action(async (options: { url?: string; email?: string }) => finish(await changePassword(options)));

  account
    .command('forgot-password')
    .description('Mail a link to choose a new password. No sign-in needed.')
    .option('--email <email>', 'the account\'s address (default: the signed-in key\'s)')
    .addOption(urlOption())
    .addHelpText('after', '\nThen: masterpost account reset-password <link>\n\nExample:\n  $ masterpost account forgot-password --email you@example.com')
    .action(async (options: { url?: string; email?: string }) => finish(await forgotPassword(options)));

  account
    .command('reset-password')
    .description('Choose a new password with the link of the reset mail; every signed-in session is signed out. No sign-in needed.')
    .argument('<link>', LINK_HELP)
    .addOption(urlOption())
    .addHelpText('after', '\nThe new password from $MASTERPOST_NEW_PASSWORD, else typed twice without echo.')
    .action(async (link: string, options: { url?: string }) => finish(await resetPassword(link, options)));

  account
    .command('export')
    .description('Download everything we hold on you as a ZIP: account, jobs, credit history, keys and webhooks, photos and pictures still kept.')
    .option('-o, --out <file>', 'the ZIP to write (default: the gateway\'s name for it, in the current folder)')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost account export --out my-masterpost-data.zip')
    .action(async (options: { url?: string; out?: string }) => finish(await exportAccount(options)));

  account
    .command('delete')
    .description('Delete the account: its credits are given up, its pictures and files deleted at once, its keys and webhooks removed.')
    .option('-y, --yes', 'do not ask for the words "delete my account" (required when there is no terminal)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
What is given up is shown first; then the words "delete my account" and the password
($MASTERPOST_PASSWORD) are asked for. Jobs still being processed must be cancelled first
(masterpost cancel <job>). The credit history is kept without your name.

Example:
  $ masterpost account delete`,
    )
    .action(async (options: { url?: string; yes?: boolean }) => finish(await deleteAccount(options)));
}
