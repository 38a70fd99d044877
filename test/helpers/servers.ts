/**
 * The loopback servers and small helpers of every test that needs a real socket.
 *
 * Every server here is an Effect acquired in a `Scope`: it listens on 127.0.0.1 (or ::1) on a
 * port chosen by the OS, tracks the sockets it accepted, and on release destroys every one of
 * them and closes the listener. Nothing is left open when the test's scope closes, whatever
 * happened in the test. Promise-style tests (`beforeAll`, `try`/`finally`) use {@link startServer}.
 *
 * - {@link rawServer}: a raw `node:net` server with your own per-connection handler.
 * - {@link tlsServer}: the same over `node:tls` (handler called after the handshake).
 * - {@link cannedServer}: a raw server that answers each request (numbered across all
 *   connections) from a script or a function, with canned bytes, or closes, resets or stalls.
 * - {@link httpServer} / {@link httpsServer}: `node:http` / `node:https` servers with a handler.
 * - {@link connectProxy}: a tiny forward proxy (CONNECT tunnels, absolute-form relaying).
 * - {@link ok}: a canned `200 OK` with a Content-Length body.
 * - {@link eventually}, {@link echo}, {@link freePort}, {@link hasIpv6Loopback}: small utilities.
 */
import { Effect, Exit, Scope } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import * as net from "node:net"
import * as tls from "node:tls"
import { RequestFramer } from "../../src/transport/mockFraming.js"

/** What every helper server exposes. */
export interface ServerInfo {
  /** The address it listens on (`127.0.0.1` or `::1`). */
  readonly host: string
  readonly port: number
  /** `http://host:port` (IPv6 hosts in brackets). */
  readonly url: string
  /** Connections accepted so far (raw TCP connections, for TLS servers too). */
  readonly connections: () => number
  /** Connections still open on the server side (0 means the client closed everything). */
  readonly openConnections: () => number
  /**
   * Bytes received on each connection, in the order connections were accepted (Latin-1); only
   * {@link rawServer} and the servers built on it record them (recording reads every socket).
   */
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
            url: `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`,
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
): Effect.Effect<ServerInfo, Error, Scope.Scope> => Effect.suspend(() => listen(net.createServer(), "connection", host, onConnection))

/**
 * A TLS server with TLS `options` (key, cert, ...): `onConnection(socket, index)` is called for each
 * socket whose handshake completed. `connections` and `openConnections` count raw TCP connections,
 * so handshakes that never finished are seen too. Received bytes are not recorded.
 */
export const tlsServer = (
  options: tls.TlsOptions,
  onConnection: (socket: tls.TLSSocket, index: number) => void,
  host = "127.0.0.1"
): Effect.Effect<ServerInfo, Error, Scope.Scope> =>
  // Each run of the effect makes its own server (a helper value may be used by several tests).
  Effect.suspend(() => {
    const server = tls.createServer(options)
    server.on("tlsClientError", () => {})
    return listen(server, "secureConnection", host, onConnection, false)
  })

/** An echo handler for {@link rawServer} and {@link tlsServer}. */
export const echo = (socket: net.Socket): void => {
  socket.pipe(socket)
}

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

/**
 * How {@link cannedServer} answers one request: a function of the request head (Latin-1, up to and
 * including CRLFCRLF), the request's index across all connections, and the server-side socket.
 */
export type CannedFunction = (head: string, index: number, socket: net.Socket) => string | Uint8Array | CannedStep

/** A string (Latin-1 bytes, one per character) or bytes, a step, or a {@link CannedFunction}. */
export type Canned = string | Uint8Array | CannedStep | CannedFunction

/** Options of {@link cannedServer}. */
export interface CannedOptions {
  readonly host?: string | undefined
  /** Close every connection after its first answer (a server without keep-alive). */
  readonly closeEach?: boolean | undefined
}

/**
 * A raw TCP server answering the i-th request it receives (counted across all connections) with
 * `script[i]` (or, when `script` is a function, with what it returns for every request), as
 * bytes: a `string` (Latin-1) or `Uint8Array` reply keeps the connection open;
 * a {@link CannedStep} can also answer on the head, split, delay, close or reset. A request past
 * the end of the script gets its connection closed. A connection is never answered before a full
 * request arrived, so a step that never comes (e.g. the body is held back) leaves the client
 * waiting: that is how a stall is scripted (`{}` answers nothing).
 *
 * `requests()` gives each complete request's bytes (Latin-1), in order; `heads()` and `bodies()`
 * the same requests cut after the head's CRLFCRLF (a chunked body as sent, chunk framing included).
 *
 * @example
 * ```ts
 * const server = yield* cannedServer([
 *   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
 *   { reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", reset: true }
 * ])
 * const echo = yield* cannedServer((head) => ok(head))
 * ```
 */
export const cannedServer = (
  script: ReadonlyArray<Canned> | CannedFunction,
  options: CannedOptions = {}
): Effect.Effect<
  ServerInfo & {
    readonly requests: () => ReadonlyArray<string>
    readonly heads: () => ReadonlyArray<string>
    readonly bodies: () => ReadonlyArray<string>
  },
  Error,
  Scope.Scope
> => {
  const requests: Array<string> = []
  let next = 0
  const timers = new Set<NodeJS.Timeout>()
  const resolve = (canned: Canned, head: string, index: number, socket: net.Socket): CannedStep => {
    const c = typeof canned === "function" ? canned(head, index, socket) : canned
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
          const canned = typeof script === "function" ? script : script[index]
          if (canned === undefined) {
            done = true
            socket.end()
            return
          }
          const head = Buffer.from(ev._tag === "Head" ? ev.head : ev.bytes).toString("latin1")
          current = { step: resolve(canned, head, index, socket), index }
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
    (info) => ({
      ...info,
      requests: () => requests.slice(),
      heads: () => requests.map((r) => r.slice(0, headEnd(r))),
      bodies: () => requests.map((r) => r.slice(headEnd(r)))
    })
  )
}

const headEnd = (request: string): number => {
  const i = request.indexOf("\r\n\r\n")
  return i < 0 ? request.length : i + 4
}

/**
 * `HTTP/1.1 200 OK` with `Content-Length` and then `body`, as the Latin-1 string the servers here
 * (and the mock transport) send one byte per character. A string body must be Latin-1 (a character
 * above U+00FF throws: pass `Buffer.from(text)` for UTF-8); bytes are taken as they are.
 * `extra` is more header lines, each ending in CRLF.
 *
 * @example
 * ```ts
 * ok("hello")                               // "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
 * ok(Buffer.from("héllo"), "X-A: 1\r\n")    // Content-Length: 6, the UTF-8 bytes as Latin-1
 * ```
 */
export const ok = (body: string | Uint8Array, extra = ""): string => {
  const bytes = typeof body === "string" ? body : Buffer.from(body).toString("latin1")
  if (/[^\u0000-\u00ff]/.test(bytes)) throw new Error(`ok: body has characters above U+00FF; pass bytes (Buffer.from(text)) instead`)
  return `HTTP/1.1 200 OK\r\nContent-Length: ${bytes.length}\r\n${extra}\r\n${bytes}`
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
): Effect.Effect<ServerInfo & { readonly server: http.Server }, Error, Scope.Scope> =>
  // Each run of the effect makes its own server (a helper value may be used by several tests).
  Effect.suspend(() => {
    const server = http.createServer(handler)
    return Effect.map(
      listen(server, "connection", host, () => {}, false),
      (info) => ({ ...info, server })
    )
  })

/**
 * A `node:https` server with `handler`, TLS `options` (key, cert, ...). `openConnections` counts
 * raw TCP connections, so handshakes that never finished are seen too.
 */
export const httpsServer = (
  options: tls.TlsOptions,
  handler: http.RequestListener,
  host = "127.0.0.1"
): Effect.Effect<ServerInfo & { readonly server: https.Server }, Error, Scope.Scope> =>
  Effect.suspend(() => {
    const server = https.createServer(options, handler)
    server.on("tlsClientError", () => {})
    return Effect.map(
      listen(server, "secureConnection", host, () => {}, false),
      (info) => ({ ...info, server })
    )
  })

/** A request as {@link connectProxy} saw it (a CONNECT or an absolute-form request). */
export interface ConnectRecord {
  /** The request line, e.g. `CONNECT host:port HTTP/1.1` or `GET http://h:1/p HTTP/1.1`. */
  readonly line: string
  /** Header fields as received (`[name, value]`). */
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** The whole head as received (Latin-1), up to and including CRLFCRLF. */
  readonly head: string
}

/** Options of {@link connectProxy}. */
export interface ProxyOptions {
  /** Status answered to CONNECT; 200 tunnels, anything else ends the connection after the answer. */
  readonly status?: number | undefined
  readonly reason?: string | undefined
  /** Extra header lines of the answer to CONNECT (e.g. `Proxy-Authenticate: Basic`). */
  readonly headers?: ReadonlyArray<string> | undefined
  /** When set, a request without `Proxy-Authorization: <this>` gets `407` and the connection ends. */
  readonly authorization?: string | undefined
  readonly host?: string | undefined
}

/**
 * A tiny forward proxy. It reads the head of the first request on each connection and records it.
 * A CONNECT gets `options.status` (200 by default) and then bytes are piped both ways to the
 * target named in the request line. An absolute-form request (`GET http://host:port/path`) is
 * relayed, with everything after it on that connection, to its origin over a new socket. Anything
 * else gets `405`. Upstream sockets are tracked and destroyed on release.
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
      const head = buffered.subarray(0, end + 4).toString("latin1")
      const lines = buffered.subarray(0, end).toString("latin1").split("\r\n")
      const rest = buffered.subarray(end + 4)
      const line = lines[0] ?? ""
      const headers = lines.slice(1).map((l): readonly [string, string] => {
        const i = l.indexOf(":")
        return [l.slice(0, i), l.slice(i + 1).trim()]
      })
      records.push({ line, headers, head })
      if (options.authorization !== undefined && !head.includes(`\r\nProxy-Authorization: ${options.authorization}\r\n`)) {
        client.end("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        return
      }
      const connect = /^CONNECT (\[[^\]]+\]|[^:\s]+):(\d+) HTTP\/1\.1$/.exec(line)
      const absolute = /^[A-Z]+ (http:\/\/\S+) HTTP\/1\.[01]$/.exec(line)
      if (connect === null && absolute === null) {
        client.end("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
      }
      const extra = (options.headers ?? []).map((h) => `${h}\r\n`).join("")
      if (connect !== null && (status < 200 || status > 299)) {
        client.end(`HTTP/1.1 ${status} ${options.reason ?? "Refused"}\r\n${extra}Content-Length: 0\r\n\r\n`)
        return
      }
      const target = connect !== null ? { host: connect[1]!, port: Number(connect[2]) } : (() => {
        const u = new URL(absolute![1]!)
        return { host: u.hostname, port: Number(u.port || 80) }
      })()
      const upstream = net.connect({ host: target.host.replace(/^\[|\]$/g, ""), port: target.port })
      upstreams.add(upstream)
      upstream.on("error", () => client.destroy())
      upstream.on("close", () => {
        upstreams.delete(upstream)
        client.destroy()
      })
      client.on("close", () => upstream.destroy())
      upstream.once("connect", () => {
        if (connect !== null) {
          client.write(`HTTP/1.1 ${status} ${options.reason ?? "Connection established"}\r\n${extra}\r\n`)
          if (rest.length > 0) upstream.write(rest)
        } else {
          upstream.write(buffered)
        }
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

/**
 * Starts a scoped server for a Promise-style test: the server runs in a scope of its own, closed by
 * `close()` (every socket destroyed, the listener closed).
 *
 * @example
 * ```ts
 * const server = await startServer(cannedServer(() => ok("hi")))
 * try { ... } finally { await server.close() }
 * ```
 */
export const startServer = async <A>(server: Effect.Effect<A, Error, Scope.Scope>): Promise<A & { readonly close: () => Promise<void> }> => {
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(Scope.extend(server, scope))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw new Error("startServer: the server did not start", { cause: exit.cause })
  }
  return { ...exit.value, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
