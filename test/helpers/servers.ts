/**
 * Loopback servers for the connection tests (`HttpConnection`, `HttpsConnection`, resources).
 *
 * Every server here is an Effect acquired in a `Scope`: it listens on 127.0.0.1 (or ::1) on a
 * port chosen by the OS, tracks the sockets it accepted, and on release destroys every one of
 * them and closes the listener. Nothing is left open when the test's scope closes, whatever
 * happened in the test.
 *
 * - {@link cannedServer}: a raw `node:net` server that answers each request (numbered across all
 *   connections) with canned bytes, or closes, resets or stalls — for protocol errors.
 * - {@link rawServer}: a raw `node:net` server with your own per-connection handler.
 * - {@link httpServer} / {@link httpsServer}: `node:http` / `node:https` servers with a handler.
 * - {@link connectProxy}: a tiny HTTP proxy that only speaks CONNECT.
 * - {@link eventually}, {@link freePort}, {@link hasIpv6Loopback}: small utilities.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import * as net from "node:net"
import type * as tls from "node:tls"
import { RequestFramer } from "../../src/transport/mockFraming.js"

/** What every helper server exposes. */
export interface ServerInfo {
  /** The address it listens on (`127.0.0.1` or `::1`). */
  readonly host: string
  readonly port: number
  /** Connections accepted so far. */
  readonly connections: () => number
  /** Connections still open on the server side (0 means the client closed everything). */
  readonly openConnections: () => number
  /** Bytes received on each connection, in the order connections were accepted (Latin-1). */
  readonly received: () => ReadonlyArray<string>
}

/** Internal: a listener with socket tracking. */
const listen = <S extends net.Socket>(
  server: net.Server,
  event: "connection" | "secureConnection",
  host: string,
  onSocket: (socket: S, index: number) => void,
  record = true
): Effect.Effect<ServerInfo & { readonly sockets: ReadonlyArray<net.Socket> }, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<ServerInfo & { readonly sockets: Array<net.Socket> }, Error>((resume) => {
      const sockets: Array<net.Socket> = []
      const received: Array<Array<Buffer>> = []
      const open = new Set<net.Socket>()
      // Raw TCP sockets are counted for every server (TLS ones too, handshake or not).
      server.on("connection", (s: net.Socket) => {
        sockets.push(s)
        open.add(s)
        s.on("error", () => {})
        s.on("close", () => open.delete(s))
      })
      let index = 0
      server.on(event, (s: S) => {
        const parts: Array<Buffer> = []
        received.push(parts)
        s.on("error", () => {})
        if (record) s.on("data", (d: Buffer) => parts.push(d))
        onSocket(s, index++)
      })
      server.once("error", (e) => resume(Effect.fail(e)))
      server.listen(0, host, () => {
        const addr = server.address() as net.AddressInfo
        resume(
          Effect.succeed({
            host,
            port: addr.port,
            sockets,
            connections: () => sockets.length,
            openConnections: () => open.size,
            received: () => received.map((p) => Buffer.concat(p).toString("latin1"))
          })
        )
      })
    }),
    (info) =>
      Effect.async<void>((resume) => {
        for (const s of info.sockets) s.destroy()
        if ("closeAllConnections" in server) (server as http.Server).closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/**
 * A raw TCP server: `onConnection(socket, index)` is called for each accepted connection
 * (numbered from 0). Received bytes are recorded.
 *
 * @example
 * ```ts
 * const server = yield* rawServer((s) => s.end("HTTP/1.1 200 OK\r\n\r\nbye"))
 * ```
 */
export const rawServer = (
  onConnection: (socket: net.Socket, index: number) => void,
  host = "127.0.0.1"
): Effect.Effect<ServerInfo, Error, Scope.Scope> => listen(net.createServer(), "connection", host, onConnection)

/** One scripted answer of {@link cannedServer}. */
export interface CannedStep {
  /** Bytes sent as soon as the request head is complete (e.g. `100 Continue`, or a final 417). */
  readonly onHead?: string | Uint8Array | undefined
  /** Bytes sent when the whole request (head and body) has arrived. */
  readonly reply?: string | Uint8Array | undefined
  /** Send `reply` in pieces cut at these offsets, `delayMs` apart. */
  readonly splitAt?: ReadonlyArray<number> | undefined
  /** Delay before each piece of `reply` (ms). */
  readonly delayMs?: number | undefined
  /** End the connection (FIN) after the reply. */
  readonly close?: boolean | undefined
  /** Reset the connection (RST) after the reply. */
  readonly reset?: boolean | undefined
}

/** A string or bytes (sent as they are, Latin-1), a step, or a function of the request bytes and index. */
export type Canned = string | Uint8Array | CannedStep | ((request: string, index: number) => string | Uint8Array | CannedStep)

/** Options of {@link cannedServer}. */
export interface CannedOptions {
  readonly host?: string | undefined
  /** Close every connection after its first answer (a server without keep-alive). */
  readonly closeEach?: boolean | undefined
}

/**
 * A raw TCP server answering the i-th request it receives (counted across all connections) with
 * `script[i]`, as bytes: a `string` (Latin-1) or `Uint8Array` reply keeps the connection open;
 * a {@link CannedStep} can also answer on the head, split, delay, close or reset. A request past
 * the end of the script gets its connection closed. A connection is never answered before a full
 * request arrived, so a step that never comes (e.g. the body is held back) leaves the client
 * waiting: that is how a stall is scripted (`{}` answers nothing).
 *
 * `requests()` gives each complete request's bytes (Latin-1), in order.
 *
 * @example
 * ```ts
 * const server = yield* cannedServer([
 *   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
 *   { reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", reset: true }
 * ])
 * ```
 */
export const cannedServer = (
  script: ReadonlyArray<Canned>,
  options: CannedOptions = {}
): Effect.Effect<ServerInfo & { readonly requests: () => ReadonlyArray<string> }, Error, Scope.Scope> => {
  const requests: Array<string> = []
  let next = 0
  const timers = new Set<NodeJS.Timeout>()
  const resolve = (canned: Canned, request: string, index: number): CannedStep => {
    const c = typeof canned === "function" ? canned(request, index) : canned
    return typeof c === "string" || c instanceof Uint8Array ? { reply: c } : c
  }
  const onConnection = (socket: net.Socket) => {
    const framer = new RequestFramer()
    // The step of the request in progress on this connection (taken when its head completes).
    let current: { step: CannedStep; index: number } | undefined
    let done = false
    const send = (bytes: string | Uint8Array) => {
      if (!socket.destroyed) socket.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes)
    }
    const finish = (step: CannedStep) => {
      if (step.reset === true) {
        socket.resetAndDestroy()
        done = true
      } else if (step.close === true || options.closeEach === true) {
        socket.end()
        done = true
      }
    }
    const answer = (step: CannedStep) => {
      const reply = step.reply
      if (reply === undefined) return finish(step)
      const bytes = typeof reply === "string" ? Buffer.from(reply, "latin1") : Buffer.from(reply)
      const cuts = [...(step.splitAt ?? [])].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)
      const pieces: Array<Buffer> = []
      let start = 0
      for (const c of cuts) {
        pieces.push(bytes.subarray(start, c))
        start = c
      }
      pieces.push(bytes.subarray(start))
      const delay = step.delayMs ?? 0
      if (delay === 0) {
        for (const p of pieces) send(p)
        return finish(step)
      }
      let i = 0
      const tick = () => {
        const t = setTimeout(() => {
          timers.delete(t)
          if (socket.destroyed) return
          send(pieces[i++]!)
          if (i < pieces.length) tick()
          else finish(step)
        }, delay)
        timers.add(t)
      }
      tick()
    }
    socket.on("close", () => {
      done = true
    })
    socket.on("data", (data: Buffer) => {
      if (done) return
      for (const ev of framer.push(data)) {
        if (done) return
        if (current === undefined) {
          const index = next++
          const canned = script[index]
          if (canned === undefined) {
            done = true
            socket.end()
            return
          }
          const head = Buffer.from(ev._tag === "Head" ? ev.head : ev.bytes).toString("latin1")
          current = { step: resolve(canned, head, index), index }
          if (current.step.onHead !== undefined) send(current.step.onHead)
        }
        if (ev._tag === "Request") {
          requests.push(Buffer.from(ev.bytes).toString("latin1"))
          const step = current.step
          current = undefined
          answer(step)
        }
      }
    })
  }
  return Effect.map(
    Effect.zipLeft(
      rawServer(onConnection, options.host ?? "127.0.0.1"),
      Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const t of timers) clearTimeout(t)
        })
      )
    ),
    (info) => ({ ...info, requests: () => requests.slice() })
  )
}

/**
 * A `node:http` server with `handler`; keep-alive as Node does by default.
 *
 * @example
 * ```ts
 * const server = yield* httpServer((req, res) => res.end("hello"))
 * ```
 */
export const httpServer = (
  handler: http.RequestListener,
  host = "127.0.0.1"
): Effect.Effect<ServerInfo & { readonly server: http.Server }, Error, Scope.Scope> => {
  const server = http.createServer(handler)
  return Effect.map(
    listen(server, "connection", host, () => {}, false),
    (info) => ({ ...info, server })
  )
}

/**
 * A `node:https` server with `handler`, TLS `options` (key, cert, ...). `openConnections` counts
 * raw TCP connections, so handshakes that never finished are seen too.
 */
export const httpsServer = (
  options: tls.TlsOptions,
  handler: http.RequestListener,
  host = "127.0.0.1"
): Effect.Effect<ServerInfo & { readonly server: https.Server }, Error, Scope.Scope> => {
  const server = https.createServer(options, handler)
  server.on("tlsClientError", () => {})
  return Effect.map(
    listen(server, "secureConnection", host, () => {}, false),
    (info) => ({ ...info, server })
  )
}

/** A CONNECT request as the proxy saw it. */
export interface ConnectRecord {
  /** `CONNECT host:port HTTP/1.1` */
  readonly line: string
  /** Header fields as received (`[name, value]`). */
  readonly headers: ReadonlyArray<readonly [string, string]>
}

/** Options of {@link connectProxy}. */
export interface ProxyOptions {
  /** Status answered to CONNECT; 200 tunnels, anything else ends the connection after the answer. */
  readonly status?: number | undefined
  readonly reason?: string | undefined
  /** Extra header lines of the answer (e.g. `Proxy-Authenticate: Basic`). */
  readonly headers?: ReadonlyArray<string> | undefined
  readonly host?: string | undefined
}

/**
 * A tiny forward proxy that only speaks CONNECT: reads the head, records it, answers
 * `options.status` (200 by default) and then pipes bytes both ways to the target named in the
 * request line. Other methods get `405`. Upstream sockets are tracked and destroyed on release.
 */
export const connectProxy = (
  options: ProxyOptions = {}
): Effect.Effect<ServerInfo & { readonly requests: () => ReadonlyArray<ConnectRecord> }, Error, Scope.Scope> => {
  const records: Array<ConnectRecord> = []
  const upstreams = new Set<net.Socket>()
  const status = options.status ?? 200
  const onConnection = (client: net.Socket) => {
    let buffered = Buffer.alloc(0)
    const onData = (data: Buffer) => {
      buffered = Buffer.concat([buffered, data])
      const end = buffered.indexOf("\r\n\r\n")
      if (end < 0) {
        if (buffered.length > 65_536) client.destroy()
        return
      }
      client.off("data", onData)
      client.pause()
      const lines = buffered.subarray(0, end).toString("latin1").split("\r\n")
      const rest = buffered.subarray(end + 4)
      const line = lines[0] ?? ""
      const headers = lines.slice(1).map((l): readonly [string, string] => {
        const i = l.indexOf(":")
        return [l.slice(0, i), l.slice(i + 1).trim()]
      })
      records.push({ line, headers })
      const m = /^CONNECT (\[[^\]]+\]|[^:\s]+):(\d+) HTTP\/1\.1$/.exec(line)
      if (m === null) {
        client.end("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
      }
      const extra = (options.headers ?? []).map((h) => `${h}\r\n`).join("")
      if (status < 200 || status > 299) {
        client.end(`HTTP/1.1 ${status} ${options.reason ?? "Refused"}\r\n${extra}Content-Length: 0\r\n\r\n`)
        return
      }
      const host = m[1]!.replace(/^\[|\]$/g, "")
      const upstream = net.connect({ host, port: Number(m[2]) })
      upstreams.add(upstream)
      upstream.on("error", () => client.destroy())
      upstream.on("close", () => {
        upstreams.delete(upstream)
        client.destroy()
      })
      client.on("close", () => upstream.destroy())
      upstream.once("connect", () => {
        client.write(`HTTP/1.1 ${status} ${options.reason ?? "Connection established"}\r\n${extra}\r\n`)
        if (rest.length > 0) upstream.write(rest)
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      })
    }
    client.on("data", onData)
  }
  return Effect.map(
    Effect.zipLeft(
      rawServer(onConnection, options.host ?? "127.0.0.1"),
      Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const u of upstreams) u.destroy()
        })
      )
    ),
    (info) => ({ ...info, requests: () => records.slice() })
  )
}

/**
 * Waits (polling every 5 ms, at most `ms`) until `cond` holds; fails with a message naming `what`.
 *
 * @example
 * ```ts
 * yield* eventually(() => server.openConnections() === 0, "server sockets closed")
 * ```
 */
export const eventually = (cond: () => boolean, what: string, ms = 2000): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    const deadline = Date.now() + ms
    while (!cond()) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`timed out after ${ms} ms waiting for: ${what}`))
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

/** A port that was free a moment ago (bound on 127.0.0.1, then released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
