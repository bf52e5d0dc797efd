import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the CLI keeps the seller's API key between runs. The key spends the seller's credits,
 * so the file is readable by its owner alone (0600) inside a folder only they can list (0700),
 * as ssh and gh keep theirs. Only the key and the gateway it belongs to are stored: never the
 * password, never the short-lived session token used to make the key.
 */
export interface StoredConfig {
  /** The gateway the key was made on (later commands go there unless told otherwise). */
  url: string;
  api_key: string;
}

export const DEFAULT_GATEWAY_URL = 'http://localhost:8080';
const CONFIG_FILE = 'config.json';

/** `$MASTERPOST_CONFIG_DIR` (tests, several accounts), else the XDG config folder, else ~/.config. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MASTERPOST_CONFIG_DIR) return path.resolve(env.MASTERPOST_CONFIG_DIR);
  if (env.XDG_CONFIG_HOME) return path.join(path.resolve(env.XDG_CONFIG_HOME), 'masterpost');
  return path.join(os.homedir(), '.config', 'masterpost');
}

export const configFile = (env: NodeJS.ProcessEnv = process.env): string => path.join(configDir(env), CONFIG_FILE);

export async function readConfig(env: NodeJS.ProcessEnv = process.env): Promise<StoredConfig | null> {
  let text: string;
  try {
    text = await readFile(configFile(env), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { url, api_key: apiKey } = parsed as Record<string, unknown>;
  if (typeof url !== 'string' || typeof apiKey !== 'string') return null;
  return { url, api_key: apiKey };
}

/**
 * Written to a temporary file created 0600 and renamed over the old one: the key is never in a
 * file others can read, not even for a moment, and a crash leaves the old file whole. The modes
 * are set again explicitly because mkdir/open apply the umask and leave an existing folder as is.
 */
export async function writeConfig(config: StoredConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = path.join(dir, CONFIG_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return file;
}

/** The gateway a command talks to: the option, then `$MASTERPOST_URL`, then the one logged in to. */
export function gatewayUrl(option: string | undefined, stored: StoredConfig | null, env: NodeJS.ProcessEnv = process.env): string {
  const url = option ?? env.MASTERPOST_URL ?? stored?.url ?? DEFAULT_GATEWAY_URL;
  return url.replace(/\/+$/, '');
}
