import { webhookEventTypes } from '@masterpost/contracts';
import type { Command, Option } from 'commander';
import type { ExitCode } from '../exit-codes';
import { addWebhook, enableWebhook, listDeliveries, listWebhooks, redeliver, removeWebhook, rotateWebhookSecret } from './webhooks';

/**
 * `masterpost webhooks` and its subcommands with their help, kept out of program.ts so that
 * file stays a list of the top-level commands. The work is in webhooks.ts.
 */
const ERRORS_HELP = `
Exit status:
  0    done
  2    usage or sign-in error, or the gateway refused (the URL, no such endpoint or delivery,
       a delivery still being tried): its message is printed
  3    the gateway could not be reached or had a fault; try again`;

export function registerWebhooks(program: Command, finish: (code: ExitCode) => void, urlOption: () => Option): void {
  const webhooks = program
    .command('webhooks')
    .description('Manage the endpoints the gateway notifies when jobs and pictures finish (signed HTTP POSTs).')
    .addHelpText(
      'after',
      `
Each delivery is a POST of a JSON event, signed as Standard Webhooks sign (the headers
webhook-id, webhook-timestamp and webhook-signature), with the endpoint's secret. Failed
deliveries are retried; an endpoint failing for long is disabled (enable it again once fixed).

Events: ${webhookEventTypes.join(', ')}

Examples:
  $ masterpost webhooks add https://shop.example.com/hooks/masterpost --events job.completed,picture.failed
  $ masterpost webhooks list
  $ masterpost webhooks deliveries 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e
${ERRORS_HELP}`,
    );

  webhooks
    .command('list')
    .description('List your endpoints: URL, events, and whether one is failing or disabled.')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost webhooks list')
    .action(async (options: { url?: string }) => finish(await listWebhooks(options)));

  webhooks
    .command('add')
    .description('Add an endpoint; its signing secret is printed this once.')
    .argument('<url>', 'where the events are POSTed (http or https; addresses inside a private network are refused)')
    .requiredOption('-e, --events <list>', `the events to send, comma-separated: ${webhookEventTypes.join(', ')}`)
    .option('-d, --description <text>', 'a note to tell endpoints apart')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
Keep the printed secret (whsec_...) with your receiver: it checks each delivery's signature with
it, and it cannot be read again (rotate it to get a new one).

Examples:
  $ masterpost webhooks add https://shop.example.com/hooks/masterpost --events job.completed
  $ masterpost webhooks add https://ops.example.com/mp --events job.failed,picture.failed,credits.low --description "on-call"
${ERRORS_HELP}`,
    )
    .action(async (url: string, options: { events: string; description?: string; url?: string }) => finish(await addWebhook(url, options)));

  webhooks
    .command('remove')
    .description('Remove an endpoint: nothing more is sent to it.')
    .argument('<endpointId>', 'the endpoint\'s id (see "masterpost webhooks list")')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost webhooks remove 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e')
    .action(async (endpointId: string, options: { url?: string }) => finish(await removeWebhook(endpointId, options)));

  webhooks
    .command('rotate')
    .description('Make a new signing secret (printed this once); the old one keeps signing for the overlap.')
    .argument('<endpointId>', 'the endpoint\'s id')
    .option('--overlap <seconds>', 'how long the old secret still signs, beside the new one (0 to 604800; default a day)')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
During the overlap every delivery carries both signatures, so the receiver can be given the new
secret without missing one. --overlap 0 stops the old secret at once (after a leak).

Examples:
  $ masterpost webhooks rotate 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e
  $ masterpost webhooks rotate 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e --overlap 0`,
    )
    .action(async (endpointId: string, options: { overlap?: string; url?: string }) => finish(await rotateWebhookSecret(endpointId, options)));

  webhooks
    .command('enable')
    .description('Deliver again to an endpoint that was disabled after failing for long.')
    .argument('<endpointId>', 'the endpoint\'s id')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost webhooks enable 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e')
    .action(async (endpointId: string, options: { url?: string }) => finish(await enableWebhook(endpointId, options)));

  webhooks
    .command('deliveries')
    .description('Show an endpoint\'s recent deliveries: event type and id, status, and each attempt with its HTTP status and latency.')
    .argument('<endpointId>', 'the endpoint\'s id')
    .addOption(urlOption())
    .addHelpText('after', '\nExample:\n  $ masterpost webhooks deliveries 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e')
    .action(async (endpointId: string, options: { url?: string }) => finish(await listDeliveries(endpointId, options)));

  webhooks
    .command('redeliver')
    .description('Send a delivery again, with the same event id (so a receiver that already has it can tell).')
    .argument('<endpointId>', 'the endpoint\'s id')
    .argument('<deliveryId>', 'the delivery\'s id (see "masterpost webhooks deliveries")')
    .addOption(urlOption())
    .addHelpText(
      'after',
      `
Example:
  $ masterpost webhooks redeliver 3f2c9a4e-1b7d-4c2a-9e8f-5d6b7a8c9d0e 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d`,
    )
    .action(async (endpointId: string, deliveryId: string, options: { url?: string }) => finish(await redeliver(endpointId, deliveryId, options)));
}
