/**
 * Interest and readiness bits, as the selectors module numbers them; each backend maps them onto its API.
 * A module of their own so that a connection (which keeps what it watches) and the backend interface (which
 * takes connections) do not import each other.
 */
export const READ = 1;
export const WRITE = 2;
/** Readiness only: select()'s exceptional condition (TCP urgent data). */
export const URGENT = 4;
