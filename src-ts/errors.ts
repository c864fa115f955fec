/**
 * The one error type of the library. `code` is stable and meant for callers to test; the message
 * says what failed, on which container or path, and why.
 */
export type SysboxErrorCode =
  | 'EINVAL_ARGUMENT'
  | 'EINVAL_CONFIG'
  | 'ENOT_FOUND'
  | 'EEXISTS'
  | 'EBAD_STATE'
  | 'ESYSTEM'
  | 'EINIT';

export class SysboxError extends Error {
  readonly code: SysboxErrorCode;

  constructor(code: SysboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SysboxError';
    this.code = code;
  }
}

export function invalidConfig(message: string): SysboxError {
  return new SysboxError('EINVAL_CONFIG', message);
}

/** runc's wording: containerd matches "does not exist" to tell a missing container apart. */
export function notFound(id: string): SysboxError {
  return new SysboxError('ENOT_FOUND', `container ${JSON.stringify(id)} does not exist`);
}

/** Wraps a Node.js system error with what was being done. */
export function systemError(what: string, err: unknown): SysboxError {
  const detail = err instanceof Error ? err.message : String(err);
  return new SysboxError('ESYSTEM', `${what}: ${detail}`, { cause: err });
}
