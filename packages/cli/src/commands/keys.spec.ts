import type { Schemas } from '@masterpost/client';
import { checkedKeyName, findKey, keyLine } from './keys';

type ApiKey = Schemas['ApiKey'];

const key = (id: string, name: string, prefix: string, revoked: string | null = null): ApiKey => ({
  id, name, prefix, created_at: '2025-01-02T03:04:05.000Z', last_used_at: null, revoked_at: revoked,
});
const shop = key('11111111-1111-4111-8111-111111111111', 'shop sync', 'mp_AAAAAAA');
const ci = key('22222222-2222-4222-8222-222222222222', 'ci', 'mp_BBBBBBB');
const ciOld = key('33333333-3333-4333-8333-333333333333', 'ci', 'mp_CCCCCCC', '2025-01-01T00:00:00.000Z');
const keys = [shop, ci, ciOld];

test('a key is found by its id, its prefix as listed, the whole key, or the name of one live key', () => {
  expect(findKey(keys, shop.id.toUpperCase())).toBe(shop);
  expect(findKey(keys, 'mp_AAAAAAA…')).toBe(shop);
  expect(findKey(keys, 'mp_BBBBBBBrest-of-the-secret')).toBe(ci);
  // The revoked "ci" does not make the name ambiguous.
  expect(findKey(keys, 'ci')).toBe(ci);
  expect(findKey(keys, ciOld.id)).toBe(ciOld);
});

test('an unknown or ambiguous key is refused, saying how to name it', () => {
  expect(() => findKey(keys, 'nightly')).toThrow(/no live API key has the id, prefix or name "nightly"/);
  expect(() => findKey([shop, { ...ci, name: 'shop sync' }], 'shop sync')).toThrow(/2 live keys are named "shop sync": give the id/);
});

test('the listing marks this computer\'s key, and a name is 1 to 100 characters', () => {
  expect(keyLine(ci, 'mp_BBBBBBBsecret')).toBe(`${ci.id}\tmp_BBBBBBB…\tci\tcreated 2025-01-02 03:04\tnever used\t(this computer's key)`);
  expect(keyLine(ciOld, undefined)).toContain('revoked 2025-01-01 00:00');
  expect(checkedKeyName('  ci  ')).toBe('ci');
  expect(() => checkedKeyName('   ')).toThrow(/--name takes 1 to 100 characters/);
  expect(() => checkedKeyName('x'.repeat(101))).toThrow(/not 101/);
});
