/** The socket module's own error, `gaierror`, and the helpers that raise errors the way CPython's does. */
import { OSError } from '../errors.js';
import { EAI_SYSTEM, eaiName, gaiStrerror, type GaiFailure } from '../sys/netdb.js';

/**
 * Python's `socket.gaierror`: a failed name lookup. `errno` is the EAI_* code (negative on Linux, -2 for
 * "Name or service not known"), `code` its name ('EAI_NONAME'), the message "[Errno -2] Name or service not
 * known".
 *
 * @python socket.gaierror
 */
export class gaierror extends OSError {
  constructor(eaiCode: number, message?: string) {
    super(eaiCode, message ?? gaiStrerror(eaiCode));
    Object.defineProperty(this, 'code', { value: eaiName(eaiCode), enumerable: true });
  }
}

/** The error CPython raises for a failed getaddrinfo: OSError from errno for EAI_SYSTEM, else gaierror. */
export function gaiError(failure: GaiFailure): OSError {
  return failure.code === EAI_SYSTEM && failure.errno !== 0 ? OSError.fromErrno(failure.errno) : new gaierror(failure.code);
}

/** An OSError of the class Python picks for `errnum`, with a message of our own after "[Errno N] ". */
export function osErrorWithMessage(errnum: number, message: string): OSError {
  const Cls = OSError.fromErrno(errnum).constructor as new (errnum: number, message?: string) => OSError;
  return new Cls(errnum, message);
}
