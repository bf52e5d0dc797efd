import { sharedStorageProblems } from './supabase-storage';

/** More than one node: a local folder would split the files between the nodes' disks. */
describe('the object store required when more than one node runs', () => {
  it('refuses the local folder when STORAGE_REQUIRE_SHARED is set, naming the setting to make', () => {
    const problems = sharedStorageProblems({ STORAGE_REQUIRE_SHARED: true, SUPABASE_URL: undefined, SUPABASE_SERVICE_ROLE_KEY: undefined });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^STORAGE_REQUIRE_SHARED: .*set SUPABASE_URL.*local folder \(STORAGE_DIR\) is refused/);
    expect(problems[1]).toMatch(/^SUPABASE_SERVICE_ROLE_KEY: is required/);
  });

  it('accepts the Supabase bucket, and a single node on its local folder', () => {
    expect(sharedStorageProblems({ STORAGE_REQUIRE_SHARED: true, SUPABASE_URL: 'https://p.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k' })).toEqual([]);
    expect(sharedStorageProblems({ STORAGE_REQUIRE_SHARED: false, SUPABASE_URL: undefined, SUPABASE_SERVICE_ROLE_KEY: undefined })).toEqual([]);
  });
});
