/**
 * Issue 8, part 4: a pool with no socket and no waiter is forgotten, so a client that talked to
 * thousands of origins does not keep thousands of pools.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { HttpClient, Transport } from "../../src/index.js"
import { liveWatchdog, watchdog } from "./support.js"

const ORIGINS = 2_000

/** The Host header of a request (the mock answers it back as the body). */
const hostOf = (req: Uint8Array): string => /\r\nHost: ([^\r]*)\r\n/i.exec(Buffer.from(req).toString("latin1"))?.[1] ?? "?"

/** `HTTP/1.1 200` whose body is the request's Host; `extra` header lines (each ending in CRLF). */
const echoHost = (extra: string) => (req: Uint8Array): string => {
  const host = hostOf(req)
  return `HTTP/1.1 200 OK\r\nContent-Length: ${host.length}\r\n${extra}\r\n${host}`
}

/** A mock answering `n` requests (any connection) with `reply`, and a client over it. */
const mockClient = (n: number, reply: (req: Uint8Array) => string, options: HttpClient.Options) => {
  const mock = Transport.layerMock(Array.from({ length: n }, () => reply), { keepOpen: true })
  return Layer.merge(HttpClient.layerWithoutTransportWith(options).pipe(Layer.provide(mock)), mock)
}

/** GET http://h{i}.test/ for every i, 16 at a time; every answer is checked against its origin. */
const hitAll = (c: HttpClient.HttpClientService, n: number) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) =>
      Effect.scoped(
        Effect.flatMap(c.get(`http://h${i}.test/`), (r) =>
          Effect.flatMap(r.text, (t) => (t === `h${i}.test` ? Effect.void : Effect.fail(new Error(`h${i}.test got ${t}`))))
        )
      ),
    { concurrency: 16, discard: true }
  )

/** Yields (no time passes under TestClock) until `cond` holds, at most `rounds` times. */
const settle = (cond: () => boolean, rounds = 1000): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (let i = 0; i < rounds && !cond(); i++) yield* Effect.yieldNow()
  })

const sum = (c: HttpClient.HttpClientService, k: "open" | "idle" | "pending") => c.stats().reduce((n, s) => n + s[k], 0)

describe("empty pools are forgotten", () => {
  it.live("2,000 origins answered with Connection: close: stats() stays small", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* hitAll(c, ORIGINS)
      expect(peer.requests().length).toBe(ORIGINS)
      expect(peer.connections()).toBe(ORIGINS)
      expect(c.stats().length).toBeLessThanOrEqual(16)
      // Every request's scope is closed and every socket was closed after its answer: nothing is left.
      expect(c.stats()).toEqual([])
      expect(peer.openConnections()).toBe(0)
    }).pipe(
      Effect.scoped,
      Effect.provide(mockClient(ORIGINS, echoHost("Connection: close\r\n"), {})),
      (effect) => watchdog(effect)
    ))

  it.live("2,000 origins with maxIdleTime 1 ms and keep-alive answers: stats() shrinks to (almost) nothing", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* hitAll(c, ORIGINS)
      expect(peer.requests().length).toBe(ORIGINS)
      // Idle sockets are retired 1 ms after their answer; give the sweepers a moment of real time.
      yield* Effect.sleep("50 millis")
      const deadline = Date.now() + 2000
      while (c.stats().length > 16 && Date.now() < deadline) yield* Effect.sleep("10 millis")
      expect(c.stats().length).toBeLessThanOrEqual(16)
      expect(peer.openConnections()).toBeLessThanOrEqual(16)
    }).pipe(
      Effect.scoped,
      Effect.provide(mockClient(ORIGINS, echoHost(""), { maxIdleTime: "1 millis" })),
      (effect) => watchdog(effect)
    ))

  it.effect("TestClock: keep-alive answers keep one idle socket per origin until maxIdleTime, then stats() is empty", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const n = 200
      yield* hitAll(c, n)
      expect(c.stats().length).toBe(n)
      expect(sum(c, "open")).toBe(n)
      expect(sum(c, "idle")).toBe(n)
      expect(peer.openConnections()).toBe(n)
      yield* TestClock.adjust("4999 millis")
      yield* settle(() => false, 20)
      expect(c.stats().length).toBe(n)
      yield* TestClock.adjust("1 millis")
      yield* settle(() => c.stats().length === 0)
      expect(c.stats()).toEqual([])
      expect(peer.openConnections()).toBe(0)
    }).pipe(
      Effect.scoped,
      Effect.provide(mockClient(200, echoHost(""), { maxIdleTime: "5 seconds" })),
      (effect) => liveWatchdog(effect)
    ))

  it.effect("TestClock: a server's Keep-Alive: timeout=1 retires its socket (and forgets the pool) after 1 s", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* hitAll(c, 50)
      expect(c.stats().length).toBe(50)
      yield* TestClock.adjust("1 second")
      yield* settle(() => c.stats().length === 0)
      expect(c.stats()).toEqual([])
      expect(peer.openConnections()).toBe(0)
    }).pipe(
      Effect.scoped,
      Effect.provide(mockClient(50, echoHost("Keep-Alive: timeout=1\r\n"), { maxIdleTime: "1 minute" })),
      (effect) => liveWatchdog(effect)
    ))

  it.effect("TestClock: a pool that is used again after being forgotten works (a new pool, a new socket)", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* hitAll(c, 1)
      yield* TestClock.adjust("2 seconds")
      yield* settle(() => c.stats().length === 0)
      expect(c.stats()).toEqual([])
      yield* hitAll(c, 1)
      expect(c.stats()).toEqual([{ origin: "http://h0.test", open: 1, idle: 1, pending: 0 }])
      expect(peer.connections()).toBe(2)
    }).pipe(
      Effect.scoped,
      Effect.provide(mockClient(2, echoHost(""), { maxIdleTime: "1 second" })),
      (effect) => liveWatchdog(effect)
    ))
})

describe("pools emptied by failures are forgotten too", () => {
  it.live("200 origins whose connect is refused: stats() is empty", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const tags = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) => Effect.map(Effect.flip(Effect.scoped(c.get(`http://refused${i}.test/`))), (e) => e._tag),
        { concurrency: 16 }
      )
      expect(new Set(tags)).toEqual(new Set(["ConnectError"]))
      expect(c.stats()).toEqual([])
    }).pipe(
      Effect.scoped,
      Effect.provide(
        (() => {
          const mock = Transport.layerMock([], { connectError: true })
          return Layer.merge(HttpClient.layerWithoutTransportWith({}).pipe(Layer.provide(mock)), mock)
        })()
      ),
      (effect) => watchdog(effect)
    ))

  it.effect("TestClock: 100 origins that never answer (headersTimeout): stats() is empty, no socket open", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const fibers = yield* Effect.forEach(
        Array.from({ length: 100 }, (_, i) => i),
        (i) => Effect.fork(Effect.flip(Effect.scoped(c.get(`http://silent${i}.test/`)))),
      )
      yield* settle(() => peer.requests().length === 100)
      expect(c.stats().length).toBe(100)
      yield* TestClock.adjust("1 second")
      for (const f of fibers) expect((yield* Fiber.join(f))._tag).toBe("TimeoutError")
      expect(c.stats()).toEqual([])
      expect(peer.openConnections()).toBe(0)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        (() => {
          const mock = Transport.layerMock(Array.from({ length: 100 }, () => Transport.mock.stall), { keepOpen: true })
          return Layer.merge(HttpClient.layerWithoutTransportWith({ headersTimeout: "1 second" }).pipe(Layer.provide(mock)), mock)
        })()
      ),
      (effect) => liveWatchdog(effect)
    ))

  it.live("responses given up before their end (close, BodyTooLarge): the pools are forgotten", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      yield* Effect.forEach(
        Array.from({ length: 100 }, (_, i) => i),
        (i) =>
          Effect.scoped(
            Effect.flatMap(c.get(`http://big${i}.test/`), (r) => (i % 2 === 0 ? r.close : Effect.ignore(r.bytes)))
          ),
        { concurrency: 16, discard: true }
      )
      expect(c.stats()).toEqual([])
      expect(peer.openConnections()).toBe(0)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        (() => {
          const big = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "a".repeat(100_000)
          const mock = Transport.layerMock(Array.from({ length: 100 }, () => big), { keepOpen: true })
          return Layer.merge(HttpClient.layerWithoutTransportWith({ maxBodySize: 1000 }).pipe(Layer.provide(mock)), mock)
        })()
      ),
      (effect) => watchdog(effect)
    ))
})

