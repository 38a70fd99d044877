/**
 * Copying errors with more context. `Data.TaggedError` keeps `cause` as a non-enumerable
 * property, so `{ ...error }` drops it: every copy goes through here.
 * @internal
 */
import type { Http1Error } from "../Http1Error.js"

/** A copy of `error` (same class) with `extra` fields, its `cause` kept. */
export const withFields = <E extends Http1Error>(error: E, extra: object): E => {
  const Ctor = error.constructor as new (args: object) => E
  const cause = (error as { readonly cause?: unknown }).cause
  return new Ctor(cause === undefined ? { ...error, ...extra } : { ...error, cause, ...extra })
}
