/**
 * Issue 7, part B: every timer of the pooled client runs on Effect's `Clock`, so `TestClock`
 * drives it: the idle sweeper, max lifetime, the total and headers deadlines, the pool's queue
 * timer, and a server's `Keep-Alive: timeout=` hint. `it.effect` provides the TestClock; the mock
 * transport's timers use the same Clock. No real time passes in these tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, TestClock } from "effect"
import { HttpClient, Transport } from "../../src/index.js"
import { ok } from "../helpers/servers.js"

/** The pooled client over the mock transport (kept open after the last reply), with the recorder. */
const clientOverMock = (replies: ReadonlyArray<Transport.MockReplyInput>, options: HttpClient.Options = {}) => {
  const mock = Transport.layerMock(replies, { keepOpen: true })
  return Layer.merge(HttpClient.layerWithoutTransportWith(options).pipe(Layer.provide(mock)), mock) as Layer.Layer<HttpClient.HttpClient | Transport.MockPeer>
}

/** Lets forked fibers (the sweeper, finalizers) run. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** GET and read the whole body, in a scope of its own (the connection goes back to the pool). */
const fetchText = (client: HttpClient.HttpClientService, url: string) =>
  Effect.scoped(Effect.flatMap(client.get(url), (r) => r.text))

const fails = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, Error, R> =>
  Effect.flip(effect).pipe(Effect.catchAll(() => Effect.fail(new Error("expected a failure, got a success"))))

/** Joins a fiber expected to fail; its error. */
const joinFailure = <A, E>(fiber: Fiber.Fiber<A, E>) => fails(Fiber.join(fiber))

describe("B1 idle eviction on the Clock (maxIdleTime)", () => {
  it.effect("a kept-alive socket is open and idle before maxIdleTime, closed and forgotten after it", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      expect(yield* fetchText(client, "http://api.test/a")).toBe("a")
      yield* settle
      expect(peer.openConnections()).toBe(1)
      expect(client.stats()).toEqual([{ origin: "http://api.test", open: 1, idle: 1, pending: 0 }])

      yield* TestClock.adjust("4 seconds")
      yield* settle
      expect(peer.openConnections()).toBe(1)
      expect(client.stats()).toEqual([{ origin: "http://api.test", open: 1, idle: 1, pending: 0 }])

      yield* TestClock.adjust("2 seconds")
      yield* settle
      expect(peer.openConnections()).toBe(0)
      expect(client.stats()).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("a")], { maxIdleTime: "5 seconds" }))))

  it.effect("one adjust of 6 seconds right after the request retires the socket", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      expect(yield* fetchText(client, "http://api.test/a")).toBe("a")
      expect(peer.openConnections()).toBe(1)
      yield* TestClock.adjust("6 seconds")
      yield* settle
      expect(peer.openConnections()).toBe(0)
      expect(client.stats()).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("a")], { maxIdleTime: "5 seconds" }))))

  it.effect("a socket used again before its idle time runs out gets a new idle period", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* fetchText(client, "http://api.test/a")
      yield* TestClock.adjust("4 seconds")
      yield* settle
      expect(yield* fetchText(client, "http://api.test/b")).toBe("b")
      // 8 s after the first request, 4 s after the second: still idle, not expired.
      yield* TestClock.adjust("4 seconds")
      yield* settle
      expect(peer.openConnections()).toBe(1)
      expect(peer.connections()).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(peer.openConnections()).toBe(0)
      expect(client.stats()).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("a"), ok("b")], { maxIdleTime: "5 seconds" }))))
})

describe("B2 maxLifetime on the Clock", () => {
  it.effect("a socket older than maxLifetime is not reused: the next request opens a new connection", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      expect(yield* fetchText(client, "http://api.test/1")).toBe("one")
      yield* TestClock.adjust("9 seconds")
      yield* settle
      // 9 s old, idle for 9 s (under a minute): reused.
      expect(yield* fetchText(client, "http://api.test/2")).toBe("two")
      expect(peer.connections()).toBe(1)
      yield* TestClock.adjust("2 seconds")
      yield* settle
      // 11 s old but idle for only 2 s: its lifetime is over.
      expect(yield* fetchText(client, "http://api.test/3")).toBe("three")
      expect(peer.connections()).toBe(2)
      expect(peer.openConnections()).toBe(1)
    }).pipe(
      Effect.scoped,
      Effect.provide(clientOverMock([ok("one"), ok("two"), ok("three")], { maxLifetime: "10 seconds", maxIdleTime: "1 minute" }))
    ))

  it.effect("an idle socket is closed by the sweeper when its lifetime ends, before its idle time", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* fetchText(client, "http://api.test/1")
      yield* TestClock.adjust("9 seconds")
      yield* settle
      expect(peer.openConnections()).toBe(1)
      yield* TestClock.adjust("2 seconds")
      yield* settle
      expect(peer.openConnections()).toBe(0)
      expect(client.stats()).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("one")], { maxLifetime: "10 seconds", maxIdleTime: "1 minute" }))))
})

describe("B3 deadlines on the Clock", () => {
  it.effect("timeout (total) against a stalled reply → TimeoutError phase total", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const fiber = yield* Effect.fork(Effect.scoped(client.get("http://api.test:8080/slow")))
      yield* settle
      yield* TestClock.adjust("1999 millis")
      yield* settle
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const e = yield* joinFailure(fiber)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "total", timeoutMs: 2000 })
      yield* settle
      expect(peer.openConnections()).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([Transport.mock.stall], { timeout: "2 seconds" }))))

  it.effect("the total TimeoutError's message names the method and host:port", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const fiber = yield* Effect.fork(Effect.scoped(client.get("http://api.test:8080/slow")))
      yield* settle
      yield* TestClock.adjust("3 seconds")
      const e = yield* joinFailure(fiber)
      expect(e._tag).toBe("TimeoutError")
      expect(e.message).toContain("GET")
      expect(e.message).toContain("api.test:8080")
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([Transport.mock.stall], { timeout: "2 seconds" }))))

  it.effect("a per-request timeout overrides the client's", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const fiber = yield* Effect.fork(Effect.scoped(client.request({ url: "http://api.test/slow", timeout: "1 second" })))
      yield* settle
      yield* TestClock.adjust("1 second")
      const e = yield* joinFailure(fiber)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "total", timeoutMs: 1000 })
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([Transport.mock.stall], { timeout: "1 minute" }))))

  it.effect("the total deadline also bounds a body that stalls after the head", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const fiber = yield* Effect.fork(
        Effect.scoped(Effect.flatMap(client.get("http://api.test/half"), (r) => r.text))
      )
      yield* settle
      yield* TestClock.adjust("2 seconds")
      const e = yield* joinFailure(fiber)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "total", timeoutMs: 2000 })
    }).pipe(
      Effect.scoped,
      Effect.provide(clientOverMock(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", Transport.mock.stall], { timeout: "2 seconds" }))
    ))

  it.effect("headersTimeout against a stalled reply → TimeoutError phase headers", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const fiber = yield* Effect.fork(Effect.scoped(client.get("http://api.test:8080/slow")))
      yield* settle
      yield* TestClock.adjust("1999 millis")
      yield* settle
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const e = yield* joinFailure(fiber)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "headers", timeoutMs: 2000 })
      expect(e.message).toContain("api.test:8080")
      yield* settle
      expect(peer.openConnections()).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([Transport.mock.stall], { headersTimeout: "2 seconds" }))))

  it.effect("headersTimeout is a deadline: a head trickled in pieces does not extend it", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const reply = ok("late")
      const fiber = yield* Effect.fork(Effect.scoped(Effect.flatMap(client.get("http://api.test/trickle"), (r) => r.text)))
      yield* settle
      // One byte every 500 ms: each read is quick, the whole head takes far longer than 2 s.
      for (let i = 0; i < 8; i++) {
        yield* TestClock.adjust("500 millis")
        yield* settle
      }
      const e = yield* joinFailure(fiber)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "headers", timeoutMs: 2000 })
      expect(reply.length).toBeGreaterThan(8)
    }).pipe(
      Effect.scoped,
      Effect.provide(clientOverMock([Transport.mock.reply(ok("late"), { splitEvery: 1, delay: "500 millis" })], { headersTimeout: "2 seconds" }))
    ))
})

describe("B4 the pool's queue timer on the Clock", () => {
  it.effect("one connection, first request stalled, second queued → TimeoutError connect after queueTimeout, with the pool's state", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const first = yield* Effect.fork(Effect.scoped(client.get("http://api.test:8080/first")))
      yield* settle
      const second = yield* Effect.fork(Effect.scoped(client.get("http://api.test:8080/second")))
      yield* settle
      expect(client.stats()).toEqual([{ origin: "http://api.test:8080", open: 1, idle: 0, pending: 1 }])
      yield* TestClock.adjust("2999 millis")
      yield* settle
      expect(second.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const e = yield* joinFailure(second)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "connect", timeoutMs: 3000 })
      expect(e.message).toContain("queued for a connection")
      expect(e.message).toContain("pool http://api.test:8080: 1 open, 0 idle, 1 pending, 1 max")
      // The waiter left the queue; the first request is still waiting for its answer.
      expect(client.stats()).toEqual([{ origin: "http://api.test:8080", open: 1, idle: 0, pending: 0 }])
      expect(first.unsafePoll()).toBeNull()
      expect(peer.connections()).toBe(1)
      expect(peer.requestsText()).toHaveLength(1)
      const exit = yield* Fiber.interrupt(first)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* settle
      expect(peer.openConnections()).toBe(0)
      expect(client.stats()).toEqual([])
    }).pipe(
      Effect.scoped,
      Effect.provide(clientOverMock([Transport.mock.stall], { maxConnectionsPerOrigin: 1, queueTimeout: "3 seconds", headersTimeout: "1 minute" }))
    ))

  it.effect("the queue timeout carries the request's method, host and port, like every other error (A6's rule)", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const first = yield* Effect.fork(Effect.scoped(client.get("http://api.test/first")))
      yield* settle
      const second = yield* Effect.fork(Effect.scoped(client.get("http://api.test/second")))
      yield* settle
      yield* TestClock.adjust("3 seconds")
      const e = yield* joinFailure(second)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "connect", timeoutMs: 3000 })
      // The pool's origin omits the default port; the error's context names it.
      expect(e.message).toContain("api.test:80")
      expect(e).toMatchObject({ method: "GET", host: "api.test", port: 80 })
      yield* Fiber.interrupt(first)
    }).pipe(
      Effect.scoped,
      Effect.provide(clientOverMock([Transport.mock.stall], { maxConnectionsPerOrigin: 1, queueTimeout: "3 seconds", headersTimeout: "1 minute" }))
    ))

  it.effect("a total timeout that fires while the request is queued → TimeoutError total, naming host:port", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const first = yield* Effect.fork(Effect.scoped(client.get("http://api.test:8080/first")))
      yield* settle
      const second = yield* Effect.fork(Effect.scoped(client.request({ url: "http://api.test:8080/second", timeout: "1 second" })))
      yield* settle
      expect(client.stats()[0]).toMatchObject({ pending: 1 })
      yield* TestClock.adjust("1 second")
      const e = yield* joinFailure(second)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "total", timeoutMs: 1000 })
      yield* settle
      expect(client.stats()[0]).toMatchObject({ open: 1, pending: 0 })
      expect(e.message).toContain("api.test:8080")
      yield* Fiber.interrupt(first)
    }).pipe(
      Effect.scoped,
      Effect.provide(clientOverMock([Transport.mock.stall], { maxConnectionsPerOrigin: 1, queueTimeout: "1 minute", headersTimeout: "1 minute" }))
    ))
})

describe("B5 a server's Keep-Alive: timeout= hint shortens the idle time (Clock)", () => {
  it.effect("Keep-Alive: timeout=2 → the socket is retired after about 2 s, not maxIdleTime", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      expect(yield* fetchText(client, "http://api.test/a")).toBe("a")
      yield* settle
      expect(peer.openConnections()).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(peer.openConnections()).toBe(1)
      expect(client.stats()).toEqual([{ origin: "http://api.test", open: 1, idle: 1, pending: 0 }])
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(peer.openConnections()).toBe(0)
      expect(client.stats()).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("a", "Keep-Alive: timeout=2, max=100\r\n")], { maxIdleTime: "1 minute" }))))

  it.effect("a request after the hinted idle time goes on a new connection", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* fetchText(client, "http://api.test/a")
      yield* TestClock.adjust("2 seconds")
      yield* settle
      expect(yield* fetchText(client, "http://api.test/b")).toBe("b")
      expect(peer.connections()).toBe(2)
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("a", "Keep-Alive: timeout=2\r\n"), ok("b")], { maxIdleTime: "1 minute" }))))

  it.effect("a hint longer than maxIdleTime does not extend it", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* fetchText(client, "http://api.test/a")
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(peer.openConnections()).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(clientOverMock([ok("a", "Keep-Alive: timeout=300\r\n")], { maxIdleTime: "5 seconds" }))))
})
