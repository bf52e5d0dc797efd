import { editSettings } from './edit-settings';
import { CliError, ExitCode } from './exit-codes';

/** The edit command's options become the settings the gateway takes, or an error naming the option. */
function refusal(options: Parameters<typeof editSettings>[0]): string {
  try {
    editSettings(options);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.Usage);
    return (error as CliError).message;
  }
  throw new Error('accepted');
}

test('options become settings, typed as the gateway wants them; the options win over --settings', () => {
  expect(
    editSettings({ shadow: 'Drop', shadowOpacity: '0.4', background: '#F0F0F0', coverage: '0.8', size: '1600x1200', format: 'jpg', quality: '90', settings: '{"shadow":{"blur":12,"type":"none"},"coverage":0.6}' }),
  ).toEqual({ shadow: { type: 'drop', opacity: 0.4, blur: 12 }, background: '#F0F0F0', coverage: 0.8, size: { width: 1600, height: 1200 }, format: 'jpeg', quality: 90 });
  expect(editSettings({})).toEqual({});
});

test('a value out of range or of the wrong kind is named by the option typed, one from --settings by its field', () => {
  expect(refusal({ coverage: '0.99' })).toMatch(/^--coverage: .*0\.95/);
  expect(refusal({ coverage: 'most' })).toBe('--coverage takes a number, not "most"');
  expect(refusal({ shadow: 'purple' })).toMatch(/^--shadow: /);
  expect(refusal({ shadowOpacity: '2' })).toMatch(/^--shadow-opacity: /);
  expect(refusal({ size: 'big' })).toMatch(/^--size takes WIDTHxHEIGHT/);
  expect(refusal({ size: '50x50' })).toMatch(/^--size: /);
  expect(refusal({ background: 'white' })).toMatch(/^--background: must be a colour written #RRGGBB/);
  expect(refusal({ format: 'gif' })).toMatch(/^--format: /);
  expect(refusal({ settings: '{"coverage":2}' })).toMatch(/^--settings \(coverage\): /);
  expect(refusal({ settings: '{"glow":true}' })).toMatch(/^--settings/);
  expect(refusal({ settings: '[1]' })).toMatch(/^--settings must be a JSON object/);
  expect(refusal({ settings: '{oops' })).toMatch(/^--settings must be a JSON object \(/);
});
