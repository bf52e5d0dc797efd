import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { freePort } from '../scripts/stack';

/**
 * A real Redis Cluster of the test's own: six `redis-server --cluster-enabled yes` processes on
 * free local ports (three primaries, each with one replica) in a temporary folder, joined with
 * `redis-cli --cluster create`. Nothing is kept on disk: a killed primary's data lives on only
 * in its replica, as on a managed cluster. The failure detection time is short so that a
 * primary's death is noticed and its replica promoted within a couple of seconds.
 */
export interface ClusterNode {
  port: number;
  child: ChildProcess;
}

/** The slot ranges a primary serves, as CLUSTER SLOTS answers them. */
interface SlotRange {
  from: number;
  to: number;
  primary: number;
  replicas: number[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function run(program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${program} ${args.join(' ')} failed: ${(error as Error).message}\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** Asks one node and disconnects: the test's own questions never ride on a service's connection. */
async function ask<T>(port: number, question: (redis: IORedis) => Promise<T>): Promise<T> {
  const redis = new IORedis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await question(redis);
  } finally {
    redis.disconnect();
  }
}

export class LocalRedisCluster {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly dir: string,
  ) {}

  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  get addresses(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  static async start(options: { nodeTimeoutMs?: number } = {}): Promise<LocalRedisCluster> {
    const installed = await run('redis-cli', ['--version']).catch(() => null);
    if (!installed) throw new Error('redis-cli is not installed: run scripts/ensure-services.sh (or apt-get install redis-server redis-tools)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'masterpost-redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const cluster = new LocalRedisCluster(nodes, dir);
    try {
      for (let index = 0; index < 6; index++) {
        // The cluster bus gets a port picked here too: the default (port + 10000) could be taken.
        const [port, busPort] = [await freePort(), await freePort()];
        const child = spawn(
          'redis-server',
          [
            '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
            '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
            // A replica that lost its primary takes over however long ago it last heard from it.
            '--cluster-replica-validity-factor', '0',
            '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir,
          ],
          { stdio: 'ignore' },
        );
        nodes.push({ port, child });
      }
      for (const node of nodes) await cluster.waitUntilAnswering(node.port);
      await run('redis-cli', ['--cluster', 'create', ...cluster.addresses, '--cluster-replicas', '1', '--cluster-yes']);
      await cluster.waitUntilHealthy(nodes.map((node) => node.port));
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private async waitUntilAnswering(port: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if ((await ask(port, (redis) => redis.ping()).catch(() => null)) === 'PONG') return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await sleep(100);
    }
  }

  /**
   * Every node given says `cluster_state:ok` and knows three primaries with a replica in sync
   * each: a failover then has a replica to promote.
   */
  async waitUntilHealthy(ports: number[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        ports.map((port) =>
          ask(port, async (redis) => {
            const info = String(await redis.call('CLUSTER', 'INFO'));
            const replication = await redis.info('replication');
            return info.includes('cluster_state:ok') && (!replication.includes('role:slave') || replication.includes('master_link_status:up'));
          }).catch(() => false),
        ),
      );
      const ranges = await this.slotRanges(ports[0]!).catch(() => []);
      const paired = ranges.length > 0 && ranges.every((range) => range.replicas.length > 0);
      if (states.every(Boolean) && paired && new Set(ranges.map((range) => range.primary)).size === 3) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster on ${ports.join(', ')} did not become healthy`);
      await sleep(200);
    }
  }

  private async slotRanges(port: number): Promise<SlotRange[]> {
    // Each range: [from, to, [host, port, id] of its primary, then one such triple per replica].
    const answer = (await ask(port, (redis) => redis.call('CLUSTER', 'SLOTS'))) as Array<[number, number, [string, number, string], ...Array<[string, number, string]>]>;
    return answer.map(([from, to, primary, ...replicas]) => ({ from, to, primary: primary[1], replicas: replicas.map((replica) => replica[1]) }));
  }

  /** The slot a key lives in, as the cluster computes it (CLUSTER KEYSLOT). */
  async keySlot(key: string): Promise<number> {
    return Number(await ask(this.living()[0]!.port, (redis) => redis.call('CLUSTER', 'KEYSLOT', key)));
  }

  /** The primary serving `slot` now, and its replicas, as a living node sees it. */
  async ownerOf(slot: number): Promise<{ primary: number; replicas: number[] }> {
    const range = (await this.slotRanges(this.living()[0]!.port)).find((candidate) => candidate.from <= slot && slot <= candidate.to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return { primary: range.primary, replicas: range.replicas };
  }

  private living(): ClusterNode[] {
    return this.nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
  }

  /**
   * Where a queue's jobs are, read from BullMQ's keys on the primary of the prefix's slot: for a
   * failing test to say whether a job waits, runs, waits for children or was lost.
   */
  async queueSnapshot(prefix: string, queues: string[]): Promise<Record<string, Record<string, string[]>>> {
    const { primary } = await this.ownerOf(await this.keySlot(prefix));
    return ask(primary, async (redis) => {
      const snapshot: Record<string, Record<string, string[]>> = {};
      for (const queue of queues) {
        const key = (part: string) => `${prefix}:${queue}:${part}`;
        snapshot[queue] = {
          wait: await redis.lrange(key('wait'), 0, -1),
          active: await redis.lrange(key('active'), 0, -1),
          'waiting-children': await redis.zrange(key('waiting-children'), 0, -1),
          delayed: await redis.zrange(key('delayed'), 0, -1),
          failed: await redis.zrange(key('failed'), 0, -1),
          stalled: await redis.smembers(key('stalled')),
          locked: (await Promise.all((await redis.lrange(key('active'), 0, -1)).map(async (id) => ((await redis.exists(key(`${id}:lock`))) ? id : null)))).filter((id): id is string => id !== null),
        };
      }
      return snapshot;
    });
  }

  /** A crash: SIGKILL, nothing saved, the node's connections cut. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node || node.child.exitCode !== null || node.child.signalCode !== null) return;
    await new Promise((resolve) => {
      node.child.once('exit', resolve);
      node.child.kill('SIGKILL');
    });
  }

  /**
   * Waits until `slot` is served by a primary other than `former` (its replica, promoted by the
   * cluster itself) and every living node says the cluster is whole again. Answers the new primary.
   */
  async waitForPromotion(slot: number, former: number, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const owner = await this.ownerOf(slot).catch(() => null);
      if (owner && owner.primary !== former) {
        const whole = await Promise.all(this.living().map((node) => ask(node.port, async (redis) => String(await redis.call('CLUSTER', 'INFO')).includes('cluster_state:ok')).catch(() => false)));
        if (whole.every(Boolean)) return owner.primary;
      }
      if (Date.now() > deadline) throw new Error(`slot ${slot} was still not served by a promoted replica of ${former} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node.port)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
