/**
 * Issue 8, part 6: an `https://` proxy for http:// targets: TLS to the proxy (verified with the
 * test CA), absolute-form request line, `Proxy-Authorization: Basic ...` inside TLS; nothing in
 * clear on the wire.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import type * as tls from "node:tls"
import { HttpClient } from "../../src/index.js"
import * as certs from "../fixtures/certs.js"
import { httpsServer, ok, rawServer, tlsServer } from "../helpers/servers.js"
import { failureOf, withClient } from "./support.js"

interface Seen {
  readonly line: string
  readonly head: string
}

/**
 * A TLS forward proxy (certificate for 127.0.0.1, signed by the test CA) that answers every
 * request itself with `ok(target)`, keeping the connection alive, and records each request head.
 */
const tlsProxy = Effect.gen(function* () {
  const seen: Array<Seen> = []
  const server = yield* tlsServer({ key: certs.serverKey, cert: certs.serverCert }, (socket: tls.TLSSocket) => {
    let buf = ""
    socket.on("data", (d: Buffer) => {
      buf += d.toString("latin1")
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const head = buf.slice(0, end + 4)
        buf = buf.slice(end + 4)
        const line = head.slice(0, head.indexOf("\r\n"))
        seen.push({ line, head })
        socket.write(ok(line.split(" ")[1] ?? "?"))
      }
    })
  })
  return { ...server, seen: () => seen.slice() }
})

/**
 * A TCP relay in front of `port` that records every byte the client sends: what a network
 * observer between the client and the proxy would see.
 */
const tap = (port: number) =>
  rawServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port })
    upstream.on("error", () => client.destroy())
    client.on("close", () => upstream.destroy())
    upstream.on("close", () => client.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  })

const BASIC = `Basic ${Buffer.from("user:pw").toString("base64")}`

describe("https:// proxy for http:// targets", () => {
  it.scopedLive("TLS to the proxy, absolute-form target, Proxy-Authorization inside TLS; nothing in clear", () =>
    Effect.gen(function* () {
      const proxy = yield* tlsProxy
      const wire = yield* tap(proxy.port)
      const answers = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const get = (url: string) => Effect.scoped(Effect.flatMap(c.get(url, { headers: { "x-secret": "s3cret" } }), (r) => r.text))
          return [yield* get("http://origin.invalid:8080/a?b=1"), yield* get("http://origin.invalid:8080/c")]
        }),
        { proxy: `https://user:pw@127.0.0.1:${wire.port}`, tls: { ca: certs.ca } }
      )
      // The proxy answered with the target it read: absolute-form.
      expect(answers).toEqual(["http://origin.invalid:8080/a?b=1", "http://origin.invalid:8080/c"])
      const seen = proxy.seen()
      expect(seen.map((s) => s.line)).toEqual([
        "GET http://origin.invalid:8080/a?b=1 HTTP/1.1",
        "GET http://origin.invalid:8080/c HTTP/1.1"
      ])
      for (const s of seen) {
        expect(s.head).toContain(`\r\nProxy-Authorization: ${BASIC}\r\n`)
        expect(s.head).toContain("\r\nHost: origin.invalid:8080\r\n")
        expect(s.head).toContain("\r\nx-secret: s3cret\r\n")
      }
      // One TLS connection to the proxy, kept alive for both requests.
      expect(proxy.connections()).toBe(1)
      expect(wire.connections()).toBe(1)
      // On the wire: a TLS handshake record first, and none of the request in clear.
      const raw = wire.received()[0] ?? ""
      expect(raw.length).toBeGreaterThan(0)
      expect(raw.charCodeAt(0)).toBe(0x16)
      for (const clear of ["GET ", "HTTP/1.1", "Proxy-Authorization", BASIC, Buffer.from("user:pw").toString("base64"), "user:pw", "origin.invalid", "s3cret"]) {
        expect(raw.includes(clear), `"${clear}" went in clear`).toBe(false)
      }
    }))

  it.scopedLive("the proxy's certificate is verified: without the test CA the request fails with TlsError, nothing sent", () =>
    Effect.gen(function* () {
      const proxy = yield* tlsProxy
      const exit = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => Effect.exit(Effect.scoped(Effect.flatMap(c.get("http://origin.invalid:8080/a"), (r) => r.text)))),
        { proxy: `https://user:pw@127.0.0.1:${proxy.port}` }
      )
      expect(failureOf(exit)._tag).toBe("TlsError")
      expect(proxy.seen()).toEqual([])
    }))

  it.scopedLive("a POST body goes to the proxy inside TLS too", () =>
    Effect.gen(function* () {
      const bodies: Array<string> = []
      const proxy = yield* tlsServer({ key: certs.serverKey, cert: certs.serverCert }, (socket) => {
        let buf = ""
        socket.on("data", (d: Buffer) => {
          buf += d.toString("latin1")
          const end = buf.indexOf("\r\n\r\n")
          const m = /\r\nContent-Length: (\d+)\r\n/i.exec(buf)
          if (end < 0 || m === null || buf.length < end + 4 + Number(m[1])) return
          bodies.push(buf.slice(end + 4, end + 4 + Number(m[1])))
          socket.write(ok(buf.slice(0, buf.indexOf("\r\n"))))
          buf = ""
        })
      })
      const wire = yield* tap(proxy.port)
      const line = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) =>
          Effect.scoped(Effect.flatMap(c.post("http://origin.invalid/form", { body: "password=hunter2" }), (r) => r.text))
        ),
        { proxy: `https://user:pw@127.0.0.1:${wire.port}`, tls: { ca: certs.ca } }
      )
      expect(line).toBe("POST http://origin.invalid/form HTTP/1.1")
      expect(bodies).toEqual(["password=hunter2"])
      expect((wire.received()[0] ?? "").includes("hunter2")).toBe(false)
    }))
})

describe("https:// proxy for https:// targets (CONNECT inside TLS, then TLS to the target)", () => {
  it.scopedLive("CONNECT with Proxy-Authorization goes inside TLS; the target's TLS runs inside the tunnel", () =>
    Effect.gen(function* () {
      const target = yield* httpsServer({ key: certs.serverKey, cert: certs.serverCert }, (req, res) => {
        const body = `secure ${req.url}`
        res.writeHead(200, { "Content-Length": String(body.length) })
        res.end(body)
      })
      const connects: Array<string> = []
      const upstreams = new Set<net.Socket>()
      yield* Effect.addFinalizer(() => Effect.sync(() => upstreams.forEach((u) => u.destroy())))
      const proxy = yield* tlsServer({ key: certs.serverKey, cert: certs.serverCert }, (socket) => {
        let buf = Buffer.alloc(0)
        const onData = (d: Buffer) => {
          buf = Buffer.concat([buf, d])
          const end = buf.indexOf("\r\n\r\n")
          if (end < 0) return
          socket.off("data", onData)
          const head = buf.subarray(0, end + 4).toString("latin1")
          connects.push(head)
          const m = /^CONNECT 127\.0\.0\.1:(\d+) HTTP\/1\.1\r\n/.exec(head)
          if (m === null) return void socket.end("HTTP/1.1 405 No\r\nContent-Length: 0\r\n\r\n")
          const upstream = net.connect({ host: "127.0.0.1", port: Number(m[1]) })
          upstreams.add(upstream)
          upstream.on("error", () => socket.destroy())
          socket.on("close", () => upstream.destroy())
          upstream.once("connect", () => {
            socket.write("HTTP/1.1 200 Connection established\r\n\r\n")
            const rest = buf.subarray(end + 4)
            if (rest.length > 0) upstream.write(rest)
            socket.pipe(upstream)
            upstream.pipe(socket)
          })
        }
        socket.on("data", onData)
      })
      const wire = yield* tap(proxy.port)
      const text = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => Effect.scoped(Effect.flatMap(c.get(`https://127.0.0.1:${target.port}/deep`), (r) => r.text))),
        { proxy: `https://user:pw@127.0.0.1:${wire.port}`, tls: { ca: certs.ca } }
      )
      expect(text).toBe("secure /deep")
      expect(connects.length).toBe(1)
      expect(connects[0]).toMatch(new RegExp(`^CONNECT 127\\.0\\.0\\.1:${target.port} HTTP/1\\.1\\r\\n`))
      expect(connects[0]).toContain(`\r\nProxy-Authorization: ${BASIC}\r\n`)
      const raw = wire.received()[0] ?? ""
      expect(raw.charCodeAt(0)).toBe(0x16)
      for (const clear of ["CONNECT", "Proxy-Authorization", BASIC, "/deep"]) expect(raw.includes(clear), `"${clear}" went in clear`).toBe(false)
    }))
})

