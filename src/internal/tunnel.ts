/**
 * CONNECT tunnels through an HTTP proxy, shared by `HttpConnection.setTunnel` and the pooled
 * client's HTTPS-over-proxy path: plain TCP to the proxy, `CONNECT host:port`, a 2xx answer, then
 * (for HTTPS) TLS inside the tunnel, verified against the target host.
 * @internal
 */
import { Effect, Scope, type Duration } from "effect"
import { TunnelError, type Http1Error } from "../Http1Error.js"
import type { ParserLimits } from "../protocol/events.js"
import { prepareRequest } from "../protocol/RequestEncoder.js"
import type { ReadTimeout, TlsOptions, TransportService } from "../transport/types.js"
import { readTimeout, Wire } from "./wire.js"

export interface TunnelOptions {
  readonly transport: TransportService
  readonly scope: Scope.Scope
  readonly proxyHost: string
  readonly proxyPort: number
  /** TLS to the proxy itself (an `https://` proxy), verified against the proxy's name. */
  readonly proxySecure?: boolean | undefined
  readonly targetHost: string
  readonly targetPort: number
  /** Extra CONNECT header fields (e.g. `Proxy-Authorization`), already validated. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** Start TLS to the target inside the tunnel. */
  readonly secure: boolean
  readonly tls?: TlsOptions | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly timeoutMs?: number | undefined
  readonly sourceAddress?: { readonly host: string; readonly port?: number | undefined } | undefined
  /** The proxy is at this Unix domain socket (`HttpConnection`'s `socketPath`). */
  readonly socketPath?: string | undefined
  readonly limits?: Partial<ParserLimits> | undefined
  readonly log?: ((text: string) => Effect.Effect<void>) | undefined
  /** Bound on a blocked write on the target's wire. */
  readonly writeTimeout?: ReadTimeout | undefined
}

/** `host:port` as CONNECT's authority-form wants it (IPv6 in brackets). */
export const authorityOf = (host: string, port: number): string =>
  `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`

/** Opens a tunnel; the returned wire talks to the target. Its sockets live in `scope`. */
export const openTunnel = (o: TunnelOptions): Effect.Effect<Wire, Http1Error> =>
  Effect.gen(function* () {
    const socket = yield* o.transport
      .connect({ host: o.proxyHost, port: o.proxyPort, secure: o.proxySecure === true, tls: o.tls, timeout: o.timeout, sourceAddress: o.sourceAddress, socketPath: o.socketPath })
      .pipe(Scope.extend(o.scope))
    const proxyWire = new Wire(socket, o.proxyHost, o.proxyPort, o.limits)
    const authority = authorityOf(o.targetHost, o.targetPort)
    // Python's set_tunnel: `Host: host:port` unless the caller's headers carry their own (any case).
    const hasHost = o.headers.some(([k]) => k.toLowerCase() === "host")
    const prepared = prepareRequest({
      method: "CONNECT",
      target: authority,
      headers: hasHost ? o.headers : [["Host", authority], ...o.headers],
      skipHost: true,
      skipAcceptEncoding: true
    })
    if (!("head" in prepared)) return yield* Effect.fail(proxyWire.contextualize(prepared))
    const ex = proxyWire.start(prepared, false)
    if (ex === undefined) return yield* Effect.fail(proxyWire.lost(undefined, "the proxy connection is not usable"))
    if (o.log !== undefined) yield* o.log(`send: ${JSON.stringify(Buffer.from(prepared.head).toString("latin1"))}`)
    yield* proxyWire.write(prepared.head, ex)
    const wait = readTimeout(o.timeoutMs, "headers")
    const answer = yield* proxyWire.finalHead(ex, undefined, () => wait)
    if (o.log !== undefined) yield* o.log(`reply: ${answer.status} ${answer.reason}`)
    if (answer.status < 200 || answer.status > 299) {
      return yield* Effect.fail(
        new TunnelError({ status: answer.status, reason: answer.reason, proxyHost: o.proxyHost, proxyPort: o.proxyPort, target: authority })
      )
    }
    // A 2xx to CONNECT ends HTTP on this socket: what follows belongs to the target.
    const leftover = proxyWire.conn.takeBuffered()
    if (o.secure) {
      const tlsSocket = yield* socket
        .startTls({ host: o.targetHost, port: o.targetPort, tls: o.tls, timeout: o.timeout })
        .pipe(Scope.extend(o.scope))
      return new Wire(tlsSocket, o.targetHost, o.targetPort, o.limits, o.writeTimeout)
    }
    const wire = new Wire(socket, o.targetHost, o.targetPort, o.limits, o.writeTimeout)
    if (leftover.length > 0) wire.conn.receiveData(leftover)
    return wire
  })
