/**
 * A response being read: Python's `HTTPResponse` told in Effect.
 *
 * The head (status, reason, version, headers) is there when you get the response; the body is
 * pulled from the socket as you read it: `read()` for all of it, `read(n)` for at most `n` bytes,
 * `readInto(buffer)`, or `stream`. Once the body has been read to its end the connection can carry
 * the next request (unless `willClose`); an error or an interruption mid-body closes it.
 *
 * Reads that buffer the whole body (`read()`, `text`) are bounded by the connection's
 * `maxBodySize` (default 128 MiB) and fail with `BodyTooLarge` past it; `read(n)`, `readInto` and
 * `stream` are not (bound a stream with the `maxStreamedBodySize` option, or `Stream.take`).
 *
 * This module holds types only: responses come from `HttpConnection.getResponse`.
 *
 * @example
 * ```ts
 * const res = yield* conn.getResponse
 * if (res.status === 200) {
 *   const body = yield* res.read()
 * }
 * ```
 * @since 0.1.0
 */
import type { Effect, Stream } from "effect"
import type { Headers } from "./Headers.js"
import type { Http1Error } from "./Http1Error.js"
import type { InterimResponse } from "./protocol/events.js"

export type { InterimResponse } from "./protocol/events.js"

/** The public shape of a response. */
export interface HttpResponse {
  /** Status code, 100–999. */
  readonly status: number
  /** Reason phrase (Latin-1), possibly empty. */
  readonly reason: string
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  readonly version: 10 | 11
  /** Header fields in the order received. */
  readonly headers: Headers
  /** 1xx responses that came before this one. */
  readonly interim: ReadonlyArray<InterimResponse>
  /** Whether the connection is closed after this response (Python's `will_close`). */
  readonly willClose: boolean
  /** Body bytes still expected when the body has a Content-Length (Python's `length`), else undefined. */
  readonly length: number | undefined
  /** The request method this answers. */
  readonly method: string
  /** The header value, repeated fields joined with `", "`; `defaultValue` when absent. */
  getHeader(name: string): string | undefined
  getHeader(name: string, defaultValue: string): string
  /** `[name, value]` pairs in order (Python's `getheaders()`). */
  getHeaders(): Array<[string, string]>
  /**
   * Reads the body: with no argument all that remains (at most `maxBodySize`, else
   * `BodyTooLarge`); with `amt`, up to `amt` bytes (fewer only at the end of the body). An empty
   * array means the body is done.
   */
  read(amt?: number): Effect.Effect<Uint8Array, Http1Error>
  /** Reads up to `buffer.length` bytes into `buffer`; resolves with the count (0 at the end). */
  readInto(buffer: Uint8Array): Effect.Effect<number, Http1Error>
  /** The remaining body as a stream of chunks (slices as they arrive). */
  readonly stream: Stream.Stream<Uint8Array, Http1Error>
  /** Reads and discards the rest of the body, so the connection can be reused. */
  readonly drain: Effect.Effect<void, Http1Error>
  /** The whole body decoded as UTF-8 (bounded like `read()`). */
  readonly text: Effect.Effect<string, Http1Error>
  /** Trailer fields of a chunked body; `undefined` until the body has been read to its end. */
  readonly trailers: Headers | undefined
  /** Whether the body has been read to its end or the response was closed. */
  isClosed(): boolean
  /** Stops reading: the connection is closed unless the body was already read to its end. */
  readonly close: Effect.Effect<void>
}
