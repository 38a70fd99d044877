/**
 * One HTTP/1.1 connection, one request/response at a time: Python's `HTTPConnection` told in
 * Effect.
 *
 * The socket is opened lazily by the first request (Python's auto-open), kept alive between
 * exchanges, reopened after a response that closes it, and released with the `Scope` the
 * connection was made in. Calls out of order fail with `CannotSendRequest`, `CannotSendHeader`
 * or `ResponseNotReady`, as in Python.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpConnection, Transport } from "effect-http1"
 *
 * const program = Effect.gen(function* () {
 *   const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: 8080, timeout: "5 seconds" })
 *   yield* conn.request("GET", "/")
 *   const res = yield* conn.getResponse
 *   return yield* res.read()
 * }).pipe(Effect.scoped, Effect.provide(Transport.layer))
 * ```
 * @since 0.1.0
 */
import type { Effect, Scope } from "effect"
import type { InvalidTlsOptions, InvalidURL } from "./Http1Error.js"
import { makeWith, type HttpConnection, type Options } from "./internal/connection.js"
import type { Transport } from "./Transport.js"

export type { HttpResponse } from "./HttpResponse.js"
export type {
  Body,
  BodyChunk,
  ConnectionState,
  HttpConnection,
  Options,
  PutRequestOptions,
  RequestOptions
} from "./internal/connection.js"

/**
 * Makes a connection to `options.host`. No socket is opened until the first request (or
 * `connect`); every socket is closed when the surrounding `Scope` closes. `tls` options are
 * checked here (`InvalidTlsOptions`).
 *
 * @example
 * ```ts
 * const conn = yield* HttpConnection.make({ host: "[::1]:8080" })
 * ```
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<HttpConnection, InvalidURL | InvalidTlsOptions, Transport | Scope.Scope> =>
  makeWith(options, false)
