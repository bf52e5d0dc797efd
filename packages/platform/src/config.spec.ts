import { ConfigError, env, parseConfig } from './config';

describe('parseConfig', () => {
  const shape = { PORT: env.port(8080), JWT_SECRET: env.secret(32), RATE: env.number(2, 0.1), ADMINS: env.csv('') };

  it('applies defaults and parses values', () => {
    const config = parseConfig('svc', shape, { JWT_SECRET: 'k'.repeat(32), ADMINS: 'a@x.com, b@x.com', PORT: '9000' });
    expect(config).toEqual({ PORT: 9000, JWT_SECRET: 'k'.repeat(32), RATE: 2, ADMINS: ['a@x.com', 'b@x.com'] });
  });

  it('names every bad setting in one error', () => {
    let caught: unknown;
    try {
      parseConfig('gateway', shape, { JWT_SECRET: 'short', PORT: 'eighty', RATE: '0' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    expect(problems).toMatch(/JWT_SECRET: must be at least 32 bytes/);
    expect(problems).toMatch(/PORT:/);
    expect(problems).toMatch(/RATE:/);
    expect((caught as ConfigError).message).toMatch(/^gateway: invalid settings/);
  });

  it('treats an empty variable as unset, so a required secret is reported missing', () => {
    expect(() => parseConfig('svc', shape, { JWT_SECRET: '' })).toThrow(/JWT_SECRET/);
  });
});
