import { ChatError, ErrorObjectSchema } from '@chat/protocol';

/**
 * Text for the user. A ChatError's message (or a wire error object's) is written for people; codes that
 * carry no useful text of their own get a sentence here; anything else is not shown as it is.
 */
export function errorMessage(err: unknown): string {
  const parsed = err instanceof ChatError ? { code: err.code, message: err.message } : ErrorObjectSchema.safeParse(err).data;
  if (!parsed) return 'Something went wrong. Try again.';
  switch (parsed.code) {
    case 'UNAVAILABLE':
      return 'The server cannot be reached. Try again in a moment.';
    case 'RATE_LIMITED':
      return 'Too many attempts. Wait a moment and try again.';
    case 'INTERNAL':
      return 'Something went wrong on the server. Try again.';
    case 'PAYLOAD_TOO_LARGE':
      return 'That is too large to send.';
    default:
      return parsed.message;
  }
}
