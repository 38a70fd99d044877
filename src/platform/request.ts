/**
 * Turning an `@effect/platform` `HttpClientRequest` into a request of our pooled client, and our
 * failures before the response head into platform `RequestError`s.
 *
 * @internal
 * @since 0.1.0
 */
import * as ClientError from "@effect/platform/HttpClientError"
import type * as ClientRequest from "@effect/platform/HttpClientRequest"
import { Data, Either, Stream } from "effect"
import type { Http1Error } from "../Http1Error.js"
import { encodeFormData } from "./multipart.js"

/**
 * A failure of the caller's body source (a platform `Stream` body or a form-data `File`); mapped
 * to `RequestError` reason "Encode" with the original failure as `cause`.
 *
 * @example
 * ```ts
 * Stream.mapError(body.stream, (cause) => new BodySourceError({ cause }))
 * ```
 * @since 0.1.0
 */
export class BodySourceError extends Data.TaggedError("BodySourceError")<{ readonly cause: unknown }> {}

/**
 * What our client's `request` gets from a platform request.
 *
 * @example
 * ```ts
 * const { headers, body } = Either.getOrThrow(convertRequest(request))
 * ```
 * @since 0.1.0
 */
export interface ConvertedRequest {
  readonly headers: Array<[string, string]>
  readonly body: string | Uint8Array | Stream.Stream<Uint8Array, BodySourceError> | undefined
}

const hasHeader = (headers: ReadonlyArray<readonly [string, string]>, name: string): boolean =>
  headers.some(([k]) => k.toLowerCase() === name)

/**
 * Headers and body of `request` for our client. Content-Type / Content-Length come from the body
 * as `HttpClientRequest.setBody` put them in the headers; a form-data body gets its multipart
 * Content-Type (with boundary) and exact Content-Length here. A `Raw` body must be a string, bytes
 * or an `ArrayBuffer`; anything else is refused with `RequestError` reason "Encode".
 *
 * @example
 * ```ts
 * const converted = convertRequest(HttpClientRequest.post("http://x/").pipe(HttpClientRequest.bodyText("hi")))
 * // Right({ headers: [["content-type", "text/plain"], ["content-length", "2"]], body: Uint8Array })
 * ```
 * @since 0.1.0
 */
export const convertRequest = (
  request: ClientRequest.HttpClientRequest
): Either.Either<ConvertedRequest, ClientError.RequestError> => {
  const headers: Array<[string, string]> = []
  for (const name of Object.keys(request.headers)) {
    const value = request.headers[name]
    if (value !== undefined) headers.push([name, String(value)])
  }
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Either.right({ headers, body: undefined })
    case "Uint8Array":
      return Either.right({ headers, body: body.body })
    case "Raw": {
      const raw = body.body
      if (typeof raw === "string" || raw instanceof Uint8Array) return Either.right({ headers, body: raw })
      if (raw instanceof ArrayBuffer) return Either.right({ headers, body: new Uint8Array(raw) })
      if (ArrayBuffer.isView(raw)) return Either.right({ headers, body: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) })
      return Either.left(
        new ClientError.RequestError({
          request,
          reason: "Encode",
          description: `unsupported Raw body (${raw === null ? "null" : typeof raw}): use a string, Uint8Array, Stream or FormData body`
        })
      )
    }
    case "Stream": {
      if (body.contentLength !== undefined && !hasHeader(headers, "content-length")) {
        headers.push(["content-length", String(body.contentLength)])
      }
      return Either.right({ headers, body: Stream.mapError(body.stream, (cause) => new BodySourceError({ cause })) })
    }
    case "FormData": {
      const encoded = encodeFormData(body.formData)
      const rest = headers.filter(([k]) => {
        const n = k.toLowerCase()
        return n !== "content-type" && n !== "content-length" && n !== "transfer-encoding"
      })
      rest.push(["content-type", encoded.contentType], ["content-length", String(encoded.contentLength)])
      return Either.right({ headers: rest, body: Stream.mapError(encoded.stream, (cause) => new BodySourceError({ cause })) })
    }
  }
}

/**
 * Which `RequestError` reason an error before the response head maps to: "InvalidUrl" for
 * `InvalidURL`; "Encode" for caller errors (`InvalidMethod`, request `InvalidHeader`,
 * `RequestBodyError`, body source failures, `InvalidTlsOptions`, `InvalidRequestFraming`,
 * `ContentLengthMismatch` — not "Transport", which
 * `retryTransient` would retry); "Transport" for everything else.
 *
 * @example
 * ```ts
 * requestErrorReason(new TimeoutError({ phase: "headers", timeoutMs: 200 })) // "Transport"
 * ```
 * @since 0.1.0
 */
export const requestErrorReason = (error: Http1Error | BodySourceError): ClientError.RequestError["reason"] => {
  switch (error._tag) {
    case "InvalidURL":
      return "InvalidUrl"
    case "InvalidMethod":
    case "RequestBodyError":
    case "BodySourceError":
    case "InvalidTlsOptions":
    case "InvalidRequestFraming":
    case "ContentLengthMismatch":
      return "Encode"
    case "InvalidHeader":
      return error.side === "request" ? "Encode" : "Transport"
    default:
      // Network failures, timeouts of every phase, pool exhaustion, a failed CONNECT, and protocol
      // errors in the response head (there is no response to hang a ResponseError on yet).
      return "Transport"
  }
}

/**
 * Our failure before the response head as a platform `RequestError`; `cause` is our typed error
 * (the source's own failure for a `BodySourceError`), `description` its message.
 *
 * @example
 * ```ts
 * Effect.mapError(exchange, (e) => toRequestError(request, e))
 * ```
 * @since 0.1.0
 */
export const toRequestError = (
  request: ClientRequest.HttpClientRequest,
  error: Http1Error | BodySourceError
): ClientError.RequestError =>
  error._tag === "BodySourceError"
    ? new ClientError.RequestError({ request, reason: "Encode", cause: error.cause, description: "request body source failed" })
    : new ClientError.RequestError({ request, reason: requestErrorReason(error), cause: error, description: error.message })
