import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Layer } from "effect"
import * as net from "node:net"
import type * as tls from "node:tls"
import * as Transport from "../../src/Transport.js"
import { underlying } from "../../src/transport/node.js"
import type { Socket } from "../../src/transport/types.js"
import * as certs from "../fixtures/certs.js"
import { echo, eventually, hasIpv6Loopback, rawServer, tlsServer } from "../helpers/servers.js"

const connectWith = <E>(layer: Layer.Layer<Transport.Transport, E>, options: Transport.ConnectOptions) =>
  Effect.flatMap(Transport.Transport, (t) => t.connect(options)).pipe(Effect.provide(layer))

const readN = (socket: Socket, n: number) =>
  Effect.gen(function* () {
    const parts: Array<Buffer> = []
    let got = 0
    while (got < n) {
      const chunk = yield* socket.read({ ms: 2000, phase: "body" })
      if (chunk === undefined) break
      parts.push(Buffer.from(chunk))
      got += chunk.length
    }
    return Buffer.concat(parts).toString("latin1")
  })

interface Seen {
  servername: string | false
  alpn: string | false
  authorized: boolean
}

const seenBy = (seen: Array<Seen>) => (s: tls.TLSSocket) => {
  seen.push({ servername: s.servername as string | false, alpn: s.alpnProtocol ?? false, authorized: s.authorized })
  echo(s)
}

const serverOptions = { key: certs.serverKey, cert: certs.serverCert, ALPNProtocols: ["http/1.1"] }
const ipv6 = await hasIpv6Loopback()

describe("Transport TLS", () => {
  it.scopedLive("valid CA: handshake, ALPN http/1.1, SNI localhost", () =>
    Effect.gen(function* () {
      const seen: Array<Seen> = []
      const server = yield* tlsServer(serverOptions, seenBy(seen))
      const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca }), { host: "localhost", port: server.port, timeout: "5 seconds" })
      expect(socket.secure).toBe(true)
      yield* socket.write("secret")
      expect(yield* readN(socket, 6)).toBe("secret")
      expect(seen).toEqual([{ servername: "localhost", alpn: "http/1.1", authorized: false }])
      expect((underlying(socket) as tls.TLSSocket).alpnProtocol).toBe("http/1.1")
    }))

  it.scopedLive("IP literal: no SNI, certificate checked against the IP SAN", () =>
    Effect.gen(function* () {
      const seen: Array<Seen> = []
      const server = yield* tlsServer(serverOptions, seenBy(seen))
      const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca }), { host: "127.0.0.1", port: server.port })
      yield* socket.write("x")
      expect(yield* readN(socket, 1)).toBe("x")
      expect(seen[0]!.servername).toBe(false)
    }))

  it.scopedLive.skipIf(!ipv6)("IPv6 literal in brackets: no SNI, IP SAN ::1", () =>
    Effect.gen(function* () {
      const seen: Array<Seen> = []
      const server = yield* tlsServer(serverOptions, seenBy(seen), "::1")
      const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca }), { host: "[::1]", port: server.port })
      yield* socket.write("6")
      expect(yield* readN(socket, 1)).toBe("6")
      expect(seen[0]!.servername).toBe(false)
    }))

  it.scopedLive("servername option: SNI and hostname check use it", () =>
    Effect.gen(function* () {
      const seen: Array<Seen> = []
      const server = yield* tlsServer(serverOptions, seenBy(seen))
      // per-connect tls merges over the layer's (ca from the layer, servername from the connect)
      const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca }), {
        host: "127.0.0.1",
        port: server.port,
        tls: { servername: "localhost", ca: undefined }
      })
      yield* socket.write("y")
      expect(yield* readN(socket, 1)).toBe("y")
      expect(seen[0]!.servername).toBe("localhost")
    }))

  it.live("self-signed certificate without its CA: TlsError DEPTH_ZERO_SELF_SIGNED_CERT", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* tlsServer({ key: certs.selfSignedKey, cert: certs.selfSignedCert }, echo)
        const error = yield* Effect.flip(Effect.scoped(connectWith(Transport.layerTls, { host: "localhost", port: server.port })))
        expect(error._tag).toBe("TlsError")
        if (error._tag === "TlsError") {
          expect(error.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT")
          expect(error.host).toBe("localhost")
          expect(error.port).toBe(server.port)
          expect(error.message).toContain("DEPTH_ZERO_SELF_SIGNED_CERT")
        }
      })
    ))

  it.live("CA-signed certificate without the CA: TlsError UNABLE_TO_VERIFY_LEAF_SIGNATURE", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* tlsServer(serverOptions, echo)
        const error = yield* Effect.flip(Effect.scoped(connectWith(Transport.layer, { host: "localhost", port: server.port, secure: true })))
        expect(error._tag === "TlsError" && error.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
      })
    ))

  it.live("wrong hostname: TlsError ERR_TLS_CERT_ALTNAME_INVALID", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* tlsServer({ key: certs.wrongHostKey, cert: certs.wrongHostCert }, echo)
        const error = yield* Effect.flip(
          Effect.scoped(connectWith(Transport.layerTlsWith({ ca: certs.ca }), { host: "localhost", port: server.port }))
        )
        expect(error._tag === "TlsError" && error.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID")
        yield* eventually(() => server.openConnections() === 0, "server side closed")
      })
    ))

  it.scopedLive("rejectUnauthorized: false accepts a self-signed certificate", () =>
    Effect.gen(function* () {
      const server = yield* tlsServer({ key: certs.selfSignedKey, cert: certs.selfSignedCert }, echo)
      const socket = yield* connectWith(Transport.layerNet, {
        host: "127.0.0.1",
        port: server.port,
        secure: true,
        tls: { rejectUnauthorized: false }
      })
      expect(socket.secure).toBe(true)
      yield* socket.write("ok")
      expect(yield* readN(socket, 2)).toBe("ok")
    }))

  it.scopedLive("client certificate accepted by a server that requires one", () =>
    Effect.gen(function* () {
      const seen: Array<Seen> = []
      const server = yield* tlsServer({ ...serverOptions, ca: certs.ca, requestCert: true, rejectUnauthorized: true }, seenBy(seen))
      const socket = yield* connectWith(Transport.layerTlsWith({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }), {
        host: "localhost",
        port: server.port
      })
      yield* socket.write("mtls")
      expect(yield* readN(socket, 4)).toBe("mtls")
      expect(seen[0]!.authorized).toBe(true)
    }))

  it.live("without the client certificate the server refuses (TlsError, or a reset on read under TLS 1.3)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* tlsServer({ ...serverOptions, ca: certs.ca, requestCert: true, rejectUnauthorized: true }, echo)
        const outcome = yield* Effect.scoped(
          connectWith(Transport.layerTlsWith({ ca: certs.ca }), { host: "localhost", port: server.port }).pipe(
            Effect.flatMap((s) => Effect.zipRight(s.write("x"), s.read({ ms: 2000, phase: "headers" }))),
            Effect.either
          )
        )
        if (outcome._tag === "Left") expect(["TlsError", "ConnectionReset"]).toContain(outcome.left._tag)
        else expect(outcome.right).toBeUndefined()
      })
    ))

  it.live("minVersion and ciphers are passed to node:tls", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* tlsServer({ ...serverOptions, maxVersion: "TLSv1.2" }, echo)
        const error = yield* Effect.flip(
          Effect.scoped(connectWith(Transport.layerTlsWith({ ca: certs.ca, minVersion: "TLSv1.3" }), { host: "localhost", port: server.port }))
        )
        expect(error._tag).toBe("TlsError")
        const ok = yield* Effect.scoped(
          Effect.flatMap(
            connectWith(Transport.layerTlsWith({ ca: certs.ca, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" }), { host: "localhost", port: server.port }),
            (s) => Effect.succeed((underlying(s) as tls.TLSSocket).getCipher().name)
          )
        )
        expect(ok).toBe("ECDHE-ECDSA-AES128-GCM-SHA256")
      })
    ))

  it.live("an invalid PEM: InvalidTlsOptions when the layer is built, TlsError on a per-connect option; never a defect", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* tlsServer(serverOptions, echo)
        const error = yield* Effect.flip(
          Effect.scoped(connectWith(Transport.layerTlsWith({ cert: "garbage", key: "garbage" }), { host: "localhost", port: server.port }))
        )
        expect(error._tag === "InvalidTlsOptions" && error.option).toBe("cert")
        const perConnect = yield* Effect.flip(
          Effect.scoped(connectWith(Transport.layerNet, { host: "localhost", port: server.port, secure: true, tls: { cert: "garbage", key: "garbage" } }))
        )
        expect(perConnect._tag).toBe("TlsError")
      })
    ))

  it.live("a plain server on a TLS connect fails with TlsError", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* rawServer((s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"))
        const error = yield* Effect.flip(Effect.scoped(connectWith(Transport.layerTls, { host: "127.0.0.1", port: server.port })))
        expect(error._tag).toBe("TlsError")
      })
    ))

  it.scopedLive("startTls over a plain socket through a relay (CONNECT tunnel)", () =>
    Effect.gen(function* () {
      const seen: Array<Seen> = []
      const target = yield* tlsServer(serverOptions, seenBy(seen))
      const upstreams: Array<net.Socket> = []
      // A tiny CONNECT-like relay: answers the first line, then pipes bytes both ways.
      const relay = yield* rawServer((client) => {
        client.once("data", () => {
          const up = net.connect(target.port, "127.0.0.1", () => {
            client.write("HTTP/1.1 200 Connection established\r\n\r\n")
            client.pipe(up)
            up.pipe(client)
          })
          upstreams.push(up)
          up.on("error", () => client.destroy())
          client.on("close", () => up.destroy())
          up.on("close", () => client.destroy())
        })
      })
      const plain = yield* connectWith(Transport.layerNet, { host: "127.0.0.1", port: relay.port })
      yield* plain.write(`CONNECT localhost:${target.port} HTTP/1.1\r\nHost: localhost:${target.port}\r\n\r\n`)
      const answer = yield* plain.read({ ms: 2000, phase: "headers" })
      expect(Buffer.from(answer!).toString("latin1")).toContain("200")
      const secure = yield* plain.startTls({ host: "localhost", port: target.port, tls: { ca: certs.ca }, timeout: "5 seconds" })
      expect(secure.secure).toBe(true)
      yield* secure.write("tunnelled")
      expect(yield* readN(secure, 9)).toBe("tunnelled")
      expect(seen[0]).toEqual({ servername: "localhost", alpn: "http/1.1", authorized: false })
      expect(plain.isOpen()).toBe(false) // handed over to the TLS socket
      yield* secure.close
      yield* eventually(() => relay.openConnections() === 0 && target.openConnections() === 0, "both ends closed")
    }))

  it.live("startTls verification failure is a TlsError and closes the socket", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const target = yield* tlsServer({ key: certs.wrongHostKey, cert: certs.wrongHostCert }, echo)
        const relay = yield* rawServer((client) => {
          const up = net.connect(target.port, "127.0.0.1")
          client.pipe(up)
          up.pipe(client)
          up.on("error", () => client.destroy())
          client.on("close", () => up.destroy())
          up.on("close", () => client.destroy())
        })
        const error = yield* Effect.scoped(
          Effect.gen(function* () {
            const plain = yield* connectWith(Transport.layerNet, { host: "127.0.0.1", port: relay.port })
            return yield* Effect.flip(plain.startTls({ host: "localhost", port: target.port, tls: { ca: certs.ca } }))
          })
        )
        expect(error._tag === "TlsError" && error.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID")
        yield* eventually(() => relay.openConnections() === 0, "relay side closed")
      })
    ))
})
