/**
 * The one error class meshparty throws or emits. `code` is stable and documented;
 * match on it, never on `message`.
 *
 * @example
 * ```ts
 * room.on('error', (err) => { if (err.code === 'wrong-password') askAgain(); });
 * ```
 */
export class MeshpartyError extends Error {
  /** A stable, kebab-case identifier such as `room-full` or `wrong-password`. */
  readonly code: string;
  /** Extra machine-readable detail (peer id, sizes, ...), when there is any. */
  readonly detail?: Record<string, unknown>;

  constructor(code: string, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'MeshpartyError';
    this.code = code;
    if (detail) this.detail = detail;
  }
}
