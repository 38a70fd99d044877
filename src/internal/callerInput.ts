/**
 * What a plain-JS caller hands the request paths, checked before anything is built: header
 * input and body values. Typed errors, never a thrown TypeError.
 * @internal
 */
import { Headers, type HeadersInput } from "../Headers.js"
import { RequestBodyError, type InvalidHeader } from "../Http1Error.js"
import { bodyKindOf, type BodyKind } from "../protocol/RequestEncoder.js"
import { describe } from "./body.js"

/** The caller's header fields as pairs, or why they cannot be sent. */
export const callerHeaders = (input: HeadersInput | undefined): Array<[string, string]> | InvalidHeader => {
  const headers = Headers.fromInput(input)
  return headers instanceof Headers ? headers.pairs() : headers
}

/** What is known of a caller's body, or `RequestBodyError` for a value that is not a body. */
export const callerBody = (body: unknown): BodyKind | RequestBodyError => {
  let kind: BodyKind | undefined
  try {
    // A hostile value (a revoked Proxy, a throwing getter) can throw from `instanceof` or `in`.
    kind = bodyKindOf(body)
  } catch (cause) {
    return new RequestBodyError({ cause })
  }
  if (kind !== undefined) return kind
  return new RequestBodyError({
    cause: new TypeError(`a request body must be a string, bytes, an iterable, an async iterable or a Stream; got ${describe(body)}`)
  })
}
