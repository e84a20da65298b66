import { errorMessage } from '../chat/error-message';

/** A failed action's reason in words (the server's refusal, or a generic sentence), announced to screen readers. */
export function ErrorAlert({ error, className = 'mt-1 text-sm' }: { error: unknown; className?: string }) {
  if (!error) return null;
  return (
    <p role="alert" className={`text-red-700 ${className}`}>
      {errorMessage(error)}
    </p>
  );
}
