import { ConfigError } from '@masterpost/platform';
import { loadProcessorConfig } from './config';

/** Kubernetes runs several processors on several nodes: a local folder there would split the files. */
describe('the processor with STORAGE_REQUIRE_SHARED', () => {
  const secrets = { JWT_SECRET: 'j'.repeat(32), BILLING_SERVICE_TOKEN: 't'.repeat(32) };

  it('stops at start on the local folder, saying why', () => {
    let caught: unknown;
    try {
      loadProcessorConfig({ ...secrets, STORAGE_REQUIRE_SHARED: 'true' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toMatch(/^processor: invalid settings: STORAGE_REQUIRE_SHARED: more than one node runs.*SUPABASE_URL/);
  });

  it('starts with the Supabase bucket set, and on the local folder when not required', () => {
    const shared = loadProcessorConfig({ ...secrets, STORAGE_REQUIRE_SHARED: 'true', SUPABASE_URL: 'https://p.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k' });
    expect(shared.STORAGE_REQUIRE_SHARED).toBe(true);
    expect(loadProcessorConfig(secrets).STORAGE_REQUIRE_SHARED).toBe(false);
  });
});
