import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber } from "effect"
import * as net from "node:net"
import * as Transport from "../../src/Transport.js"
import { underlying } from "../../src/transport/node.js"
import type { Socket } from "../../src/transport/types.js"
import { echo, eventually, freePort, hasIpv6Loopback, rawServer, tlsServer } from "../helpers/servers.js"
import * as certs from "../fixtures/certs.js"

const connect = (options: Transport.ConnectOptions) =>
  Effect.flatMap(Transport.Transport, (t) => t.connect(options)).pipe(Effect.provide(Transport.layerNet))

/** Reads until `n` bytes arrived (or EOF), bounded. */
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

const ipv6 = await hasIpv6Loopback()

describe("Transport.layerNet", () => {
  it.scopedLive("echoes over 127.0.0.1", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo)
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      expect(socket.secure).toBe(false)
      expect(socket.host).toBe("127.0.0.1")
      expect(socket.port).toBe(server.port)
      expect(socket.isOpen()).toBe(true)
      yield* socket.write("hello \xff")
      yield* socket.write(new Uint8Array([0x21]))
      expect(yield* readN(socket, 8)).toBe("hello \xff!")
      const raw = underlying(socket)!
      expect(raw.remoteAddress).toBe("127.0.0.1")
    }))

  it.scopedLive.skipIf(!ipv6)("echoes over ::1, bracketed or not", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo, "::1")
      for (const host of ["::1", "[::1]"]) {
        const socket = yield* connect({ host, port: server.port })
        yield* socket.write("v6")
        expect(yield* readN(socket, 2)).toBe("v6")
        expect(underlying(socket)!.remoteAddress).toBe("::1")
        yield* socket.close
      }
    }))

  it.live("ConnectError ECONNREFUSED on a closed port", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(freePort)
      const exit = yield* Effect.exit(Effect.scoped(connect({ host: "127.0.0.1", port })))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
      expect(error?._tag).toBe("Some")
      const e = (error as { value: unknown }).value as Transport.ConnectOptions & { _tag: string; code?: string; port: number; host: string }
      expect(e._tag).toBe("ConnectError")
      expect(e.code).toBe("ECONNREFUSED")
      expect(e.port).toBe(port)
      expect(e.host).toBe("127.0.0.1")
    }))

  it.live("ConnectError for an invalid port, not a defect", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.scoped(connect({ host: "127.0.0.1", port: 70000 })))
      expect(error._tag).toBe("ConnectError")
    }))

  it.live("connect timeout covers the TLS handshake (secure: true on layerNet)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        // Accepts TCP, never answers the ClientHello.
        const server = yield* rawServer((s) => s.resume())
        const start = Date.now()
        const error = yield* Effect.flip(Effect.scoped(connect({ host: "127.0.0.1", port: server.port, secure: true, timeout: "150 millis" })))
        expect(error._tag).toBe("TimeoutError")
        if (error._tag === "TimeoutError") {
          expect(error.phase).toBe("connect")
          expect(error.timeoutMs).toBe(150)
        }
        expect(Date.now() - start).toBeGreaterThanOrEqual(140)
        yield* eventually(() => server.connections() === 1 && server.openConnections() === 0, "server socket closed")
      })
    ))

  it.scopedLive("read timeout fails with the given phase; the socket stays usable", () =>
    Effect.gen(function* () {
      const accepted: Array<net.Socket> = []
      const server = yield* rawServer((s) => accepted.push(s))
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      const start = Date.now()
      const error = yield* Effect.flip(socket.read({ ms: 100, phase: "headers" }))
      expect(Date.now() - start).toBeGreaterThanOrEqual(90)
      expect(error._tag).toBe("TimeoutError")
      if (error._tag === "TimeoutError") {
        expect(error.phase).toBe("headers")
        expect(error.timeoutMs).toBe(100)
      }
      // A different limit, then a read that gets data before its timeout.
      const e2 = yield* Effect.flip(socket.read({ ms: 30, phase: "body" }))
      expect(e2._tag === "TimeoutError" && e2.phase).toBe("body")
      yield* eventually(() => accepted.length === 1, "accepted")
      setTimeout(() => accepted[0]!.write("late"), 20)
      const chunk = yield* socket.read({ ms: 1000, phase: "body" })
      expect(Buffer.from(chunk!).toString()).toBe("late")
      // The old timer must not fire into a later read without timeout.
      setTimeout(() => accepted[0]!.write("later"), 1100)
      const c2 = yield* socket.read()
      expect(Buffer.from(c2!).toString()).toBe("later")
    }))

  it.scopedLive("a second read while one waits fails with a typed ConnectionReset, not a defect", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(() => {})
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      const first = yield* Effect.fork(socket.read())
      yield* Effect.sleep("20 millis")
      const e = yield* Effect.flip(socket.read())
      expect(e).toMatchObject({ _tag: "ConnectionReset", code: "ERR_CONCURRENT_READ" })
      yield* Fiber.interrupt(first)
    }))

  it.scopedLive("EOF reads as undefined, forever; pending input and isOpen see it", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((s) => s.end("bye"))
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      yield* eventually(() => socket.hasPendingInput(), "pending input")
      expect(yield* readN(socket, 3)).toBe("bye")
      expect(yield* socket.read()).toBeUndefined()
      expect(yield* socket.read({ ms: 50, phase: "body" })).toBeUndefined()
      expect(socket.isOpen()).toBe(false)
      expect(socket.hasPendingInput()).toBe(true)
    }))

  it.scopedLive("EOF with nothing unread is seen by hasPendingInput without a read", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((s) => setTimeout(() => s.end(), 30))
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      expect(socket.hasPendingInput()).toBe(false)
      yield* eventually(() => socket.hasPendingInput(), "EOF noticed")
      expect(socket.isOpen()).toBe(false)
      expect(yield* socket.read()).toBeUndefined()
    }))

  it.scopedLive("a reset fails the read with ConnectionReset", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((s) => setTimeout(() => s.resetAndDestroy(), 20))
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      const error = yield* Effect.flip(socket.read({ ms: 2000, phase: "headers" }))
      expect(error._tag).toBe("ConnectionReset")
      if (error._tag === "ConnectionReset") {
        expect(error.code).toBe("ECONNRESET")
        expect(error.beforeResponse).toBe(false)
      }
      expect(socket.isOpen()).toBe(false)
      expect(socket.hasPendingInput()).toBe(true)
      const again = yield* Effect.flip(socket.write("x"))
      expect(again._tag).toBe("ConnectionReset")
    }))

  it.scopedLive("close is idempotent; reads and writes after close fail with ConnectionReset", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo)
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      yield* socket.close
      yield* socket.close
      expect(socket.isOpen()).toBe(false)
      expect((yield* Effect.flip(socket.read()))._tag).toBe("ConnectionReset")
      expect((yield* Effect.flip(socket.write("x")))._tag).toBe("ConnectionReset")
      yield* eventually(() => server.openConnections() === 0, "server side closed")
    }))

  it.scopedLive("a pending read fails when the socket is closed by another fiber", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(() => {})
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      const fiber = yield* Effect.fork(socket.read())
      yield* Effect.sleep("20 millis")
      yield* socket.close
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
    }))

  it.scopedLive("the socket is destroyed when its scope closes: success, failure, interruption", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((s) => s.resume())
      const closed = () => server.openConnections() === 0
      // success
      yield* Effect.scoped(connect({ host: "127.0.0.1", port: server.port }))
      yield* eventually(() => server.connections() === 1 && closed(), "closed after success")
      // failure
      const failed = yield* Effect.exit(
        Effect.scoped(Effect.flatMap(connect({ host: "127.0.0.1", port: server.port }), () => Effect.fail("boom")))
      )
      expect(Exit.isFailure(failed)).toBe(true)
      yield* eventually(() => server.connections() === 2 && closed(), "closed after failure")
      // interruption while reading
      const fiber = yield* Effect.fork(
        Effect.scoped(Effect.flatMap(connect({ host: "127.0.0.1", port: server.port }), (s) => s.read()))
      )
      yield* eventually(() => server.openConnections() === 1, "third connection open")
      yield* Fiber.interrupt(fiber)
      yield* eventually(() => server.connections() === 3 && closed(), "closed after interruption")
    }))

  it.scopedLive("interruption during connect (TLS handshake pending) destroys the socket", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((s) => s.resume())
      const fiber = yield* Effect.fork(Effect.scoped(connect({ host: "127.0.0.1", port: server.port, secure: true })))
      yield* eventually(() => server.openConnections() === 1, "tcp accepted")
      yield* Fiber.interrupt(fiber)
      yield* eventually(() => server.openConnections() === 0, "closed after interruption")
    }))

  it.scopedLive("backpressure: a consumer that stops reading does not buffer a 64 MiB body", () =>
    Effect.gen(function* () {
      const total = 64 * 1024 * 1024
      let flushed = 0
      const block = Buffer.alloc(64 * 1024, 0x61)
      const server = yield* rawServer((s) => {
        const pump = () => {
          while (flushed < total) {
            flushed += block.length
            if (!s.write(block)) return void s.once("drain", pump)
          }
          s.end()
        }
        pump()
      })
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      const first = yield* socket.read({ ms: 2000, phase: "body" })
      expect(first!.length).toBeGreaterThan(0)
      yield* Effect.sleep("300 millis")
      const raw = underlying(socket)!
      // Node stops reading at its high-water mark; the rest stays in the kernel and the server.
      expect(raw.bytesRead).toBeLessThan(1024 * 1024)
      // At most the 256 KiB high-water mark plus the one kernel read that crossed it.
      expect(raw.readableLength).toBeLessThanOrEqual(512 * 1024)
      expect(flushed).toBeLessThan(total / 2)
      // Reading resumes the flow.
      let got = first!.length
      while (got < 8 * 1024 * 1024) got += (yield* socket.read({ ms: 2000, phase: "body" }))!.length
      expect(got).toBeGreaterThanOrEqual(8 * 1024 * 1024)
    }))

  it.scopedLive("a large write resolves once drained and all bytes arrive", () =>
    Effect.gen(function* () {
      let received = 0
      const server = yield* rawServer((s) => s.on("data", (d: Buffer) => (received += d.length)))
      const socket = yield* connect({ host: "127.0.0.1", port: server.port })
      const big = new Uint8Array(32 * 1024 * 1024).fill(7)
      yield* socket.write(big)
      yield* socket.write("tail")
      yield* eventually(() => received === big.length + 4, "all bytes received", 10_000)
    }))

  it.scopedLive("sourceAddress binds the local address and port", () =>
    Effect.gen(function* () {
      const seen: Array<{ address: string | undefined; port: number | undefined }> = []
      const server = yield* rawServer((s) => seen.push({ address: s.remoteAddress, port: s.remotePort }))
      const localPort = yield* Effect.promise(freePort)
      const socket = yield* connect({ host: "127.0.0.1", port: server.port, sourceAddress: { host: "127.0.0.1", port: localPort } })
      yield* eventually(() => seen.length === 1, "accepted")
      expect(seen[0]).toEqual({ address: "127.0.0.1", port: localPort })
      expect(underlying(socket)!.localPort).toBe(localPort)
      // host only: any port
      const s2 = yield* connect({ host: "127.0.0.1", port: server.port, sourceAddress: { host: "127.0.0.1" } })
      expect(underlying(s2)!.localAddress).toBe("127.0.0.1")
    }))

  it.scopedLive("setNoDelay and keep-alive are applied; secure:false on layerTls is plain TCP", () =>
    Effect.gen(function* () {
      const server = yield* rawServer(echo)
      const socket = yield* Effect.flatMap(Transport.Transport, (t) => t.connect({ host: "127.0.0.1", port: server.port, secure: false })).pipe(
        Effect.provide(Transport.layerTls)
      )
      expect(socket.secure).toBe(false)
      yield* socket.write("plain")
      expect(yield* readN(socket, 5)).toBe("plain")
    }))

  it.scopedLive("TLS connect timeout: a TLS server stuck in its handshake (SNI callback never answers)", () =>
    Effect.gen(function* () {
      const server = yield* tlsServer({ key: certs.serverKey, cert: certs.serverCert, SNICallback: () => {} }, () => {})
      const error = yield* Effect.flip(
        Effect.scoped(connect({ host: "localhost", port: server.port, secure: true, timeout: Duration.millis(100), tls: { ca: certs.ca } }))
      )
      expect(error._tag === "TimeoutError" && error.phase).toBe("connect")
      yield* eventually(() => server.openConnections() === 0, "raw socket closed")
    }))
})
