import { CliError } from './exit-codes';
import { tokenIn } from './mailed-link';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv_-0123';

test('the token is taken from the whole link as copied out of a mail, or given alone', () => {
  expect(tokenIn(`https://masterpost.example.com/verify-email?token=${TOKEN}`)).toBe(TOKEN);
  expect(tokenIn(`  http://localhost:8080/reset-password?utm=x&token=${TOKEN}\n`)).toBe(TOKEN);
  expect(tokenIn(TOKEN)).toBe(TOKEN);
});

test('a link without its token, a cut-off token or another text is refused with what to paste', () => {
  expect(() => tokenIn('https://masterpost.example.com/verify-email')).toThrow(/has no \?token=/);
  expect(() => tokenIn('https://masterpost.example.com/verify-email?token=short')).toThrow(CliError);
  expect(() => tokenIn('not a link at all')).toThrow(/not the link or token from one of our mails/);
});
