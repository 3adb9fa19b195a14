/** The socket module's own error, `gaierror`, and the helpers that raise errors the way CPython's does. */
import { OSError } from '../errors.js';
import { EAI_SYSTEM, gaiStrerror, type GaiFailure } from '../sys/netdb.js';

const EAI_NAMES: Record<number, string> = {
  [-1]: 'EAI_BADFLAGS', [-2]: 'EAI_NONAME', [-3]: 'EAI_AGAIN', [-4]: 'EAI_FAIL', [-5]: 'EAI_NODATA',
  [-6]: 'EAI_FAMILY', [-7]: 'EAI_SOCKTYPE', [-8]: 'EAI_SERVICE', [-9]: 'EAI_ADDRFAMILY', [-10]: 'EAI_MEMORY',
  [-11]: 'EAI_SYSTEM', [-12]: 'EAI_OVERFLOW',
};

/**
 * Python's `socket.gaierror`: a failed name lookup. `errno` is the EAI_* code (negative on Linux, -2 for
 * "Name or service not known"), `code` its name ('EAI_NONAME'), the message "[Errno -2] Name or service not
 * known".
 */
export class gaierror extends OSError {
  constructor(eaiCode: number, message?: string) {
    super(eaiCode, message ?? gaiStrerror(eaiCode));
    Object.defineProperty(this, 'code', { value: EAI_NAMES[eaiCode], enumerable: true });
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
