import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** Functions, aggregations and keywords of PromQL: words of a query that are not metric names. */
const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, grouping clauses, ranges and
 * Grafana's variables are removed first; what is left is a name unless a bracket follows it (a
 * function or an aggregation) or it is a keyword.
 */
export function metricNames(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (!name || call || NOT_METRICS.has(name.toLowerCase())) continue;
    // A number's exponent (1e6) is caught by the lookbehind; durations were removed with their brackets.
    names.add(name);
  }
  return [...names].sort();
}

const HERE = __dirname;

/** Every alert rule of deploy/prometheus/alerts.yml: its name and expression. */
export function alertRules(): Array<{ alert: string; expr: string }> {
  const file = parse(readFileSync(path.join(HERE, 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return file.groups.flatMap((group) => group.rules);
}

/** Every query of the Grafana dashboard, by its panel's title. */
export function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(path.join(HERE, 'grafana', 'masterpost.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })));
}

/**
 * The names a /metrics answer exports: every sample's, and every declared family's with the
 * samples a histogram or summary has (prom-client declares a labelled counter before its first
 * increment, which a dashboard may well name).
 */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const declared = /^# TYPE (\S+) (\w+)/.exec(line);
    if (declared?.[1]) {
      const [, name, type] = declared;
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([A-Za-z_:][\w:]*)[{ ]/.exec(line);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}
