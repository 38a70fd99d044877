/**
 * HttpsConnection against loopback TLS servers (Python's HTTPSTest and TunnelTests).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Scope } from "effect"
import { HttpConnection, HttpsConnection, Transport } from "../src/index.js"
import * as certs from "./fixtures/certs.js"
import { connectProxy, eventually, httpServer, httpsServer, rawServer } from "./helpers/servers.js"

const live = <A, E>(effect: Effect.Effect<A, E, Transport.Transport | Scope.Scope>) =>
  effect.pipe(Effect.scoped, Effect.provide(Transport.layer))

const fails = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, Error, R> =>
  Effect.flip(effect).pipe(Effect.catchAll(() => Effect.fail(new Error("expected a failure, got a success"))))

const serverTls = { key: certs.serverKey, cert: certs.serverCert }

const hello = httpsServer(serverTls, (req, res) => {
  res.setHeader("X-Secure", "yes")
  res.end(`hello ${req.url} via ${req.headers.host}`)
})

describe("HttpsConnection", () => {
  it.live("valid chain (custom CA) → 200, secure socket, Host without default port", () =>
    live(
      Effect.gen(function* () {
        const server = yield* hello
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, tls: { ca: certs.ca }, timeout: "2 seconds" })
        expect(conn.secure).toBe(true)
        yield* conn.request("GET", "/a")
        const res = yield* conn.getResponse
        expect(res.status).toBe(200)
        expect(res.getHeader("x-secure")).toBe("yes")
        expect(yield* res.text).toBe(`hello /a via 127.0.0.1:${server.port}`)
        expect(conn.socket?.secure).toBe(true)
      })
    ))

  it.live("host name 'localhost' is verified against the certificate (SNI)", () =>
    live(
      Effect.gen(function* () {
        const server = yield* hello
        const conn = yield* HttpsConnection.make({ host: `localhost:${server.port}`, tls: { ca: certs.ca }, timeout: "2 seconds" })
        yield* conn.request("GET", "/")
        expect((yield* conn.getResponse).status).toBe(200)
      })
    ))

  it.live("keep-alive over TLS: one connection for several requests", () =>
    live(
      Effect.gen(function* () {
        const server = yield* hello
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, tls: { ca: certs.ca } })
        for (let i = 0; i < 5; i++) {
          yield* conn.request("GET", `/${i}`)
          expect(yield* (yield* conn.getResponse).text).toBe(`hello /${i} via 127.0.0.1:${server.port}`)
        }
        expect(server.connections()).toBe(1)
      })
    ))

  it.live("HttpsConnection opens TLS whatever the layer (layerNet, layerTls)", () =>
    Effect.gen(function* () {
      for (const layer of [Transport.layerNet, Transport.layerTls]) {
        yield* Effect.gen(function* () {
          const server = yield* hello
          const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, tls: { ca: certs.ca } })
          yield* conn.request("GET", "/")
          expect((yield* conn.getResponse).status).toBe(200)
        }).pipe(Effect.scoped, Effect.provide(layer))
      }
    }))

  it.live("POST body over TLS", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpsServer(serverTls, (req, res) => {
          const parts: Array<Buffer> = []
          req.on("data", (d: Buffer) => parts.push(d))
          req.on("end", () => res.end(Buffer.concat(parts)))
        })
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, tls: { ca: certs.ca } })
        const body = "é".repeat(40_000)
        yield* conn.request("POST", "/", { body })
        expect(yield* (yield* conn.getResponse).text).toBe(body)
      })
    ))

  it.live("self-signed certificate without its CA → TlsError (Python test_local_unknown_cert)", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpsServer({ key: certs.selfSignedKey, cert: certs.selfSignedCert }, (_q, r) => r.end("x"))
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, timeout: "2 seconds" })
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("TlsError")
        expect(e.message).toContain(`127.0.0.1:${server.port}`)
        expect(conn.state).toBe("Idle")
        yield* eventually(() => server.openConnections() === 0, "server socket closed")
      })
    ))

  it.live("server certificate not signed by the given CA → TlsError", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpsServer({ key: certs.selfSignedKey, cert: certs.selfSignedCert }, (_q, r) => r.end("x"))
        const conn = yield* HttpsConnection.make({ host: "localhost", port: server.port, tls: { ca: certs.ca } })
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("TlsError")
      })
    ))

  it.live("wrong host name → TlsError (Python test_local_bad_hostname)", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpsServer({ key: certs.wrongHostKey, cert: certs.wrongHostCert }, (_q, r) => r.end("x"))
        const conn = yield* HttpsConnection.make({ host: "localhost", port: server.port, tls: { ca: certs.ca }, timeout: "2 seconds" })
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("TlsError")
        expect(e.message).toContain(`localhost:${server.port}`)
        if (e._tag === "TlsError") expect(e.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID")
      })
    ))

  it.live("wrong host name accepted with servername set to the certificate's name", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpsServer({ key: certs.wrongHostKey, cert: certs.wrongHostCert }, (_q, r) => r.end("x"))
        const conn = yield* HttpsConnection.make({
          host: "127.0.0.1",
          port: server.port,
          tls: { ca: certs.ca, servername: "example.invalid" }
        })
        yield* conn.request("GET", "/")
        expect((yield* conn.getResponse).status).toBe(200)
      })
    ))

  it.live("rejectUnauthorized: false accepts a self-signed certificate", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpsServer({ key: certs.selfSignedKey, cert: certs.selfSignedCert }, (_q, r) => r.end("insecure"))
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, tls: { rejectUnauthorized: false } })
        yield* conn.request("GET", "/")
        const res = yield* conn.getResponse
        expect(res.status).toBe(200)
        expect(yield* res.text).toBe("insecure")
      })
    ))

  it.live("client certificate (mTLS)", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpsServer({ ...serverTls, ca: certs.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
          const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate()
          res.end(`client ${peer.subject?.CN ?? "?"}`)
        })
        const conn = yield* HttpsConnection.make({
          host: "127.0.0.1",
          port: server.port,
          tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }
        })
        yield* conn.request("GET", "/")
        expect(yield* (yield* conn.getResponse).text).toMatch(/^client /)
      })
    ))

  it.live("TimeoutError phase connect: the TLS handshake never completes", () =>
    live(
      Effect.gen(function* () {
        const server = yield* rawServer(() => {})
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, timeout: "150 millis" })
        const start = Date.now()
        const e = yield* fails(conn.request("GET", "/"))
        expect(Date.now() - start).toBeLessThan(1500)
        expect(e._tag).toBe("TimeoutError")
        if (e._tag === "TimeoutError") expect(e.phase).toBe("connect")
        expect(e.message).toContain(`127.0.0.1:${server.port}`)
        yield* eventually(() => server.openConnections() === 0, "half-open socket closed")
      })
    ))

  it.live("a plain HTTP server on the HTTPS port → TlsError, no hang", () =>
    live(
      Effect.gen(function* () {
        const server = yield* httpServer((_q, r) => r.end("plain"))
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: server.port, tls: { ca: certs.ca }, timeout: "2 seconds" })
        const e = yield* fails(conn.request("GET", "/"))
        expect(["TlsError", "ConnectionReset", "RemoteDisconnected"]).toContain(e._tag)
      })
    ))

  it.live("HttpConnection (plain) to a TLS server: refused as soon as the bytes are seen, not hanging", () =>
    live(
      Effect.gen(function* () {
        const server = yield* hello
        const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "2 seconds" })
        yield* conn.request("GET", "/")
        const e = yield* fails(conn.getResponse)
        expect(["BadStatusLine", "RemoteDisconnected", "ConnectionReset"]).toContain(e._tag)
      })
    ))

  it.effect("default port 443; host:port parsing", () =>
    Effect.gen(function* () {
      const a = yield* HttpsConnection.make({ host: "example.com" })
      expect(a.port).toBe(443)
      const b = yield* HttpsConnection.make({ host: "[::1]:8443" })
      expect([b.host, b.port]).toEqual(["::1", 8443])
      const e = yield* fails(HttpsConnection.make({ host: "example.com:https" }))
      expect(e._tag).toBe("InvalidURL")
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock([]))))
})

describe("HttpsConnection.setTunnel", () => {
  it.live("TLS inside a CONNECT tunnel; Proxy-Authorization goes to the proxy only", () =>
    live(
      Effect.gen(function* () {
        let sawProxyAuth: string | undefined = "unset"
        const target = yield* httpsServer(serverTls, (req, res) => {
          sawProxyAuth = req.headers["proxy-authorization"]
          res.end(`tunneled ${req.headers.host}`)
        })
        const proxy = yield* connectProxy()
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: proxy.port, tls: { ca: certs.ca }, timeout: "2 seconds" })
        yield* conn.setTunnel("127.0.0.1", target.port, [["Proxy-Authorization", "Basic Zm9vOmJhcg=="]])
        yield* conn.request("GET", "/")
        expect(yield* (yield* conn.getResponse).text).toBe(`tunneled 127.0.0.1:${target.port}`)
        yield* conn.request("GET", "/again")
        yield* (yield* conn.getResponse).read()
        expect(sawProxyAuth).toBeUndefined()
        const [connect] = proxy.requests()
        expect(connect!.line).toBe(`CONNECT 127.0.0.1:${target.port} HTTP/1.1`)
        expect(connect!.headers).toContainEqual(["Proxy-Authorization", "Basic Zm9vOmJhcg=="])
        expect(proxy.requests()).toHaveLength(1)
        expect(target.connections()).toBe(1)
      })
    ))

  it.live("tunnel target default port is 443 for HTTPS", () =>
    live(
      Effect.gen(function* () {
        const proxy = yield* connectProxy({ status: 403, reason: "Forbidden" })
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: proxy.port })
        yield* conn.setTunnel("example.com")
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("TunnelError")
        expect(proxy.requests()[0]!.line).toBe("CONNECT example.com:443 HTTP/1.1")
      })
    ))

  it.live("certificate verification inside the tunnel uses the target name (wrong host → TlsError)", () =>
    live(
      Effect.gen(function* () {
        const target = yield* httpsServer({ key: certs.wrongHostKey, cert: certs.wrongHostCert }, (_q, r) => r.end("x"))
        const proxy = yield* connectProxy()
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: proxy.port, tls: { ca: certs.ca }, timeout: "2 seconds" })
        yield* conn.setTunnel("127.0.0.1", target.port)
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("TlsError")
        yield* eventually(() => proxy.openConnections() === 0, "proxy connection closed")
      })
    ))

  for (const status of [407, 502, 301]) {
    it.live(`proxy answers ${status} → TunnelError with status, message names the proxy`, () =>
      live(
        Effect.gen(function* () {
          const proxy = yield* connectProxy({ status, reason: "Nope" })
          const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: proxy.port, tls: { ca: certs.ca } })
          yield* conn.setTunnel("localhost", 8443)
          const e = yield* fails(conn.request("GET", "/"))
          expect(e._tag).toBe("TunnelError")
          if (e._tag === "TunnelError") {
            expect(e.status).toBe(status)
            expect(e.message).toContain(`127.0.0.1:${proxy.port}`)
            expect(e.message).toContain("localhost:8443")
          }
          yield* eventually(() => proxy.openConnections() === 0, "proxy connection closed")
        })
      ))
  }

  it.live("the proxy closes without answering → RemoteDisconnected", () =>
    live(
      Effect.gen(function* () {
        const proxy = yield* rawServer((s) => s.on("data", () => s.end()))
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: proxy.port, tls: { ca: certs.ca } })
        yield* conn.setTunnel("localhost", 8443)
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("RemoteDisconnected")
      })
    ))

  it.live("the proxy never answers → TimeoutError", () =>
    live(
      Effect.gen(function* () {
        const proxy = yield* rawServer(() => {})
        const conn = yield* HttpsConnection.make({ host: "127.0.0.1", port: proxy.port, tls: { ca: certs.ca }, timeout: "150 millis" })
        yield* conn.setTunnel("localhost", 8443)
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("TimeoutError")
        yield* eventually(() => proxy.openConnections() === 0, "proxy connection closed")
      })
    ))
})
