import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { alertRules, metricNames } from '../deploy/metric-names';
import { freePort, ROOT, type RunningService } from '../scripts/stack';
import type { TestStack } from './harness';
import type { ProgressBody } from './seller';

/**
 * What the fault drills (e2e/drill-*.e2e.ts) share: a PostgreSQL of their own to restart, the
 * /ready answer, the ledger's view of a job, and a recorder of the series the alert rules read,
 * scraped every second while the drill runs and judged by `promtool test rules` against the real
 * deploy/prometheus/alerts.yml.
 */

export function service(stack: TestStack, name: string): RunningService {
  const found = stack.services.find((candidate) => candidate.name === name || candidate.name.startsWith(`${name}-`));
  if (!found) throw new Error(`no ${name} among ${stack.services.map((candidate) => candidate.name).join(', ')}`);
  return found;
}

export interface Readiness {
  status: number;
  checks: Record<string, string>;
}

/** /ready as an orchestrator reads it: the status and each dependency named with its state. */
export async function readiness(url: string, timeoutMs = 6000): Promise<Readiness> {
  const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, checks: ((await response.json()) as { checks: Record<string, string> }).checks };
}

/** Polls /ready until `check` names the dependency as wanted (a probe sees a change on its next call). */
export async function readinessUntil(url: string, wanted: (ready: Readiness) => boolean, timeoutMs = 20_000): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  let last: Readiness | undefined;
  for (;;) {
    last = await readiness(url).catch(() => last);
    if (last && wanted(last)) return last;
    if (Date.now() > deadline) throw new Error(`/ready of ${url} never became as wanted; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A PostgreSQL server of the drill's own (the machine's is shared by every other test file), on
 * a free port with trust authentication. As root its programs run as the `postgres` user:
 * initdb refuses root.
 */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'masterpost-pg-'));
    chmodSync(dir, 0o777);
    const server = new PrivatePostgres(await freePort(), dir);
    server.run('initdb', ['-D', server.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    server.up();
    return server;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  get base(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  private static binDir(): string {
    const root = '/usr/lib/postgresql';
    const version = execFileSync('ls', [root]).toString().trim().split('\n').sort((a, b) => Number(b) - Number(a))[0];
    return path.join(root, version!, 'bin');
  }

  private run(program: string, args: string[]): void {
    const binary = path.join(PrivatePostgres.binDir(), program);
    const asRoot = process.getuid?.() === 0;
    execFileSync(asRoot ? 'runuser' : binary, asRoot ? ['-u', 'postgres', '--', binary, ...args] : args, { stdio: 'ignore' });
  }

  up(): void {
    this.run('pg_ctl', ['-D', this.dataDir, 'start', '-w', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(this.dir, 'log')]);
  }

  /** An immediate shutdown: every connection cut, nothing flushed politely, as in a crash. */
  down(): void {
    this.run('pg_ctl', ['-D', this.dataDir, 'stop', '-w', '-m', 'immediate']);
  }

  remove(): void {
    try {
      this.down();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One query on the stack's database, on a connection of its own (the drill's faults cut pooled ones). */
export async function query<Row extends Record<string, unknown>>(databaseUrl: string, sql: string, values: unknown[] = []): Promise<Row[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export interface PictureBill {
  id: string;
  status: string;
  reused: boolean;
  errorMessage: string | null;
  captures: number;
  captured: number;
  charged: number;
}

/**
 * Each picture of a job with what the ledger took for it: how many capture movements name it
 * (a reference is unique, so more than one would be a double charge under another name) and
 * their sum.
 */
export async function pictureBills(databaseUrl: string, jobId: string): Promise<PictureBill[]> {
  const rows = await query<{ id: string; status: string; reused_output: boolean; error_message: string | null; captures: string; captured: string; credits_charged: number }>(
    databaseUrl,
    `select i.id, i.status, i.reused_output, i.error_message, i.credits_charged,
            (select count(*) from credit_movements m where m.kind = 'capture' and m.reference like 'image:' || i.id || '%') as captures,
            (select coalesce(sum(-m.delta), 0) from credit_movements m where m.kind = 'capture' and m.reference like 'image:' || i.id || '%') as captured
       from images i where i.job_id = $1 order by i.id`,
    [jobId],
  );
  return rows.map((row) => ({
    id: row.id,
    status: row.status,
    reused: row.reused_output,
    errorMessage: row.error_message,
    captures: Number(row.captures),
    captured: Number(row.captured),
    charged: row.credits_charged,
  }));
}

/**
 * The money rules every drill ends with, from the ledger and the seller's view alike: every
 * picture ended (delivered, or failed with a message the seller reads), a delivered one captured
 * exactly once for 3 credits, a failed one never, and the job's charge their sum.
 */
export function moneyProblems(bills: PictureBill[], progress: ProgressBody): string[] {
  const problems: string[] = [];
  for (const bill of bills) {
    if (bill.status === 'done') {
      if (bill.captures !== 1 || bill.captured !== 3 || bill.charged !== 3) problems.push(`delivered ${bill.id}: ${bill.captures} captures, ${bill.captured} credits taken, ${bill.charged} shown`);
    } else if (bill.status === 'failed') {
      if (bill.captures !== 0 || bill.charged !== 0) problems.push(`failed ${bill.id} was charged: ${bill.captures} captures`);
      if (!bill.errorMessage) problems.push(`failed ${bill.id} has no message for the seller`);
    } else problems.push(`${bill.id} did not end: ${bill.status}`);
  }
  const taken = bills.reduce((sum, bill) => sum + bill.captured, 0);
  if (progress.credits_charged !== taken) problems.push(`the job shows ${progress.credits_charged} charged, the ledger took ${taken}`);
  for (const image of progress.images) {
    if (image.status === 'failed' && !image.error?.message) problems.push(`${image.image_id} failed without a message in the progress answer`);
  }
  return problems;
}

interface Target {
  job: string;
  instance: string;
  url: string;
}

/**
 * Scrapes each service's /metrics every second, as Prometheus would with a one-second interval
 * and timeout: `up` is 1 when the page came back 200 within the second, 0 otherwise (a frozen or
 * failing process), and every sample of a metric some alert rule reads is kept with the `job` and
 * `instance` labels the scrape configuration gives (jobs `masterpost-<service>`, docs/operations.md).
 * A series a failed scrape missed is marked stale, as Prometheus does.
 */
export class SeriesRecorder {
  private readonly names = new Set(alertRules().flatMap((rule) => metricNames(rule.expr)).filter((name) => name !== 'up'));
  private readonly samples = new Map<string, Map<number, number>>();
  private running = false;
  private loop?: Promise<void>;
  step = 0;

  constructor(private readonly targets: Target[]) {}

  static forStack(stack: TestStack): SeriesRecorder {
    return new SeriesRecorder(
      stack.services
        .filter((running) => !running.name.startsWith('dashscope'))
        .map((running) => ({ job: `masterpost-${running.name.replace(/-.*$/, '')}`, instance: running.name, url: running.url })),
    );
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const began = Date.now();
        await Promise.all(this.targets.map((target) => this.scrape(target, this.step)));
        this.step++;
        await sleep(Math.max(0, 1000 - (Date.now() - began)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private record(series: string, step: number, value: number): void {
    let values = this.samples.get(series);
    if (!values) this.samples.set(series, (values = new Map()));
    values.set(step, value);
  }

  private async scrape(target: Target, step: number): Promise<void> {
    const labels = `job="${target.job}", instance="${target.instance}"`;
    let page: string | null = null;
    try {
      const response = await fetch(`${target.url}/metrics`, { signal: AbortSignal.timeout(950) });
      if (response.ok) page = await response.text();
    } catch {
      page = null;
    }
    this.record(`up{${labels}}`, step, page === null ? 0 : 1);
    if (page === null) return;
    for (const line of page.split('\n')) {
      const sample = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!sample?.[1] || !this.names.has(sample[1])) continue;
      const value = Number(sample[3]);
      if (!Number.isFinite(value)) continue;
      this.record(`${sample[1]}{${sample[2] ? `${sample[2]}, ` : ''}${labels}}`, step, value);
    }
  }

  /** The recorded series as promtool's input_series, one value a second. */
  inputSeries(): Array<{ series: string; values: string }> {
    return [...this.samples.entries()].map(([series, values]) => {
      const first = Math.min(...values.keys());
      const steps = Array.from({ length: this.step }, (_, step) => {
        const value = values.get(step);
        if (value !== undefined) return String(value);
        return step < first ? '_' : 'stale';
      });
      return { series, values: steps.join(' ') };
    });
  }

  /** The steps (seconds since the recording began) at which `series` had `value`. */
  stepsWhere(series: string, value: number): number[] {
    const values = this.samples.get(series);
    return values ? [...values.entries()].filter(([, recorded]) => recorded === value).map(([step]) => step).sort((a, b) => a - b) : [];
  }
}

export interface PromtoolCase {
  promql_expr_test?: Array<{ expr: string; eval_time: string; exp_samples: Array<{ labels?: string; value: number }> }>;
  alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts: unknown[] }>;
}

/** An alert rule's expression, read from deploy/prometheus/alerts.yml (so a drill tests the rule as deployed). */
export function ruleExpr(alert: string): string {
  const rule = alertRules().find((candidate) => candidate.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in deploy/prometheus/alerts.yml`);
  return rule.expr;
}

export const everyAlert = (): string[] => alertRules().map((rule) => rule.alert);

interface RuleText {
  alert: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function ruleText(alert: string): RuleText {
  const file = parse(readFileSync(path.join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: RuleText[] }> };
  const rule = file.groups.flatMap((group) => group.rules).find((candidate) => candidate.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in deploy/prometheus/alerts.yml`);
  return rule;
}

/** A rule's `for:` in seconds (`10s`, `2m`), as deployed. */
export function ruleForSeconds(alert: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(ruleText(alert).for ?? '0s');
  if (!match) throw new Error(`${alert}: a for: this reader does not know`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
}

/**
 * The alerts promtool should list for `alert` firing on these label sets: the rule's own labels
 * added, its annotations rendered as Prometheus would (only `{{ $labels.x }}`: a drill expects
 * no figure it cannot know).
 */
export function firingAlerts(alert: string, labelSets: Array<Record<string, string>>): Array<{ exp_labels: Record<string, string>; exp_annotations: Record<string, string> }> {
  const rule = ruleText(alert);
  return labelSets.map((labels) => ({
    exp_labels: { ...labels, ...rule.labels },
    exp_annotations: Object.fromEntries(
      Object.entries(rule.annotations ?? {}).map(([name, template]) => {
        const text = template.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, label: string) => labels[label] ?? '');
        if (text.includes('{{')) throw new Error(`${alert}: annotation ${name} needs more than labels`);
        return [name, text];
      }),
    ),
  }));
}

/** What the scrape configuration names a service by: its job and instance labels. */
export function scrapeTarget(stack: TestStack, name: string): { job: string; instance: string } {
  const running = service(stack, name);
  return { job: `masterpost-${running.name.replace(/-.*$/, '')}`, instance: running.name };
}

/**
 * When MasterpostDependencyDown must be firing for `dependency` on every service of `targets`,
 * read from the recorded gauge: its `for:` after the last of them first showed the dependency
 * down in the outage (`from` to `to`, recorder steps), plus a second for the evaluation. Throws
 * (the drill fails, saying why) unless that moment is inside the outage and each gauge stayed at
 * 0 from its first 0 until then: the alert must have fired while the fault lasted, not after.
 */
export function dependencyAlertTime(recorder: SeriesRecorder, dependency: string, targets: Array<{ job: string; instance: string }>, outage: { from: number; to: number }): number {
  const waits = ruleForSeconds('MasterpostDependencyDown');
  const series = targets.map((target) => ({ ...target, name: `masterpost_dependency_up{dependency="${dependency}", job="${target.job}", instance="${target.instance}"}` }));
  const firstDown = series.map((one) => {
    const down = recorder.stepsWhere(one.name, 0).filter((step) => step >= outage.from && step <= outage.to);
    if (down.length === 0) throw new Error(`${one.name} never read 0 during the outage (steps ${outage.from} to ${outage.to})`);
    return { ...one, first: down[0]!, down: new Set(down) };
  });
  const firesAt = Math.max(...firstDown.map((one) => one.first)) + waits + 1;
  if (firesAt > outage.to) throw new Error(`MasterpostDependencyDown would fire at step ${firesAt}, after the outage ended at ${outage.to}: ${JSON.stringify(firstDown.map((one) => ({ series: one.name, firstDown: one.first })))}`);
  for (const one of firstDown) {
    const gaps = Array.from({ length: firesAt - one.first + 1 }, (_, offset) => one.first + offset).filter((step) => !one.down.has(step));
    if (gaps.length) throw new Error(`${one.name} was not 0 throughout steps ${one.first} to ${firesAt}: not 0 at ${gaps.join(', ')}`);
  }
  return firesAt;
}

/**
 * `promtool test rules` on the recorded series, with deploy/prometheus/alerts.yml as it is and
 * the expectations given; the file is kept beside the output for a failing drill to be read.
 */
export function promtoolTestRules(recorder: SeriesRecorder, name: string, expectations: PromtoolCase): { status: number | null; output: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'masterpost-drill-rules-'));
  const file = path.join(dir, 'drill.test.yml');
  const test = {
    rule_files: [path.join(ROOT, 'deploy', 'prometheus', 'alerts.yml')],
    evaluation_interval: '1s',
    tests: [{ name, interval: '1s', input_series: recorder.inputSeries(), ...expectations }],
  };
  // JSON is YAML: promtool reads it as it is.
  writeFileSync(file, JSON.stringify(test, null, 1));
  const run = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
  if (run.error) throw new Error('promtool is not installed: run scripts/ensure-services.sh --promtool (or apt-get install prometheus)');
  const output = `${run.stdout}${run.stderr}`;
  if (run.status === 0) rmSync(dir, { recursive: true, force: true });
  return { status: run.status, output, file };
}
