import path from 'node:path';
import { startMailCatcher } from '../tools/mail-catcher/src/catcher';
import { seedGallery } from './seed-gallery';
import { ROOT, startStack } from './stack';

/**
 * `npm start`: the whole stack on this machine's Redis and Postgres, with the DashScope
 * stand-in unless DASHSCOPE_API_KEY is set. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const dataDir = path.join(ROOT, '.data');
  const usingRealDashScope = Boolean(process.env.DASHSCOPE_API_KEY);
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/masterpost';
  const storageDir = process.env.STORAGE_DIR ?? path.join(dataDir, 'storage');
  // Mails go to a local catcher (SMTP on 1025, read on http://localhost:1080) unless SMTP_URL names a real server.
  const mailCatcher = process.env.SMTP_URL ? null : await startMailCatcher({ smtpPort: 1025, httpPort: 1080 });
  const smtpUrl = process.env.SMTP_URL ?? mailCatcher!.smtpUrl;
  const stack = await startStack({
    databaseUrl,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    // On a Redis Cluster every key must share one slot: the prefix carries a hash tag.
    ...(process.env.REDIS_CLUSTER_NODES ? { redisClusterNodes: process.env.REDIS_CLUSTER_NODES.split(',') } : {}),
    queuePrefix: process.env.QUEUE_PREFIX ?? (process.env.REDIS_CLUSTER_NODES ? '{masterpost}' : 'masterpost'),
    storageDir,
    logDir: path.join(dataDir, 'logs'),
    ports: { gateway: 8080, billing: 8081, processor: 8090, sim: 8082, simResults: 8083 },
    ...(usingRealDashScope ? { dashscopeBaseUrl: process.env.DASHSCOPE_BASE_URL ?? 'https://dashscope-intl.aliyuncs.com/api/v1' } : {}),
    processors: Number(process.env.PROCESSORS ?? 1),
    env: {
      ...(process.env.JWT_SECRET ? { JWT_SECRET: process.env.JWT_SECRET } : {}),
      ...(process.env.STRIPE_SECRET_KEY ? { STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY } : {}),
      ...(process.env.STRIPE_WEBHOOK_SECRET ? { STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET } : {}),
      SMTP_URL: smtpUrl,
      PUBLIC_URL: process.env.PUBLIC_URL ?? 'http://localhost:8080',
    },
    quiet: true,
  });
  const seeded = await seedGallery(databaseUrl, storageDir);
  if (seeded > 0) console.log(`Seeded the gallery with ${seeded} generated examples.`);
  console.log(`\nMasterpost is running: ${stack.gatewayUrl.replace('127.0.0.1', 'localhost')}`);
  console.log(`  billing ${stack.billingUrl}, logs in .data/logs, files in .data/storage`);
  console.log(usingRealDashScope ? '  AI: DashScope (DASHSCOPE_API_KEY is set)' : '  AI: the local DashScope stand-in (set DASHSCOPE_API_KEY for the real one)');
  console.log('  Bull Board (/admin/queues): sign up, then `npm run operator -- grant <your email>`');
  console.log(mailCatcher ? `  Mail (sign-up links, resets, receipts) is caught locally: read it at ${mailCatcher.pageUrl!.replace('127.0.0.1', 'localhost')}` : `  Mail goes out through ${smtpUrl.replace(/\/\/[^@/]*@/, '//')}`);
  console.log('  Press Ctrl-C to stop.\n');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    void stack
      .stop()
      .then(() => mailCatcher?.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const service of stack.services) {
    service.child.on('exit', (code) => {
      if (!stopping) {
        console.error(`${service.name} exited (code ${code}); see .data/logs/${service.name}.log. Stopping the stack.`);
        stop();
      }
    });
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
