/**
 * "This fd is about to be closed": the one notice iomux's own close paths (`os.close`, `Socket.close`,
 * `Epoll.close`, `Kqueue.close`) give before close(2), so that whatever watches the fd (iomux/loop) can let
 * go of it first.
 * A leaf module: the closers import it, and loop/ registers its listener here, so the layers below never
 * import loop/.
 */

/** Called with the fd number just before it is closed; must not throw. */
export type FdCloseListener = (fd: number) => void;

let listener: FdCloseListener | null = null;

/** Sets the listener (iomux/loop's watch registry, once per thread). */
export function setFdCloseListener(next: FdCloseListener): void {
  listener = next;
}

/** Tells the listener, if any, that `fd` is about to be closed. */
export function beforeFdClose(fd: number): void {
  if (listener !== null) listener(fd);
}
