/**
 * Issue 8, part 3: buffering reads (`read()`, `bytes`, `text`, `json`) are bounded by
 * `maxBodySize`; `stream` / `drain` are unbounded unless `maxStreamedBodySize` is set; after
 * `BodyTooLarge` the socket is closed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import type * as net from "node:net"
import { HttpClient, HttpConnection, Transport, type Http1Error } from "../../src/index.js"
import { eventually, rawServer } from "../helpers/servers.js"
import { failureOf, latin1, timedExit, watchdog, withClient } from "./support.js"

const LIMIT = 1_000_000
const CHUNK = 65_536
/** What a read may have taken past the limit before it stopped: the data of one socket read or so. */
const SLACK = 4 * CHUNK

/** Writes `piece` again and again (honouring back-pressure) until `more()` is false or the socket closes. */
const pump = (socket: net.Socket, piece: Buffer, more: () => boolean, onSent: (n: number) => void, end?: () => void) => {
  const go = () => {
    while (!socket.destroyed && socket.writable) {
      if (!more()) {
        end?.()
        return
      }
      onSent(piece.length)
      if (!socket.write(piece)) {
        socket.once("drain", go)
        return
      }
    }
  }
  go()
}

/**
 * A server answering each request with an endless chunked body of 64 KiB chunks. `sent()` is the
 * body bytes written on all connections.
 */
const endlessServer = Effect.gen(function* () {
  let sent = 0
  const chunk = Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), Buffer.alloc(CHUNK, 0x61), Buffer.from("\r\n")])
  const server = yield* rawServer((socket) => {
    let started = false
    socket.on("data", (d: Buffer) => {
      if (started || !d.toString("latin1").includes("\r\n\r\n")) return
      started = true
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
      pump(socket, chunk, () => true, (n) => (sent += n))
    })
  })
  return { ...server, sent: () => sent }
})

/** A server answering each request with a `size`-byte Content-Length body (of "a"), sent in 64 KiB writes. */
const sizedServer = (size: number) =>
  rawServer((socket) => {
    let buf = ""
    socket.on("data", (d: Buffer) => {
      buf += d.toString("latin1")
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        buf = buf.slice(end + 4)
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`)
        let left = size
        const piece = Buffer.alloc(CHUNK, 0x61)
        pump(socket, piece, () => left > 0, (n) => (left -= n))
        // The last piece may overshoot `size` when size is not a multiple of CHUNK: keep sizes multiples.
      }
    })
  })

/** A server that announces `Content-Length: length` and never sends a body byte. */
const announceOnly = (length: number) =>
  rawServer((socket) => {
    socket.once("data", () => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n\r\n`))
  })

const expectTooLarge = (e: Http1Error.Http1Error, limit: number, what: string, received?: number) => {
  expect(e._tag).toBe("BodyTooLarge")
  if (e._tag !== "BodyTooLarge") return
  expect(e.limit).toBe(limit)
  expect(e.what).toBe(what)
  if (received !== undefined) expect(e.received).toBe(received)
  else {
    expect(e.received).toBeGreaterThan(limit)
    expect(e.received).toBeLessThanOrEqual(limit + SLACK)
  }
}

type Reader = { readonly name: string; readonly run: (r: HttpClient.ClientResponse) => Effect.Effect<unknown, Http1Error.Http1Error> }
const READERS: ReadonlyArray<Reader> = [
  { name: "read()", run: (r) => r.read() },
  { name: "bytes", run: (r) => r.bytes },
  { name: "text", run: (r) => r.text },
  { name: "json", run: (r) => r.json }
]

describe("pooled client: maxBodySize bounds buffering reads", () => {
  for (const reader of READERS) {
    it.scopedLive(`${reader.name} of an endless chunked body → BodyTooLarge past 1 MB; the socket is closed`, () =>
      Effect.gen(function* () {
        const server = yield* endlessServer
        yield* withClient(
          Effect.gen(function* () {
            const c = yield* HttpClient.HttpClient
            const exit = yield* Effect.exit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/endless`), reader.run)))
            expectTooLarge(failureOf(exit), LIMIT, "maxBodySize")
            const e = failureOf(exit)
            expect(e.message).toContain(`127.0.0.1:${server.port}`)
            // Closed by the client (the pool still lives): the server sees it.
            yield* eventually(() => server.openConnections() === 0, "the server saw the socket closed")
            expect(c.stats().reduce((n, s) => n + s.open, 0)).toBe(0)
          }),
          { maxBodySize: LIMIT }
        )
        // Back-pressure held: the server could not push more than the socket buffers take.
        expect(server.sent()).toBeLessThan(32 * 1024 * 1024)
      }))
  }

  for (const reader of READERS) {
    it.scopedLive(`${reader.name} with a Content-Length over maxBodySize fails at once (no body byte needed)`, () =>
      Effect.gen(function* () {
        const server = yield* announceOnly(LIMIT + 1)
        yield* withClient(
          Effect.gen(function* () {
            const c = yield* HttpClient.HttpClient
            const [exit, ms] = yield* timedExit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/big`), reader.run)))
            expectTooLarge(failureOf(exit), LIMIT, "maxBodySize", 0)
            // The body timeout is 5 s and no body byte ever comes: only an up-front check is this fast.
            expect(ms).toBeLessThan(1000)
            yield* eventually(() => server.openConnections() === 0, "the server saw the socket closed")
          }),
          { maxBodySize: LIMIT, bodyTimeout: "5 seconds" }
        )
      }))
  }

  it.scopedLive("a body of exactly maxBodySize is read", () =>
    Effect.gen(function* () {
      const server = yield* sizedServer(16 * CHUNK)
      const n = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => Effect.scoped(Effect.flatMap(c.get(`${server.url}/x`), (r) => r.bytes))),
        { maxBodySize: 16 * CHUNK }
      )
      expect(n.length).toBe(16 * CHUNK)
    }))
})

describe("pooled client: stream is bounded only by maxStreamedBodySize", () => {
  const FIVE_MB = 80 * CHUNK // 5 MiB

  it.scopedLive("stream reads 5 MB with maxBodySize 1 MB", () =>
    Effect.gen(function* () {
      const server = yield* sizedServer(FIVE_MB)
      const total = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) =>
          Effect.scoped(Effect.flatMap(c.get(`${server.url}/five`), (r) => Stream.runFold(r.stream, 0, (n, b) => n + b.length)))
        ),
        { maxBodySize: LIMIT }
      )
      expect(total).toBe(FIVE_MB)
    }))

  it.scopedLive("drain reads 5 MB with maxBodySize 1 MB, and the socket is reused", () =>
    Effect.gen(function* () {
      const server = yield* sizedServer(FIVE_MB)
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/five`), (r) => r.drain))
          expect(c.stats()[0]).toMatchObject({ open: 1, idle: 1 })
        }),
        { maxBodySize: LIMIT }
      )
      expect(server.connections()).toBe(1)
    }))

  it.scopedLive("stream of an endless body with maxStreamedBodySize 1 MB → BodyTooLarge; the socket is closed", () =>
    Effect.gen(function* () {
      const server = yield* endlessServer
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const exit = yield* Effect.exit(
            Effect.scoped(Effect.flatMap(c.get(`${server.url}/endless`), (r) => Stream.runFold(r.stream, 0, (n, b) => n + b.length)))
          )
          expectTooLarge(failureOf(exit), LIMIT, "maxStreamedBodySize")
          yield* eventually(() => server.openConnections() === 0, "the server saw the socket closed")
        }),
        { maxStreamedBodySize: LIMIT }
      )
    }))

  it.scopedLive("drain of an endless body with maxStreamedBodySize 1 MB → BodyTooLarge", () =>
    Effect.gen(function* () {
      const server = yield* endlessServer
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const exit = yield* Effect.exit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/endless`), (r) => r.drain)))
          expectTooLarge(failureOf(exit), LIMIT, "maxStreamedBodySize")
          yield* eventually(() => server.openConnections() === 0, "the server saw the socket closed")
        }),
        { maxStreamedBodySize: LIMIT }
      )
    }))
})

describe("HttpConnection: maxBodySize", () => {
  const connect = (port: number, extra: Partial<HttpConnection.Options> = {}) =>
    HttpConnection.make({ host: "127.0.0.1", port, timeout: "5 seconds", maxBodySize: LIMIT, ...extra })

  it.scopedLive("read() of an endless chunked body → BodyTooLarge; the socket is closed", () =>
    Effect.gen(function* () {
      const server = yield* endlessServer
      yield* watchdog(
        Effect.gen(function* () {
          const conn = yield* connect(server.port)
          yield* conn.request("GET", "/endless")
          const res = yield* conn.getResponse
          const exit = yield* Effect.exit(res.read())
          expectTooLarge(failureOf(exit), LIMIT, "maxBodySize")
          yield* eventually(() => server.openConnections() === 0, "the server saw the socket closed")
          expect(conn.isConnected()).toBe(false)
        }).pipe(Effect.scoped, Effect.provide(Transport.layer))
      )
    }))

  it.scopedLive("read() with a Content-Length over maxBodySize fails at once", () =>
    Effect.gen(function* () {
      const server = yield* announceOnly(LIMIT + 1)
      yield* watchdog(
        Effect.gen(function* () {
          const conn = yield* connect(server.port)
          yield* conn.request("GET", "/big")
          const res = yield* conn.getResponse
          const [exit, ms] = yield* timedExit(res.read())
          expectTooLarge(failureOf(exit), LIMIT, "maxBodySize", 0)
          expect(ms).toBeLessThan(1000)
          yield* eventually(() => server.openConnections() === 0, "the server saw the socket closed")
        }).pipe(Effect.scoped, Effect.provide(Transport.layer))
      )
    }))

  it.scopedLive("read(n) is bounded by n, not by maxBodySize; stream is unbounded by default", () =>
    Effect.gen(function* () {
      const server = yield* sizedServer(32 * CHUNK) // 2 MiB
      yield* watchdog(
        Effect.gen(function* () {
          const conn = yield* connect(server.port)
          yield* conn.request("GET", "/a")
          const res = yield* conn.getResponse
          expect((yield* res.read(1000)).length).toBe(1000)
          const rest = yield* Stream.runFold(res.stream, 0, (n, b) => n + b.length)
          expect(rest).toBe(32 * CHUNK - 1000)
          // The connection is kept: a second request goes on the same socket.
          yield* conn.request("GET", "/b")
          const res2 = yield* conn.getResponse
          expect(latin1((yield* res2.read(3)))).toBe("aaa")
        }).pipe(Effect.scoped, Effect.provide(Transport.layer))
      )
      expect(server.connections()).toBe(1)
    }))

  it.scopedLive("stream with maxStreamedBodySize → BodyTooLarge", () =>
    Effect.gen(function* () {
      const server = yield* endlessServer
      yield* watchdog(
        Effect.gen(function* () {
          const conn = yield* connect(server.port, { maxStreamedBodySize: LIMIT })
          yield* conn.request("GET", "/endless")
          const res = yield* conn.getResponse
          const exit = yield* Effect.exit(Stream.runDrain(res.stream))
          expectTooLarge(failureOf(exit), LIMIT, "maxStreamedBodySize")
          yield* eventually(() => server.openConnections() === 0, "the server saw the socket closed")
        }).pipe(Effect.scoped, Effect.provide(Transport.layer))
      )
    }))
})
