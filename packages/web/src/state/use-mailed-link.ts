import { useEffect, useState } from 'react';

export type LinkOutcome<T> = { status: 'working' } | { status: 'done'; data: T } | { status: 'failed'; error: unknown };

// A mailed token works once: the answer is kept per token, so a screen mounted twice (React's
// StrictMode, a re-render) follows the link once and both see the same outcome.
const followed = new Map<string, Promise<unknown>>();

/** Follows a link of one of our mails (its token) as the page opens, once, and keeps what happened. */
export function useMailedLink<T>(kind: string, token: string, follow: (token: string) => Promise<T>): LinkOutcome<T> {
  const [outcome, setOutcome] = useState<LinkOutcome<T>>({ status: 'working' });
  useEffect(() => {
    let current = true;
    const key = `${kind}:${token}`;
    let answer = followed.get(key) as Promise<T> | undefined;
    if (!answer) {
      answer = follow(token);
      followed.set(key, answer);
    }
    answer.then(
      (data) => current && setOutcome({ status: 'done', data }),
      (error: unknown) => current && setOutcome({ status: 'failed', error }),
    );
    return () => {
      current = false;
    };
    // `follow` is a new function on every render; the link is the token.
  }, [kind, token]);
  return outcome;
}
