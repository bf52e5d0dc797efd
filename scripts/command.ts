/**
 * How the operator commands end: the exit code their work returns, or 1 with the error's
 * message (never a stack trace for an operator to read past).
 */
export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
