/**
 * Python's `HTTPSConnection`: the same API as {@link HttpConnection}, over TLS.
 *
 * Certificate chain and hostname verification are on unless `tls.rejectUnauthorized` is set to
 * `false` by name; SNI is sent for host names (not IP literals); ALPN offers `http/1.1`. It opens
 * TLS whatever the provided `Transport` layer's default is. With `setTunnel`, CONNECT goes to the
 * proxy in clear and TLS starts inside the tunnel, verified against the tunnel's host.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpsConnection, Transport } from "effect-http1"
 *
 * const program = Effect.gen(function* () {
 *   const conn = yield* HttpsConnection.make({ host: "localhost", port: 8443, tls: { ca: myCaPem } })
 *   yield* conn.request("GET", "/")
 *   const res = yield* conn.getResponse
 *   return yield* res.text
 * }).pipe(Effect.scoped, Effect.provide(Transport.layer))
 * ```
 * @since 0.1.0
 */
import type { Effect, Scope } from "effect"
import type { InvalidTlsOptions, InvalidURL } from "./Http1Error.js"
import { makeWith, type HttpConnection, type Options } from "./internal/connection.js"
import type { Transport } from "./Transport.js"

export type { HttpConnection as HttpsConnection, Options } from "./HttpConnection.js"

/** Makes an HTTPS connection (default port 443). No socket is opened until the first request. */
export const make = (options: Options): Effect.Effect<HttpConnection, InvalidURL | InvalidTlsOptions, Transport | Scope.Scope> =>
  makeWith(options, true)
