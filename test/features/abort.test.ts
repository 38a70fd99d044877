/**
 * Issue 10: the `signal` option (an `AbortSignal`) of the pooled client's requests: an aborted
 * signal fails before connecting; an abort while waiting, or while the body is read, interrupts
 * the request with `RequestAborted` and closes the socket.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Stream } from "effect"
import { HttpClient, HttpConnection, Transport } from "../../src/index.js"
import { eventually } from "../helpers/servers.js"
import { failureOf } from "../issue8/support.js"

const withMockClient = <A, E>(
  replies: ReadonlyArray<Transport.MockReplyInput>,
  f: (client: HttpClient.HttpClientService, peer: Transport.MockPeerService) => Effect.Effect<A, E, never>
) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const peer = yield* Transport.MockPeer
    return yield* f(client, peer)
  }).pipe(Effect.provide(HttpClient.layerWithoutTransport.pipe(Layer.provideMerge(Transport.layerMock(replies)))), Effect.timeout("10 seconds"))

const PARTIAL = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"

const abortLater = (ms: number, reason: unknown = new Error("user navigated away")) => {
  const controller = new AbortController()
  setTimeout(() => controller.abort(reason), ms)
  return controller.signal
}

describe("signal: AbortSignal on pooled requests", () => {
  it.live("an already-aborted signal fails with RequestAborted before connecting", () =>
    withMockClient([Transport.mock.text(200, "never used")], (client, peer) =>
      Effect.gen(function* () {
        const controller = new AbortController()
        controller.abort("too late")
        const exit = yield* Effect.exit(Effect.scoped(client.get("http://api.test/items", { signal: controller.signal })))
        const e = failureOf(exit)
        expect(e._tag).toBe("RequestAborted")
        if (e._tag === "RequestAborted") {
          expect(e.reason).toBe("too late")
          expect(e.host).toBe("api.test")
        }
        expect(e.message).toContain("too late")
        expect(peer.connections()).toBe(0)
      })))

  it.live("an abort while waiting for the head interrupts the request; the socket is closed", () =>
    withMockClient([Transport.mock.stall], (client, peer) =>
      Effect.gen(function* () {
        const started = Date.now()
        const exit = yield* Effect.exit(Effect.scoped(client.get("http://api.test/slow", { signal: abortLater(30) })))
        const e = failureOf(exit)
        expect(e._tag).toBe("RequestAborted")
        if (e._tag === "RequestAborted") expect((e.reason as Error).message).toBe("user navigated away")
        expect(Date.now() - started).toBeLessThan(5000)
        expect(peer.connections()).toBe(1)
        yield* eventually(() => peer.openConnections() === 0, "the socket was closed")
      })))

  it.live("an abort while the body is read fails the read; the socket is closed", () =>
    withMockClient(
      // A head and part of the body, then nothing: the read waits.
      [Transport.mock.reply(PARTIAL), Transport.mock.reply(PARTIAL), Transport.mock.stall],
      (client, peer) =>
        Effect.gen(function* () {
          const signal = abortLater(50)
          const exit = yield* Effect.exit(Effect.scoped(Effect.flatMap(client.get("http://api.test/body", { signal }), (r) => r.bytes)))
          expect(failureOf(exit)._tag).toBe("RequestAborted")
          yield* eventually(() => peer.openConnections() === 0, "the socket was closed")
          // The stream read fails the same way.
          const signal2 = abortLater(50)
          let got = 0
          const streamed = yield* Effect.exit(
            Effect.scoped(
              Effect.flatMap(client.get("http://api.test/body", { signal: signal2 }), (r) =>
                Stream.runForEach(r.stream, (b) => Effect.sync(() => (got += b.length))))
            )
          )
          expect(failureOf(streamed)._tag).toBe("RequestAborted")
          expect(got).toBe(7)
          yield* eventually(() => peer.openConnections() === 0, "the socket was closed")
          expect(peer.connections()).toBe(2)
        })
    ))

  it.live("an abort after the response: the next read fails and closes the connection", () =>
    withMockClient([Transport.mock.text(200, "hello")], (client, peer) =>
      Effect.gen(function* () {
        const controller = new AbortController()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const res = yield* client.get("http://api.test/", { signal: controller.signal })
            expect(res.status).toBe(200)
            controller.abort()
            const exit = yield* Effect.exit(res.text)
            expect(failureOf(exit)._tag).toBe("RequestAborted")
            expect(peer.openConnections()).toBe(0)
          })
        )
      })))

  it.live("a signal that does not abort changes nothing (the connection is reused)", () =>
    withMockClient([Transport.mock.text(200, "one", undefined), Transport.mock.text(200, "two")], (client, peer) =>
      Effect.gen(function* () {
        const controller = new AbortController()
        const one = yield* Effect.scoped(Effect.flatMap(client.get("http://api.test/1", { signal: controller.signal }), (r) => r.text))
        const two = yield* Effect.scoped(Effect.flatMap(client.get("http://api.test/2", { signal: controller.signal }), (r) => r.text))
        expect([one, two]).toEqual(["one", "two"])
        expect(peer.connections()).toBe(1)
        // Aborting afterwards touches nothing that is done.
        controller.abort()
        expect(peer.connections()).toBe(1)
      })))

  it.live("interrupting the fiber still works as before with a signal attached", () =>
    withMockClient([Transport.mock.stall], (client, peer) =>
      Effect.gen(function* () {
        const controller = new AbortController()
        const fiber = yield* Effect.fork(Effect.scoped(client.get("http://api.test/", { signal: controller.signal })))
        yield* eventually(() => peer.connections() === 1, "connected")
        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
        yield* eventually(() => peer.openConnections() === 0, "the socket was closed")
      })))
})

describe("signal: AbortSignal on HttpConnection's request", () => {
  const withConn = <A, E>(
    replies: ReadonlyArray<Transport.MockReplyInput>,
    f: (conn: HttpConnection.HttpConnection, peer: Transport.MockPeerService) => Effect.Effect<A, E, never>
  ) =>
    Effect.gen(function* () {
      const peer = yield* Transport.MockPeer
      const conn = yield* HttpConnection.make({ host: "api.test" })
      return yield* f(conn, peer)
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock(replies)), Effect.timeout("10 seconds"))

  it.live("an already-aborted signal fails before anything is connected; the connection stays usable", () =>
    withConn([Transport.mock.text(200, "ok")], (conn, peer) =>
      Effect.gen(function* () {
        const controller = new AbortController()
        controller.abort("no")
        const e = failureOf(yield* Effect.exit(conn.request("GET", "/", { signal: controller.signal })))
        expect(e._tag).toBe("RequestAborted")
        expect(e.message).toContain("GET api.test:80")
        expect(peer.connections()).toBe(0)
        yield* conn.request("GET", "/")
        expect(yield* Effect.flatMap(conn.getResponse, (r) => r.text)).toBe("ok")
      })))

  it.live("an abort in getResponse fails it and closes the socket; the next request opens a new one", () =>
    withConn([Transport.mock.stall, Transport.mock.text(200, "second")], (conn, peer) =>
      Effect.gen(function* () {
        yield* conn.request("GET", "/slow", { signal: abortLater(30) })
        const e = failureOf(yield* Effect.exit(conn.getResponse))
        expect(e._tag).toBe("RequestAborted")
        yield* eventually(() => peer.openConnections() === 0, "the socket was closed")
        yield* conn.request("GET", "/next")
        expect(yield* Effect.flatMap(conn.getResponse, (r) => r.text)).toBe("second")
        expect(peer.connections()).toBe(2)
      })))

  it.live("an abort while the body is read fails the read and closes the socket", () =>
    withConn([Transport.mock.reply(PARTIAL), Transport.mock.text(200, "after")], (conn, peer) =>
      Effect.gen(function* () {
        yield* conn.request("GET", "/body", { signal: abortLater(40) })
        const res = yield* conn.getResponse
        expect(res.status).toBe(200)
        const e = failureOf(yield* Effect.exit(res.read()))
        expect(e._tag).toBe("RequestAborted")
        yield* eventually(() => peer.openConnections() === 0, "the socket was closed")
        yield* conn.request("GET", "/next")
        expect(yield* Effect.flatMap(conn.getResponse, (r) => r.text)).toBe("after")
      })))
})
