import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { alertRules, dashboardQueries, exportedNames, metricNames } from './metric-names';

/**
 * The alert rules pass `promtool check rules` and their unit tests (`promtool test rules`, from
 * Debian's prometheus package: scripts/ensure-services.sh installs it for `npm test`); every alert
 * is tested firing and has its runbook in docs/operations.md.
 */
const PROMETHEUS = path.join(__dirname, 'prometheus');

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: PROMETHEUS, encoding: 'utf8' });
  if (run.error) {
    throw new Error('promtool is not installed: `apt-get install prometheus` (Debian), or run `npm test`, which installs it (scripts/ensure-services.sh --promtool)');
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('promtool accepts the rule file', () => {
  const result = promtool('check', 'rules', 'alerts.yml');
  expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  expect(result.status).toBe(0);
});

test('every alert fires on the series that should fire it, and not on the others (promtool test rules)', () => {
  const result = promtool('test', 'rules', 'alerts.test.yml');
  expect(result.output).not.toMatch(/FAILED/);
  expect(result.status).toBe(0);
});

test('every alert has a test in which it fires, and a runbook section', () => {
  const tests = parse(readFileSync(path.join(PROMETHEUS, 'alerts.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
  const firing = new Set(tests.tests.flatMap((group) => (group.alert_rule_test ?? []).filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname)));
  const operations = readFileSync(path.join(__dirname, '..', 'docs', 'operations.md'), 'utf8');
  const headings = new Set([...operations.matchAll(/^#{2,4} (\S+)/gm)].map((match) => match[1]?.toLowerCase()));
  const rules = alertRules();
  expect(rules.length).toBeGreaterThanOrEqual(13);
  for (const { alert } of rules) {
    expect({ alert, tested: firing.has(alert), runbook: headings.has(alert.toLowerCase()) }).toEqual({ alert, tested: true, runbook: true });
  }
});

describe('metric names read from PromQL', () => {
  it('finds the metrics and leaves functions, labels, keywords and numbers out', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(qwen_call_seconds_bucket{job="a", le!="+Inf"}[5m])))')).toEqual(['qwen_call_seconds_bucket']);
    expect(metricNames('max(qwen_spend_today_micro_usd) > 0.8 * min(qwen_daily_spend_cap_micro_usd > 0) / 1e6')).toEqual(['qwen_daily_spend_cap_micro_usd', 'qwen_spend_today_micro_usd']);
    expect(metricNames('absent(up{job="masterpost-gateway"}) or time() - max(x_total offset 5m) and on() y')).toEqual(['up', 'x_total', 'y']);
    expect(metricNames('sum(rate(a[$__rate_interval])) / ignoring(outcome) group_left b')).toEqual(['a', 'b']);
  });

  it('knows what a /metrics answer exports, histograms with their series', () => {
    const names = exportedNames('# HELP render_seconds x\n# TYPE render_seconds histogram\n# TYPE qwen_calls_total counter\nprocess_cpu_seconds_total 1\nfoo{a="b"} 2\n');
    expect([...names].sort()).toEqual(['foo', 'process_cpu_seconds_total', 'qwen_calls_total', 'render_seconds', 'render_seconds_bucket', 'render_seconds_count', 'render_seconds_sum']);
  });

  it('finds a metric in every dashboard query and alert', () => {
    for (const { expr } of [...dashboardQueries(), ...alertRules()]) expect({ expr, names: metricNames(expr).length > 0 }).toEqual({ expr, names: true });
  });
});
