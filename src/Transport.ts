/**
 * The `Transport` service opens byte streams: plain TCP (`node:net`), TLS (`node:tls`), or an
 * in-memory mock peer for tests. `connect` returns a scoped {@link Socket}, destroyed when its
 * scope closes, whatever happens.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Transport } from "effect-http1"
 *
 * const program = Effect.gen(function* () {
 *   const transport = yield* Transport.Transport
 *   const socket = yield* transport.connect({ host: "127.0.0.1", port: 8080, timeout: "5 seconds" })
 *   yield* socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
 *   const chunk = yield* socket.read({ ms: 30_000, phase: "headers" })
 * }).pipe(Effect.scoped, Effect.provide(Transport.layer))
 * ```
 * @since 0.1.0
 */
import { Context, Effect, Either, Layer } from "effect"
import type { InvalidTlsOptions } from "./Http1Error.js"
import {
  close as mockClose,
  makeMock,
  MockPeer,
  reply as mockReply,
  reset as mockReset,
  stall as mockStall
} from "./transport/mock.js"
import type { MockOptions, MockReplyInput } from "./transport/mock.js"
import { makeNodeTransport } from "./transport/node.js"
import { checkTlsContext, honouredTlsKeys, refusedTlsKeys, validateTlsOptions } from "./transport/tlsOptions.js"
import type { NetOptions, TlsOptions, TransportService } from "./transport/types.js"

export type { ConnectOptions, NetOptions, ReadTimeout, Socket, TlsOptions, TransportService } from "./transport/types.js"
export type {
  MockBytes,
  MockClose,
  MockOptions,
  MockPeerService,
  MockReply,
  MockReplyInput,
  MockReplyOptions,
  MockReset,
  MockStall,
  MockStep
} from "./transport/mock.js"

/**
 * The service tag: `connect(options)` opens a socket in the current scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Transport } from "effect-http1"
 *
 * const socket = Effect.flatMap(Transport.Transport, (t) => t.connect({ host: "::1", port: 8080 }))
 * ```
 * @since 0.1.0
 */
export class Transport extends Context.Tag("effect-http1/Transport")<Transport, TransportService>() {}

/**
 * Plain TCP on `node:net` (TLS when a connect asks for `secure: true`). Sockets get `TCP_NODELAY`
 * and keep-alive probes after 60 s idle.
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(Transport.layerNet))
 * ```
 * @since 0.1.0
 */
export const layerNet: Layer.Layer<Transport> = Layer.succeed(Transport, makeNodeTransport({ secureByDefault: false }))

/**
 * {@link layerNet} with socket-level settings: Happy Eyeballs (`autoSelectFamily`, on by default
 * as in node's own clients) turned off, or another delay between its attempts. A connect's own
 * `autoSelectFamily` / `autoSelectFamilyAttemptTimeout` still win.
 *
 * @example
 * ```ts
 * // Only the first address of a name is tried (no IPv6 / IPv4 racing).
 * const Client = HttpClient.layerWithoutTransport.pipe(Layer.provide(Transport.layerNetWith({ autoSelectFamily: false })))
 * ```
 * @since 0.1.0
 */
export const layerNetWith = (options: NetOptions): Layer.Layer<Transport> =>
  Layer.sync(Transport, () =>
    makeNodeTransport({
      secureByDefault: false,
      autoSelectFamily: options.autoSelectFamily,
      autoSelectFamilyAttemptTimeout: options.autoSelectFamilyAttemptTimeout
    }))

/**
 * TLS on `node:tls` with the given defaults (a connect's own `tls` options merge over them; a
 * connect with `secure: false` opens plain TCP). Certificate chain and hostname are verified unless
 * `rejectUnauthorized: false`; SNI is the host unless it is an IP literal; ALPN offers `http/1.1`.
 *
 * The options are checked by {@link validateTlsOptions} when this is called (a snapshot is taken)
 * and by {@link checkTlsContext} when the layer is built (node builds a secure context from them
 * once: a cipher list matching nothing, an unreadable PEM / PKCS#12, a wrong passphrase...). A
 * refused or unknown key or a bad value makes the layer fail to build with `InvalidTlsOptions`
 * (its error channel), so no connect is ever attempted with them. A connect's own `tls` options
 * are checked by `validateTlsOptions` when it runs.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs"
 *
 * program.pipe(Effect.provide(Transport.layerTlsWith({ ca: readFileSync("ca.pem"), minVersion: "TLSv1.3" })))
 * // Effect<A, E | InvalidTlsOptions, R>
 * ```
 * @since 0.1.0
 */
export const layerTlsWith = (options: TlsOptions): Layer.Layer<Transport, InvalidTlsOptions> => {
  const checked = validateTlsOptions(options)
  return Either.isLeft(checked)
    ? Layer.fail(checked.left)
    : Layer.effect(
      Transport,
      Effect.map(
        Effect.suspend(() => checkTlsContext(checked.right)),
        (tls) => makeNodeTransport({ secureByDefault: true, tls })
      )
    )
}

/**
 * `validateTlsOptions(options)`: checks TLS options; every key must be one of {@link TlsOptions}
 * with a value of the right shape, else `InvalidTlsOptions` names the key and the reason (see
 * `honouredTlsKeys` and `refusedTlsKeys`). Returns the options to use (only the honoured keys
 * that are set). Cheap (no crypto). `checkTlsContext(validated)`: the deeper check, once per
 * layer or client (node builds a secure context from them). Both return an `Either`, which is
 * also an `Effect`.
 *
 * @example
 * ```ts
 * const tls = yield* Transport.validateTlsOptions(options).pipe(Either.flatMap(Transport.checkTlsContext))
 * ```
 * @since 0.1.0
 */
export { checkTlsContext, honouredTlsKeys, refusedTlsKeys, validateTlsOptions }

/**
 * TLS on `node:tls` with the default options (system CAs, full verification).
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(Transport.layerTls))
 * ```
 * @since 0.1.0
 */
export const layerTls: Layer.Layer<Transport> = Layer.succeed(Transport, makeNodeTransport({ secureByDefault: true }))

/**
 * What applications provide: plain TCP unless a connect asks for `secure: true` (HTTPS connections
 * do).
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(Transport.layer))
 * ```
 * @since 0.1.0
 */
export const layer: Layer.Layer<Transport> = layerNet

/**
 * An in-memory peer for tests (no sockets), with its recorder {@link MockPeer}.
 *
 * `replies[i]` answers the i-th request on any connection: a string (Latin-1 bytes), a
 * `Uint8Array`, a function of the request bytes returning either (or a step), or a step from
 * {@link mock}. A request ends after its head, its Content-Length body or its chunked body. The
 * connection closes after the last reply (unless `keepOpen`), so a close-delimited body ends; a
 * request after the script is exhausted is answered by a close. Each use of the layer starts a
 * fresh script.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Transport } from "effect-http1"
 *
 * const test = Effect.gen(function* () {
 *   // ... run requests against Transport.Transport ...
 *   const peer = yield* Transport.MockPeer
 *   expect(peer.requestsText()[0]).toMatch(/^GET \/ HTTP\/1.1\r\n/)
 *   expect(peer.openConnections()).toBe(0)
 * }).pipe(
 *   Effect.provide(
 *     Transport.layerMock([
 *       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
 *       (req) => `HTTP/1.1 200 OK\r\nContent-Length: ${req.length}\r\n\r\n${Buffer.from(req).toString("latin1")}`,
 *       Transport.mock.reply("HTTP/1.1 200 OK\r\n\r\nuntil close", { splitAt: [9], delay: "5 millis" }),
 *       Transport.mock.close
 *     ], { connectError: (attempt) => attempt === 1 })
 *   )
 * )
 * ```
 * @since 0.1.0
 */
export const layerMock = (
  replies: ReadonlyArray<MockReplyInput>,
  options?: MockOptions
): Layer.Layer<Transport | MockPeer> =>
  Layer.effectContext(
    Effect.sync(() => {
      const { peer, transport } = makeMock(replies, options)
      return Context.make(Transport, transport).pipe(Context.add(MockPeer, peer))
    })
  )

/**
 * The recorder of {@link layerMock} (defined in `transport/mock.ts`): requests, bytes written per
 * connection, connections opened and still open.
 * @since 0.1.0
 */
export { MockPeer }

/**
 * Script steps for {@link layerMock}: `reply(bytes | fn, { splitAt, splitEvery, delay, closeAfter,
 * onHead })`, `close` (EOF instead of an answer), `stall` (never answer), `reset` (the read fails
 * with `ConnectionReset`).
 *
 * @example
 * ```ts
 * Transport.layerMock([
 *   Transport.mock.reply("HTTP/1.1 100 Continue\r\n\r\n", { onHead: true }),
 *   Transport.mock.reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", { closeAfter: true }),
 *   Transport.mock.stall,
 *   Transport.mock.reset,
 *   Transport.mock.close
 * ])
 * ```
 * @since 0.1.0
 */
export const mock = {
  reply: mockReply,
  close: mockClose,
  stall: mockStall,
  reset: mockReset
} as const
