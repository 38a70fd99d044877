/**
 * Unix domain sockets (`socketPath`), Docker Engine API style: `GET /containers/json` over a
 * socket file, through the transport, `HttpConnection`, `HttpsConnection` (TLS over the socket)
 * and the pooled `HttpClient`. Every server listens on a fresh path in `os.tmpdir()` and is
 * closed (and its file removed) when the test's scope closes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, type Scope } from "effect"
import { existsSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import type * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tls from "node:tls"
import { HttpClient, HttpConnection, HttpsConnection, Transport } from "../../src/index.js"
import type { Socket } from "../../src/transport/types.js"
import * as certs from "../fixtures/certs.js"

let counter = 0

/** Flips an effect that must fail; a success becomes a plain Error (never a socket for vitest to print). */
const fails = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, Error, R> =>
  Effect.flip(effect).pipe(Effect.catchAll(() => Effect.fail(new Error("expected a failure, got a success"))))
/** A fresh socket path in the temporary directory (short: Linux allows 107 bytes). */
const freshPath = (): string => join(tmpdir(), `eh1-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}.sock`)

interface UnixServer {
  readonly path: string
  /** Request heads received, in order (Latin-1). */
  readonly heads: () => ReadonlyArray<string>
  /** Connections accepted so far. */
  readonly connections: () => number
}

/**
 * An HTTP server (`node:http` over `net.Server`, or `node:https` when `tlsOptions` are given)
 * listening on a fresh socket path; on release every connection is destroyed, the listener closed
 * and the socket file removed.
 */
const unixServer = (
  handler: http.RequestListener,
  tlsOptions?: tls.TlsOptions
): Effect.Effect<UnixServer, Error, Scope.Scope> => {
  const path = freshPath()
  const heads: Array<string> = []
  const sockets = new Set<net.Socket>()
  let connections = 0
  const onRequest: http.RequestListener = (req, res) => {
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
    heads.push(lines.join("\r\n"))
    handler(req, res)
  }
  return Effect.acquireRelease(
    Effect.async<{ server: net.Server; info: UnixServer }, Error>((resume) => {
      let server: net.Server
      if (tlsOptions === undefined) {
        server = http.createServer(onRequest)
      } else {
        // node:https over a tls.Server on the path: requests arrive after the handshake.
        const hs = http.createServer(onRequest)
        server = tls.createServer({ ...tlsOptions, ALPNProtocols: ["http/1.1"] }, (s) => hs.emit("connection", s))
        server.on("tlsClientError", () => {})
      }
      server.on("connection", (s: net.Socket) => {
        connections++
        sockets.add(s)
        s.on("error", () => {})
        s.on("close", () => sockets.delete(s))
      })
      server.once("error", (e) => resume(Effect.fail(e)))
      server.listen(path, () =>
        resume(Effect.succeed({ server, info: { path, heads: () => heads.slice(), connections: () => connections } })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        for (const s of sockets) s.destroy()
        server.close(() => {
          rmSync(path, { force: true })
          resume(Effect.void)
        })
      })
  ).pipe(Effect.map(({ info }) => info))
}

/** Docker's `GET /containers/json`, and a plain echo of the request line for anything else. */
const docker: http.RequestListener = (req, res) => {
  if (req.method === "GET" && req.url === "/containers/json") {
    const body = JSON.stringify([{ Id: "4c01db0b339c", Names: ["/web"], State: "running" }])
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
    res.end(body)
    return
  }
  const body = `${req.method} ${req.url} host=${req.headers.host}`
  res.writeHead(200, { "Content-Length": Buffer.byteLength(body) })
  res.end(body)
}

const containers = [{ Id: "4c01db0b339c", Names: ["/web"], State: "running" }]

/** Reads until the end of a `Connection: close` response (bounded). */
const readAll = (socket: Socket) =>
  Effect.gen(function* () {
    const parts: Array<Buffer> = []
    for (;;) {
      const chunk = yield* socket.read({ ms: 2000, phase: "body" })
      if (chunk === undefined) break
      parts.push(Buffer.from(chunk))
    }
    return Buffer.concat(parts).toString("latin1")
  })

/** A path where nothing listens (and no file exists). */
const missingPath = () => {
  const path = freshPath()
  rmSync(path, { force: true })
  return path
}

const connectFailure = (e: unknown) => e as { _tag: string; code?: string; socketPath?: string; host: string; port: number; message: string }

describe("Transport: socketPath", () => {
  it.scopedLive("connects to a Unix socket; host and port still name the peer", () =>
    Effect.gen(function* () {
      const server = yield* unixServer(docker)
      const transport = yield* Transport.Transport
      const socket = yield* transport.connect({ host: "localhost", port: 80, socketPath: server.path, timeout: "2 seconds" })
      expect(socket).toMatchObject({ host: "localhost", port: 80, secure: false })
      expect(socket.isOpen()).toBe(true)
      yield* socket.write("GET /containers/json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
      const text = yield* readAll(socket)
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4))).toEqual(containers)
    }).pipe(Effect.provide(Transport.layerNet)))

  it.live("a missing socket file is a ConnectError ENOENT naming the path", () =>
    Effect.gen(function* () {
      const path = missingPath()
      const error = yield* fails(
        Effect.scoped(Effect.flatMap(Transport.Transport, (t) => t.connect({ host: "localhost", port: 80, socketPath: path })))
      ).pipe(Effect.provide(Transport.layerNet))
      const e = connectFailure(error)
      expect(e._tag).toBe("ConnectError")
      expect(e.code).toBe("ENOENT")
      expect(e.socketPath).toBe(path)
      expect(e).toMatchObject({ host: "localhost", port: 80 })
      expect(e.message).toContain(path)
    }))

  it.live("a socket file nobody listens on is a ConnectError ECONNREFUSED", () =>
    Effect.gen(function* () {
      // Linux refuses a connect to a file that is not a listening socket.
      const path = freshPath()
      writeFileSync(path, "")
      const error = yield* fails(
        Effect.scoped(Effect.flatMap(Transport.Transport, (t) => t.connect({ host: "localhost", port: 80, socketPath: path })))
      ).pipe(Effect.provide(Transport.layerNet), Effect.ensuring(Effect.sync(() => rmSync(path, { force: true }))))
      expect(connectFailure(error)).toMatchObject({ _tag: "ConnectError", code: "ECONNREFUSED", socketPath: path })
    }))

  it.scopedLive("TLS over a Unix socket: the certificate is checked against host", () =>
    Effect.gen(function* () {
      const server = yield* unixServer(docker, { key: certs.serverKey, cert: certs.serverCert })
      const transport = yield* Transport.Transport
      const socket = yield* transport.connect({
        host: "localhost",
        port: 443,
        secure: true,
        socketPath: server.path,
        tls: { ca: certs.ca },
        timeout: "2 seconds"
      })
      expect(socket.secure).toBe(true)
      yield* socket.write("GET /containers/json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
      expect(yield* readAll(socket)).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      // A name the certificate does not cover is refused, socket or not.
      const wrong = yield* fails(
        Effect.scoped(
          transport.connect({ host: "docker.invalid", port: 443, secure: true, socketPath: server.path, tls: { ca: certs.ca } })
        )
      )
      expect(wrong._tag).toBe("TlsError")
    }).pipe(Effect.provide(Transport.layerNet)))

  it.scopedLive("the mock transport records socketPath", () =>
    Effect.gen(function* () {
      const transport = yield* Transport.Transport
      yield* transport.connect({ host: "localhost", port: 80, socketPath: "/var/run/docker.sock" })
      const peer = yield* Transport.MockPeer
      expect(peer.connectOptions()).toEqual([{ host: "localhost", port: 80, socketPath: "/var/run/docker.sock" }])
    }).pipe(Effect.provide(Transport.layerMock([]))))

  it.live("a refusing mock names the socket path", () =>
    Effect.gen(function* () {
      const error = yield* fails(
        Effect.scoped(Effect.flatMap(Transport.Transport, (t) => t.connect({ host: "localhost", port: 80, socketPath: "/run/x.sock" })))
      ).pipe(Effect.provide(Transport.layerMock([], { connectError: true })))
      expect(error).toMatchObject({ _tag: "ConnectError", code: "ECONNREFUSED", socketPath: "/run/x.sock" })
    }))
})

describe("HttpConnection / HttpsConnection: socketPath", () => {
  it.scopedLive("GET /containers/json over the socket, kept alive; Host is the host given", () =>
    Effect.gen(function* () {
      const server = yield* unixServer(docker)
      const conn = yield* HttpConnection.make({ host: "localhost", socketPath: server.path, timeout: "2 seconds" })
      expect(conn).toMatchObject({ host: "localhost", port: 80 })
      yield* conn.request("GET", "/containers/json")
      const res = yield* conn.getResponse
      expect(res.status).toBe(200)
      expect(JSON.parse(Buffer.from(yield* res.read()).toString("utf8"))).toEqual(containers)
      yield* conn.request("GET", "/version")
      const again = yield* conn.getResponse
      expect(Buffer.from(yield* again.read()).toString("utf8")).toBe("GET /version host=localhost")
      expect(server.connections()).toBe(1)
      expect(server.heads()[0]).toMatch(/^GET \/containers\/json HTTP\/1\.1\r\nHost: localhost\r\n/)
    }).pipe(Effect.provide(Transport.layer)))

  it.scopedLive("a port in host goes to the Host header, not to the socket", () =>
    Effect.gen(function* () {
      const server = yield* unixServer(docker)
      const conn = yield* HttpConnection.make({ host: "docker.local:2375", socketPath: server.path, timeout: "2 seconds" })
      yield* conn.request("GET", "/_ping")
      const res = yield* conn.getResponse
      expect(Buffer.from(yield* res.read()).toString("utf8")).toBe("GET /_ping host=docker.local:2375")
    }).pipe(Effect.provide(Transport.layer)))

  it.scopedLive("HttpsConnection: TLS over the socket, verified against host", () =>
    Effect.gen(function* () {
      const server = yield* unixServer(docker, { key: certs.serverKey, cert: certs.serverCert })
      const conn = yield* HttpsConnection.make({ host: "localhost", socketPath: server.path, tls: { ca: certs.ca }, timeout: "2 seconds" })
      yield* conn.request("GET", "/containers/json")
      const res = yield* conn.getResponse
      expect(res.status).toBe(200)
      expect(JSON.parse(Buffer.from(yield* res.read()).toString("utf8"))).toEqual(containers)
      expect(server.heads()[0]).toContain("\r\nHost: localhost")
    }).pipe(Effect.provide(Transport.layer)))

  it.scopedLive("a missing socket file: ConnectError ENOENT from request", () =>
    Effect.gen(function* () {
      const path = missingPath()
      const conn = yield* HttpConnection.make({ host: "localhost", socketPath: path, timeout: "2 seconds" })
      const e = connectFailure(yield* fails(conn.request("GET", "/containers/json")))
      expect(e).toMatchObject({ _tag: "ConnectError", code: "ENOENT", socketPath: path, host: "localhost", port: 80 })
      expect(conn.isConnected()).toBe(false)
    }).pipe(Effect.provide(Transport.layer)))

  it.scopedLive("the mock records the socket path of a connection", () =>
    Effect.gen(function* () {
      const conn = yield* HttpConnection.make({ host: "localhost", socketPath: "/var/run/docker.sock" })
      yield* conn.request("GET", "/containers/json")
      const res = yield* conn.getResponse
      expect(yield* res.text).toBe("[]")
      const peer = yield* Transport.MockPeer
      expect(peer.connectOptions()[0]).toMatchObject({ host: "localhost", port: 80, socketPath: "/var/run/docker.sock" })
      expect(peer.requestsText()[0]).toMatch(/^GET \/containers\/json HTTP\/1\.1\r\nHost: localhost\r\n/)
    }).pipe(Effect.provide(Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"]))))
})

describe("HttpClient: socketPath", () => {
  it.live("client.get over the socket: JSON, a kept-alive pooled connection, a pool keyed by the path", () =>
    Effect.gen(function* () {
      const server = yield* unixServer(docker)
      const client = yield* HttpClient.make({ socketPath: server.path, connectTimeout: "2 seconds", headersTimeout: "2 seconds" })
      const res = yield* client.get("http://localhost/containers/json")
      expect(res.status).toBe(200)
      expect(yield* res.json).toEqual(containers)
      const again = yield* client.get("http://localhost/version")
      expect(yield* again.text).toBe("GET /version host=localhost")
      expect(server.connections()).toBe(1)
      expect(client.stats()).toEqual([{ origin: `http://localhost via unix:${server.path}`, open: 1, idle: 1, pending: 0 }])
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))

  it.live("HttpClient.layerWith({ socketPath }): the Docker-style example", () =>
    Effect.gen(function* () {
      const server = yield* unixServer(docker)
      const list = Effect.gen(function* () {
        const client = yield* HttpClient.HttpClient
        const res = yield* client.get("http://localhost/containers/json")
        return yield* res.json
      }).pipe(Effect.scoped, Effect.provide(HttpClient.layerWith({ socketPath: server.path, connectTimeout: "2 seconds" })))
      expect(yield* list).toEqual(containers)
    }).pipe(Effect.scoped))

  it.live("two clients on two sockets never share connections", () =>
    Effect.gen(function* () {
      const a = yield* unixServer(docker)
      const b = yield* unixServer(docker)
      const ca = yield* HttpClient.make({ socketPath: a.path, connectTimeout: "2 seconds" })
      const cb = yield* HttpClient.make({ socketPath: b.path, connectTimeout: "2 seconds" })
      for (let i = 0; i < 2; i++) {
        yield* Effect.scoped(Effect.flatMap(ca.get("http://localhost/a"), (r) => r.text))
        yield* Effect.scoped(Effect.flatMap(cb.get("http://localhost/b"), (r) => r.text))
      }
      expect(a.heads().map((h) => h.split("\r\n")[0])).toEqual(["GET /a HTTP/1.1", "GET /a HTTP/1.1"])
      expect(b.heads().map((h) => h.split("\r\n")[0])).toEqual(["GET /b HTTP/1.1", "GET /b HTTP/1.1"])
      expect([a.connections(), b.connections()]).toEqual([1, 1])
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))

  it.live("a missing socket file: ConnectError ENOENT", () =>
    Effect.gen(function* () {
      const path = missingPath()
      const client = yield* HttpClient.make({ socketPath: path, connectTimeout: "2 seconds" })
      const e = connectFailure(yield* fails(client.get("http://localhost/containers/json")))
      expect(e).toMatchObject({ _tag: "ConnectError", code: "ENOENT", socketPath: path, host: "localhost", port: 80 })
      expect(existsSync(path)).toBe(false)
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))

  it.live("mock: socketPath is passed to every connect, the pool key carries it, and proxies are not used", () => {
    const mock = Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"], { keepOpen: true })
    const layer = Layer.merge(
      HttpClient.layerWithoutTransportWith({ socketPath: "/var/run/docker.sock", proxy: "http://proxy.test:3128" }).pipe(Layer.provide(mock)),
      mock
    )
    return Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const res = yield* client.get("http://localhost/containers/json")
      expect(yield* res.json).toEqual([])
      const peer = yield* Transport.MockPeer
      expect(peer.connectOptions()).toHaveLength(1)
      expect(peer.connectOptions()[0]).toMatchObject({ host: "localhost", port: 80, socketPath: "/var/run/docker.sock" })
      // Origin-form target and the URL's Host: no absolute-form for a proxy.
      expect(peer.requestsText()[0]).toMatch(/^GET \/containers\/json HTTP\/1\.1\r\nHost: localhost\r\n/)
      expect(client.stats().map((s) => s.origin)).toEqual(["http://localhost via unix:/var/run/docker.sock"])
    }).pipe(Effect.scoped, Effect.provide(layer))
  })
})
