/**
 * Loopback servers for the transport tests: scoped (every socket destroyed and the server closed
 * when the scope closes), bound to 127.0.0.1 or ::1 only.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"

export interface TestServer<S extends net.Socket> {
  readonly port: number
  readonly host: string
  /** Server-side sockets currently open. */
  readonly open: Set<S>
  /** Every server-side socket accepted so far. */
  readonly all: Array<S>
  readonly server: net.Server
}

const track = <S extends net.Socket>(server: net.Server, event: string, host: string, onSocket: (s: S) => void) =>
  Effect.acquireRelease(
    Effect.async<TestServer<S>, Error>((resume) => {
      const open = new Set<S>()
      const all: Array<S> = []
      server.on(event, (s: S) => {
        open.add(s)
        all.push(s)
        s.on("error", () => {})
        s.on("close", () => open.delete(s))
        onSocket(s)
      })
      // Count raw TCP sockets too (a TLS server's 'connection'), so half-open handshakes are seen.
      server.on("error", (e) => resume(Effect.fail(e)))
      server.listen(0, host, () => {
        const addr = server.address() as net.AddressInfo
        resume(Effect.succeed({ port: addr.port, host, open, all, server }))
      })
    }),
    (s) =>
      Effect.async<void>((resume) => {
        for (const sock of s.all) sock.destroy()
        s.server.close(() => resume(Effect.void))
      })
  )

/** A plain TCP server; `onSocket` gets each accepted socket. */
export const tcpServer = (
  onSocket: (s: net.Socket) => void,
  host = "127.0.0.1"
): Effect.Effect<TestServer<net.Socket>, Error, Scope.Scope> => track(net.createServer(), "connection", host, onSocket)

/** A TLS server; `onSocket` gets each socket after its handshake. `tcp` counts raw connections. */
export const tlsServer = (
  options: tls.TlsOptions,
  onSocket: (s: tls.TLSSocket) => void,
  host = "127.0.0.1"
): Effect.Effect<TestServer<tls.TLSSocket> & { readonly tcp: Set<net.Socket>; readonly tlsErrors: Array<Error> }, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const server = tls.createServer(options)
    const tcp = new Set<net.Socket>()
    const tlsErrors: Array<Error> = []
    server.on("connection", (s: net.Socket) => {
      tcp.add(s)
      s.on("close", () => tcp.delete(s))
    })
    server.on("tlsClientError", (e) => tlsErrors.push(e))
    const t = yield* track<tls.TLSSocket>(server, "secureConnection", host, onSocket)
    return { ...t, tcp, tlsErrors }
  })

/** An echo handler. */
export const echo = (s: net.Socket) => {
  s.pipe(s)
}

/** Waits (bounded) until `cond` holds. */
export const eventually = (cond: () => boolean, what: string, ms = 2000): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (!cond()) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`timed out waiting for: ${what}`))
      yield* Effect.sleep("5 millis")
    }
  })

/** Whether this machine can listen on ::1. */
export const hasIpv6Loopback = (): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.createServer()
    s.once("error", () => resolve(false))
    s.listen(0, "::1", () => s.close(() => resolve(true)))
  })

/** A port that was free a moment ago (bound then released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
