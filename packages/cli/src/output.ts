/**
 * stdout carries the result (the report, the balance, a status) for scripts to read; stderr
 * carries the narration and progress around it, as git and gh do.
 */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}
