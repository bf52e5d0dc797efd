import type { ReactNode } from 'react';
import type { AsyncState } from '../state/use-async';

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorNote({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="error-note" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** The loading and error states of an AsyncState, or its data handed to `children`. */
export function Loaded<T>({ state, what, children }: { state: AsyncState<T> & { reload?: () => void }; what: string; children: (data: T) => ReactNode }) {
  switch (state.status) {
    case 'loading':
      return <Loading what={what} />;
    case 'error':
      return <ErrorNote message={`Could not load ${what}: ${state.message}`} {...(state.reload ? { onRetry: state.reload } : {})} />;
    case 'ready':
      return <>{children(state.data)}</>;
  }
}
