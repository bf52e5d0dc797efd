import { isIP } from 'node:net';

/**
 * Where DashScope's result pictures may be downloaded from (docs/providers.md, DashScope).
 *
 * Result URLs are signed OSS URLs whose host has a bucket label and a region label of its own
 * before `aliyuncs.com`: `dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com` (Singapore),
 * `dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com`, `dashscope-result-wlcb-acdr-1.oss-cn-wulanchabu-acdr-1.aliyuncs.com`,
 * through OSS transfer acceleration `dashscope-7c2c.oss-accelerate.aliyuncs.com`, and in real
 * 2026 answers `dashscope-5859.oss-cn-wulanchabu-acdr-1.aliyuncs.com`. Alibaba publishes no
 * complete list ("the underlying storage may change"), so the default is the one shape all of
 * them share: a `dashscope-` bucket on an OSS endpoint. A `*` stands for the rest of one label,
 * never for a dot, so a look-alike such as `...aliyuncs.com.example.net` or `xaliyuncs.com`
 * cannot match.
 */
export const DEFAULT_RESULT_HOSTS = ['dashscope-*.oss-*.aliyuncs.com'];

const LABEL_PATTERN = /^[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?$/;
const LITERAL_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why a host pattern cannot be used, or null when it is a well-formed one. */
export function hostPatternProblem(pattern: string): string | null {
  if (pattern !== pattern.toLowerCase()) return `"${pattern}" must be lower case`;
  if (isIP(pattern) || pattern.startsWith('[')) return `"${pattern}" is an IP address: results come from named OSS hosts only`;
  const labels = pattern.split('.');
  if (labels.length < 3) return `"${pattern}" must name a host below a registered domain (like dashscope-result-*.oss-*.aliyuncs.com)`;
  const bad = labels.find((label) => !LABEL_PATTERN.test(label));
  if (bad !== undefined) return `"${pattern}" has a malformed label "${bad}" (letters, digits, hyphens and * only)`;
  // The registered domain must be spelled out: `*.com` or `x.*.com` would let anyone's host in.
  if (!labels.slice(-2).every((label) => LITERAL_LABEL.test(label))) return `"${pattern}" must spell out its last two labels (no * in the domain)`;
  return null;
}

/** The patterns' problems, each naming its pattern; empty when all are usable. */
export function hostPatternProblems(patterns: string[]): string[] {
  if (patterns.length === 0) return ['the list is empty: no result could ever be downloaded'];
  return patterns.map(hostPatternProblem).filter((problem): problem is string => problem !== null);
}

function patternExpression(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[a-z0-9-]+');
  return new RegExp(`^${escaped}$`);
}

export function hostAllowed(hostname: string, patterns: string[]): boolean {
  const host = hostname.toLowerCase();
  if (isIP(host) || host.startsWith('[')) return false;
  return patterns.some((pattern) => patternExpression(pattern.toLowerCase()).test(host));
}

/**
 * Why a result URL must not be fetched, or null when it may be: http(s) only, no credentials,
 * the scheme's own port, and a host the allow-list accepts.
 */
export function resultUrlProblem(rawUrl: string, patterns: string[]): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'the result URL does not parse';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `the result URL's scheme ${url.protocol} is not http(s)`;
  if (url.username || url.password) return `the result URL carries credentials before ${url.hostname}`;
  // WHATWG URLs drop the scheme's default port, so any port left is another one.
  if (url.port !== '') return `the result URL names port ${url.port} on ${url.hostname}, not its scheme's`;
  if (!hostAllowed(url.hostname, patterns)) return `the result host ${url.hostname} is not in QWEN_RESULT_HOSTS (${patterns.join(', ')})`;
  return null;
}

/**
 * A test-only override of where a result host is reached, like curl's --resolve: the URL (and
 * so the allow-list check) keeps the real host name, the connection goes to `address:port`.
 * Written `host:address[:port]`.
 */
export interface ResolveRule {
  host: string;
  address: string;
  port: number | null;
}

export function parseResolveRules(entries: string[]): { rules: Map<string, ResolveRule>; problems: string[] } {
  const rules = new Map<string, ResolveRule>();
  const problems: string[] = [];
  for (const entry of entries) {
    const match = /^([a-z0-9.-]+):([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!match) {
      problems.push(`"${entry}" must be written host:address[:port]`);
      continue;
    }
    const port = match[3] === undefined ? null : Number(match[3]);
    if (port !== null && (port < 1 || port > 65535)) {
      problems.push(`"${entry}" has a port outside 1..65535`);
      continue;
    }
    rules.set(match[1]!, { host: match[1]!, address: match[2]!, port });
  }
  return { rules, problems };
}
