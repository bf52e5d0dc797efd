import { jobSettingsSchema, type JobSettings } from '@masterpost/contracts';
import { usageError } from './exit-codes';

/**
 * The settings of `masterpost edit`, from its options and --settings JSON, checked here against
 * the same schema the gateway uses, so a wrong value is named by the option the seller typed
 * (`--coverage`, not `settings.coverage`) and nothing is sent. The gateway still checks what the
 * marketplace allows (Amazon's white background, a minimum size).
 */
export interface EditOptions {
  shadow?: string;
  shadowOpacity?: string;
  background?: string;
  coverage?: string;
  size?: string;
  format?: string;
  quality?: string;
  settings?: string;
}

/** Which option sets which field, to name the option in an error about a value it gave. */
const OPTION_OF: Array<[field: string, option: keyof EditOptions, flag: string]> = [
  ['shadow.type', 'shadow', '--shadow'],
  ['shadow.opacity', 'shadowOpacity', '--shadow-opacity'],
  ['background', 'background', '--background'],
  ['coverage', 'coverage', '--coverage'],
  ['size', 'size', '--size'],
  ['format', 'format', '--format'],
  ['quality', 'quality', '--quality'],
];

function numberIn(option: string, value: string): number {
  const number = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(number)) throw usageError(`${option} takes a number, not "${value}"`);
  return number;
}

function sizeIn(value: string): { width: number; height: number } {
  const match = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(value);
  if (!match) throw usageError(`--size takes WIDTHxHEIGHT in pixels (e.g. 2000x2000), not "${value}"`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

function jsonSettings(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`--settings must be a JSON object (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError('--settings must be a JSON object, e.g. \'{"shadow":{"type":"drop","blur":12}}\'');
  return parsed as Record<string, unknown>;
}

/** The settings to send; empty when nothing was asked (then the picture is made again as it was set). */
export function editSettings(options: EditOptions): JobSettings {
  const settings: Record<string, unknown> = options.settings ? jsonSettings(options.settings) : {};
  const shadow: Record<string, unknown> = typeof settings.shadow === 'object' && settings.shadow !== null ? { ...(settings.shadow as Record<string, unknown>) } : {};
  if (options.shadow !== undefined) shadow.type = options.shadow.trim().toLowerCase();
  if (options.shadowOpacity !== undefined) shadow.opacity = numberIn('--shadow-opacity', options.shadowOpacity);
  if (Object.keys(shadow).length) settings.shadow = shadow;
  if (options.background !== undefined) settings.background = options.background.trim();
  if (options.coverage !== undefined) settings.coverage = numberIn('--coverage', options.coverage);
  if (options.size !== undefined) settings.size = sizeIn(options.size);
  if (options.format !== undefined) settings.format = options.format.trim().toLowerCase() === 'jpg' ? 'jpeg' : options.format.trim().toLowerCase();
  if (options.quality !== undefined) settings.quality = numberIn('--quality', options.quality);

  const checked = jobSettingsSchema.safeParse(settings);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = issue.path.join('.');
    const given = OPTION_OF.find(([path, option]) => options[option] !== undefined && (field === path || field.startsWith(`${path}.`)));
    const option = given?.[2] ?? (field ? `--settings (${field})` : '--settings');
    throw usageError(`${option}: ${issue.message}`);
  }
  return checked.data;
}
