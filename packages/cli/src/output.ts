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

/** "1 picture", "3 pictures"; `many` where the plural is not `one` + s. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
