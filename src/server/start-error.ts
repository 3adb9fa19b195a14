/**
 * The server could not start, and nothing was left running: no listener (a port in use, a name that does
 * not resolve, a privileged port) or no backend (no libkqueue). `message` says what could not be done
 * ("cannot listen on 127.0.0.1 port 80"), `cause` is the OSError that says why; the CLI prints both as
 * one line.
 */
export class ServerStartError extends Error {
  constructor(what: string, cause: unknown) {
    super(what, { cause });
  }

  override get name(): string {
    return 'ServerStartError';
  }
}
