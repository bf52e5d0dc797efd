import { newWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from './webhook-signing';
import { checkWebhookTarget, WebhookTargetError } from './webhook-target';

test('signatures reproduce the Standard Webhooks published test vector', () => {
  // From the Standard Webhooks specification and its reference libraries (Svix's tests carry it too).
  expect(signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  );
});

test('during a rotation both secrets sign, and either one verifies; another does not', () => {
  const [old, fresh, stranger] = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()];
  const headers = webhookHeaders([fresh, old], 'evt_1', 1700000000, '{}');
  const signed = { id: headers['webhook-id']!, timestamp: headers['webhook-timestamp']!, signature: headers['webhook-signature']! };
  expect(signed.signature.split(' ')).toHaveLength(2);
  expect(verifyWebhook(old, signed, '{}')).toBe(true);
  expect(verifyWebhook(fresh, signed, '{}')).toBe(true);
  expect(verifyWebhook(stranger, signed, '{}')).toBe(false);
  expect(verifyWebhook(fresh, signed, '{"tampered":true}')).toBe(false);
});

test.each([
  ['http://127.0.0.1/', /127\.0\.0\.1/],
  ['http://10.1.2.3/', /10\.1\.2\.3/],
  ['http://172.16.0.9/', /172\.16\.0\.9/],
  ['http://192.168.1.1/', /192\.168\.1\.1/],
  ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254/],
  ['http://100.64.0.1/', /100\.64\.0\.1/],
  ['http://0.0.0.0/', /0\.0\.0\.0/],
  ['http://[::1]/', /::1/],
  ['http://[fd00::1]/', /fd00::1/],
  ['http://[fe80::1]/', /fe80::1/],
  ['http://[::ffff:127.0.0.1]/', /::ffff/],
  ['http://localhost/', /127\.0\.0\.1|::1/],
  ['ftp://example.com/', /http/],
  ['http://user:pass@example.com/', /credentials/],
  ['not a url', /not a URL/],
])('%s is refused, naming why', async (url, why) => {
  await expect(checkWebhookTarget(url, [])).rejects.toThrow(WebhookTargetError);
  await expect(checkWebhookTarget(url, [])).rejects.toThrow(why);
});

test('a public address is accepted, and an operator may allow a named inner host', async () => {
  await expect(checkWebhookTarget('https://93.184.215.14/hook', [])).resolves.toMatchObject({ address: '93.184.215.14', family: 4 });
  await expect(checkWebhookTarget('http://127.0.0.1:9000/hook', ['127.0.0.1'])).resolves.toMatchObject({ address: '127.0.0.1' });
});
