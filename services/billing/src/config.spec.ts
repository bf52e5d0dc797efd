import { loadBillingConfig } from './config';

/** Settings that used to be read outside the schema are now named when they are wrong. */
const base = { BILLING_SERVICE_TOKEN: 'x'.repeat(40) };

test('CREDIT_PACKS that is not JSON, or whose pack is wrong, stops the start naming the setting', () => {
  expect(() => loadBillingConfig({ ...base, CREDIT_PACKS: '[{"id":"pro"' })).toThrow(/CREDIT_PACKS: is not JSON/);
  expect(() => loadBillingConfig({ ...base, CREDIT_PACKS: '[{"id":"pro","name":"Pro","credits":-5,"price_cents":100,"currency":"usd"}]' })).toThrow(/CREDIT_PACKS: \[0\]\.credits: /);
  expect(loadBillingConfig({ ...base, CREDIT_PACKS: '[{"id":"pro","name":"Pro","credits":5,"price_cents":100,"currency":"usd"}]' }).CREDIT_PACKS).toContain('"pro"');
});

test('a LOG_LEVEL pino does not know is named', () => {
  expect(() => loadBillingConfig({ ...base, LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL: /);
  expect(loadBillingConfig({ ...base, LOG_LEVEL: 'debug' }).LOG_LEVEL).toBe('debug');
});
