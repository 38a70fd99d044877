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
 * Responses come from `HttpConnection.getResponse`. This module also holds the `effect/Schema`
 * decoders of responses (`schemaBodyJson`, `schemaJson`, `schemaNoBody`, `schemaHeaders`), named
 * as `@effect/platform`'s `HttpClientResponse` ones; they take a connection's `HttpResponse` and
 * the pooled client's `ClientResponse` alike.
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
import type { Effect, ParseResult, Schema, Stream } from "effect"
import type { ParseOptions } from "effect/SchemaAST"
import type { Headers } from "./Headers.js"
import type { Http1Error } from "./Http1Error.js"
import type { InterimResponse } from "./protocol/events.js"

import * as internal from "./internal/schema.js"

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
  /** The whole body (`read()`: bounded by `maxBodySize`). */
  readonly bytes: Effect.Effect<Uint8Array, Http1Error>
  /** The whole body parsed as JSON (bounded like `read()`); `DecodeError` when it is not JSON. */
  readonly json: Effect.Effect<unknown, Http1Error>
  /** Trailer fields of a chunked body; `undefined` until the body has been read to its end. */
  readonly trailers: Headers | undefined
  /** Whether the body has been read to its end or the response was closed. */
  isClosed(): boolean
  /** Stops reading: the connection is closed unless the body was already read to its end. */
  readonly close: Effect.Effect<void>
}

/**
 * What the schema decoders read: a connection's {@link HttpResponse} or the pooled client's
 * `ClientResponse` (anything with `status`, `headers`, `text` and `json`).
 * @since 0.1.0
 */
export type SchemaReadable = internal.SchemaReadable

/**
 * Reads the whole body as JSON (bounded by `maxBodySize`, as `json`) and decodes it with
 * `schema`: `DecodeError` when the body is not JSON, `ParseError` when it does not match.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { HttpResponse } from "effect-http1"
 *
 * const Item = Schema.Struct({ id: Schema.Number, name: Schema.String })
 * const item = client.get(url).pipe(Effect.flatMap(HttpResponse.schemaBodyJson(Item)), Effect.scoped)
 * // Effect<{ id: number; name: string }, Http1Error | ParseError, HttpClient>
 * ```
 * @since 0.1.0
 */
export const schemaBodyJson: <A, I, R>(
  schema: Schema.Schema<A, I, R>,
  options?: ParseOptions | undefined
) => (self: SchemaReadable) => Effect.Effect<A, Http1Error | ParseResult.ParseError, R> = internal.schemaBodyJson

/**
 * Decodes `{ status, headers, body }` with `schema`: `headers` as a record of lower-cased names
 * (repeats joined with `", "`), `body` the JSON body (`undefined` for an empty body). A union of
 * structs keyed by `status` decodes the success and error shapes of an API in one go.
 *
 * @example
 * ```ts
 * const Reply = Schema.Union(
 *   Schema.Struct({ status: Schema.Literal(200), body: Item }),
 *   Schema.Struct({ status: Schema.Literal(404), body: Schema.Struct({ error: Schema.String }) })
 * )
 * const reply = client.get(url).pipe(Effect.flatMap(HttpResponse.schemaJson(Reply)), Effect.scoped)
 * ```
 * @since 0.1.0
 */
export const schemaJson: <
  A,
  I extends { readonly status?: number | undefined; readonly headers?: Readonly<Record<string, string>> | undefined; readonly body?: unknown },
  R
>(
  schema: Schema.Schema<A, I, R>,
  options?: ParseOptions | undefined
) => (self: SchemaReadable) => Effect.Effect<A, Http1Error | ParseResult.ParseError, R> = internal.schemaJson

/**
 * Decodes `{ status, headers }` with `schema`; the body is not read (drain or close it).
 *
 * @example
 * ```ts
 * const Created = Schema.Struct({ status: Schema.Literal(201), headers: Schema.Struct({ location: Schema.String }) })
 * const created = yield* HttpResponse.schemaNoBody(Created)(res)
 * ```
 * @since 0.1.0
 */
export const schemaNoBody: <
  A,
  I extends { readonly status?: number | undefined; readonly headers?: Readonly<Record<string, string>> | undefined },
  R
>(
  schema: Schema.Schema<A, I, R>,
  options?: ParseOptions | undefined
) => (self: Pick<SchemaReadable, "status" | "headers">) => Effect.Effect<A, ParseResult.ParseError, R> = internal.schemaNoBody

/**
 * Decodes the header fields (a record of lower-cased names, repeats joined with `", "`) with `schema`.
 *
 * @example
 * ```ts
 * const RateLimit = Schema.Struct({ "x-ratelimit-remaining": Schema.NumberFromString })
 * const { "x-ratelimit-remaining": left } = yield* HttpResponse.schemaHeaders(RateLimit)(res)
 * ```
 * @since 0.1.0
 */
export const schemaHeaders: <A, I extends Readonly<Record<string, string | undefined>>, R>(
  schema: Schema.Schema<A, I, R>,
  options?: ParseOptions | undefined
) => (self: Pick<SchemaReadable, "headers">) => Effect.Effect<A, ParseResult.ParseError, R> = internal.schemaHeaders
