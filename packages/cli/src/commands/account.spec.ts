import { confirmDanger } from '../prompt';
import { accountLines, switchIn } from './account';
import { emailIn, sentence } from './account-mail';

const account = {
  id: '11111111-1111-4111-8111-111111111111', email: 'me@example.com', credits: { balance: 12, reserved: 3, available: 9 },
  email_verified: false, pending_email: 'new@example.com', notify_pictures_ready: false, has_password: true,
};

test('the account is shown with what an unproven address and a pending one mean for the seller', () => {
  expect(accountLines(account, 'http://localhost:8080')).toEqual([
    'me@example.com at http://localhost:8080',
    expect.stringMatching(/^ {2}address: NOT verified: nothing can be spent until .*masterpost account verify <link>/),
    '  new address waiting for its link: new@example.com (masterpost account confirm-email <link>)',
    '  credits: 9 available (balance 12, 3 reserved)',
    '  mail me when my pictures are ready: off',
    '  password: set',
  ]);
});

test('on/off, an address and the gateway\'s messages are read as a seller types and reads them', () => {
  expect([switchIn('ON'), switchIn(' off '), switchIn('yes')]).toEqual([true, false, true]);
  expect(() => switchIn('maybe')).toThrow('say "on" or "off", not "maybe"');
  expect(emailIn(' new@example.com ')).toBe('new@example.com');
  expect(() => emailIn('on', 'the new address')).toThrow('the new address "on" is not an email address');
  expect(sentence('a link is on its way')).toBe('A link is on its way.');
  expect(sentence('Done!')).toBe('Done!');
});

test('a dangerous action without --yes and without a terminal stops, naming the flag, instead of waiting for an answer', async () => {
  const tty = process.stdin.isTTY;
  process.stdin.isTTY = false;
  try {
    await expect(confirmDanger('Revoke key "ci"?', 'revoke key "ci"', undefined)).rejects.toThrow('there is no terminal to confirm in: pass --yes to revoke key "ci" without being asked');
    await expect(confirmDanger('Revoke key "ci"?', 'revoke key "ci"', true)).resolves.toBe(true);
  } finally {
    process.stdin.isTTY = tty;
  }
});
