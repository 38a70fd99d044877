/**
 * CONNECT tunnels through an HTTP proxy, shared by `HttpConnection.setTunnel` and the pooled
 * client's HTTPS-over-proxy path: plain TCP to the proxy, `CONNECT host:port`, a 2xx answer, then
 * (for HTTPS) TLS inside the tunnel, verified against the target host.
 * @internal
 */
import { Effect, Scope, type Duration } from "effect"
import { TunnelError, type Http1Error } from "../Http1Error.js"
import type { ParserLimits } from "../protocol/events.js"
import type { TlsOptions, TransportService } from "../transport/types.js"
import { readTimeout, Wire } from "./wire.js"

export interface TunnelOptions {
  readonly transport: TransportService
  readonly scope: Scope.Scope
  readonly proxyHost: string
  readonly proxyPort: number
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
  readonly limits?: Partial<ParserLimits> | undefined
  readonly log?: ((text: string) => Effect.Effect<void>) | undefined
}

/** `host:port` as CONNECT's authority-form wants it (IPv6 in brackets). */
export const authorityOf = (host: string, port: number): string =>
  `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`

/** Opens a tunnel; the returned wire talks to the target. Its sockets live in `scope`. */
export const openTunnel = (o: TunnelOptions): Effect.Effect<Wire, Http1Error> =>
  Effect.gen(function* () {
    const socket = yield* o.transport
      .connect({ host: o.proxyHost, port: o.proxyPort, secure: false, timeout: o.timeout, sourceAddress: o.sourceAddress })
      .pipe(Scope.extend(o.scope))
    const proxyWire = new Wire(socket, o.proxyHost, o.proxyPort, o.limits)
    const authority = authorityOf(o.targetHost, o.targetPort)
    let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`
    for (const [k, v] of o.headers) head += `${k}: ${v}\r\n`
    head += "\r\n"
    if (o.log !== undefined) yield* o.log(`send: ${JSON.stringify(head)}`)
    proxyWire.begin("CONNECT")
    yield* proxyWire.write(head)
    const wait = readTimeout(o.timeoutMs, "headers")
    const answer = yield* proxyWire.finalHead(undefined, () => wait)
    if (o.log !== undefined) yield* o.log(`reply: ${answer.status} ${answer.reason}`)
    if (answer.status < 200 || answer.status > 299) {
      return yield* Effect.fail(
        new TunnelError({ status: answer.status, reason: answer.reason, proxyHost: o.proxyHost, proxyPort: o.proxyPort, target: authority })
      )
    }
    // A 2xx to CONNECT ends HTTP on this socket: what follows belongs to the target.
    const leftover = proxyWire.parser.takeBuffered()
    if (o.secure) {
      const tlsSocket = yield* socket
        .startTls({ host: o.targetHost, port: o.targetPort, tls: o.tls, timeout: o.timeout })
        .pipe(Scope.extend(o.scope))
      return new Wire(tlsSocket, o.targetHost, o.targetPort, o.limits)
    }
    const wire = new Wire(socket, o.targetHost, o.targetPort, o.limits)
    if (leftover.length > 0) wire.parser.feed(leftover)
    return wire
  })
