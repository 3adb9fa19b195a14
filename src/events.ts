/**
 * The readiness bits of `iomux/selectors` and `iomux/loop` (CPython's `selectors.EVENT_READ`/`EVENT_WRITE`).
 * A leaf module, so that loop/ (below the selectors) and selectors/ share them without importing each other.
 */

/** Wait until the file object is readable. */
export const EVENT_READ = 1;
/** Wait until the file object is writable. */
export const EVENT_WRITE = 2;
