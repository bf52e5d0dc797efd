import { loadProcessorConfig } from '../config';
import { DEFAULT_RESULT_HOSTS, hostPatternProblem, parseResolveRules, resultUrlProblem } from './result-hosts';

/**
 * The allow-list against the result hosts DashScope documents (docs/providers.md): every
 * published shape is fetched, every look-alike refused. A stand-in on 127.0.0.1 cannot show
 * this, so the hosts here are the real ones.
 */
const signed = (host: string) => `https://${host}/1d/ab/20260101/xxx.png?Expires=1767312000&OSSAccessKeyId=LTAI5t&Signature=abc%3D`;

describe('default result hosts', () => {
  test.each([
    'dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com',
    'dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com',
    'dashscope-result-wlcb-acdr-1.oss-cn-wulanchabu-acdr-1.aliyuncs.com',
    'dashscope-7c2c.oss-accelerate.aliyuncs.com',
    'dashscope-5859.oss-cn-wulanchabu-acdr-1.aliyuncs.com',
    'dashscope-result-bj.oss-cn-beijing.aliyuncs.com',
    'DASHSCOPE-RESULT-SGP.OSS-AP-SOUTHEAST-1.ALIYUNCS.COM',
  ])('accepts the documented host %s', (host) => {
    expect(resultUrlProblem(signed(host), DEFAULT_RESULT_HOSTS)).toBeNull();
  });

  test('accepts http on its own port and https on an explicit :443', () => {
    expect(resultUrlProblem('http://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com/x.png', DEFAULT_RESULT_HOSTS)).toBeNull();
    expect(resultUrlProblem('https://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com:443/x.png', DEFAULT_RESULT_HOSTS)).toBeNull();
  });

  test.each([
    ['https://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com.example.net/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://xaliyuncs.com/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://dashscope-result-sgp.aliyuncs.com@example.net/x.png', 'credentials'],
    ['https://dashscope-result-sgp.aliyuncs.com/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://evil.oss-ap-southeast-1.aliyuncs.com/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://dashscope-intl.aliyuncs.com/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com.cn/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com.:443/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://dashscope-result-a.b.oss-ap-southeast-1.aliyuncs.com/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://47.88.1.2/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://[::1]/x.png', 'not in QWEN_RESULT_HOSTS'],
    ['https://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com:8443/x.png', 'port 8443'],
    ['http://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com:443/x.png', 'port 443'],
    ['ftp://dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com/x.png', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['not a url', 'does not parse'],
  ])('refuses %s', (url, why) => {
    expect(resultUrlProblem(url, DEFAULT_RESULT_HOSTS)).toContain(why);
  });

  test('an IP literal is refused even when a pattern would spell it', () => {
    expect(resultUrlProblem('https://127.0.0.1/x.png', ['127.0.0.1'])).toContain('not in QWEN_RESULT_HOSTS');
  });
});

describe('host patterns are checked at start', () => {
  test.each([
    ['*.com', 'below a registered domain'],
    ['dashscope-result-*.oss-*.*', 'last two labels'],
    ['dashscope.*.com', 'last two labels'],
    ['127.0.0.1', 'IP address'],
    ['localhost', 'below a registered domain'],
    ['dashscope_result.oss.aliyuncs.com', 'malformed label'],
    ['Dashscope-result-*.oss-*.aliyuncs.com', 'lower case'],
    ['dashscope-result-*..aliyuncs.com', 'malformed label'],
  ])('"%s" is refused', (pattern, why) => {
    expect(hostPatternProblem(pattern)).toContain(why);
  });

  test('the defaults are well formed', () => {
    expect(DEFAULT_RESULT_HOSTS.map(hostPatternProblem)).toEqual([null]);
  });

  const base = { BILLING_SERVICE_TOKEN: 'x'.repeat(40) };
  test('a processor refuses to start with a malformed pattern and names it', () => {
    expect(() => loadProcessorConfig({ ...base, QWEN_RESULT_HOSTS: 'dashscope-result-*.oss-*.aliyuncs.com,*.com' })).toThrow(/QWEN_RESULT_HOSTS: "\*\.com" must name a host/);
  });

  test('the stand-in override is refused with Alibaba\'s endpoint, and its bad entries are named', () => {
    expect(() =>
      loadProcessorConfig({ ...base, DASHSCOPE_BASE_URL: 'https://dashscope-intl.aliyuncs.com/api/v1', QWEN_RESULT_RESOLVE: 'dashscope-result-sim.oss-test-1.aliyuncs.com:127.0.0.1:9000' }),
    ).toThrow(/QWEN_RESULT_RESOLVE: is for the local stand-in only/);
    expect(() => loadProcessorConfig({ ...base, QWEN_RESULT_RESOLVE: 'no-address-here' })).toThrow(/"no-address-here" must be written host:address\[:port\]/);
  });

  test('an override maps a host to an address and port', () => {
    const { rules, problems } = parseResolveRules(['dashscope-result-sim.oss-test-1.aliyuncs.com:127.0.0.1:20345', 'a.b.c:dashscope-sim']);
    expect(problems).toEqual([]);
    expect(rules.get('dashscope-result-sim.oss-test-1.aliyuncs.com')).toEqual({ host: 'dashscope-result-sim.oss-test-1.aliyuncs.com', address: '127.0.0.1', port: 20345 });
    expect(rules.get('a.b.c')).toEqual({ host: 'a.b.c', address: 'dashscope-sim', port: null });
  });
});
