/**
 * Coded errors with advice. Anything a user or operator may see is a VipbotError: `code` is stable
 * (tests and metrics use it), `message` says what happened, `advice` says what would work.
 */
export class VipbotError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly advice?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VipbotError';
  }

  /** One line for a person: the message and, when known, what to do about it. */
  toUserText(): string {
    return this.advice ? `${this.message} — ${this.advice}` : this.message;
  }
}

export function isVipbotError(err: unknown): err is VipbotError {
  return err instanceof VipbotError;
}

/** Best-effort text for any thrown value, never throwing itself. */
export function describeError(err: unknown): string {
  if (err instanceof VipbotError) return err.toUserText();
  if (err instanceof Error) return err.message;
  return String(err);
}
