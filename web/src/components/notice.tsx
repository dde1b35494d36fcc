/** How a failed or pending load shows in place. */
import type { ComponentChildren } from 'preact';
import { ApiError } from '../api.ts';

export function ErrorNotice({
  error,
  children,
}: {
  readonly error: unknown;
  readonly children?: ComponentChildren;
}) {
  const message =
    error instanceof ApiError
      ? error.message
      : error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
  return (
    <div class="notice notice-error" role="alert">
      <p>
        {error instanceof ApiError && error.code !== '' && (
          <code class="error-code">{error.code}</code>
        )}{' '}
        {message}
      </p>
      {children}
    </div>
  );
}

export function Loading({ what }: { readonly what: string }) {
  return (
    <p class="muted loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}
