import { ChatError } from '@chat/protocol';

/** Text for the user: a ChatError's message is meant to be shown; anything else is not. */
export function errorMessage(err: unknown): string {
  if (err instanceof ChatError) return err.code === 'UNAVAILABLE' ? 'The server cannot be reached. Try again in a moment.' : err.message;
  return 'Something went wrong. Try again.';
}
