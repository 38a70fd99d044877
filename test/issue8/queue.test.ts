/**
 * Issue 8, part 1: the wait for a pooled connection is bounded by `queueTimeout`, and the
 * TimeoutError says what the pool looked like (open, idle, pending).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, TestClock } from "effect"
import { HttpClient, Transport } from "../../src/index.js"
import { cannedServer, eventually, ok } from "../helpers/servers.js"
import { failureOf, liveWatchdog, timedExit, withClient } from "./support.js"

/** Yields until `cond` holds (TestClock tests: no time passes), at most `rounds` times. */
const settle = (cond: () => boolean, what: string, rounds = 200): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    for (let i = 0; i < rounds; i++) {
      if (cond()) return
      yield* Effect.yieldNow()
    }
    if (!cond()) return yield* Effect.fail(new Error(`never settled: ${what}`))
  })

describe("queueTimeout bounds the wait for a pooled connection", () => {
  it.scopedLive("one socket per origin, the first request stalls: the queued one fails after ~200 ms with the pool's state", () =>
    Effect.gen(function* () {
      // The first request is never answered (`{}`), the rest get their path back.
      const server = yield* cannedServer((head, index) => (index === 0 ? {} : ok(head.split(" ")[1] ?? "?")))
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const first = yield* Effect.fork(Effect.scoped(Effect.flatMap(c.get(`${server.url}/stall`), (r) => r.text)))
          yield* eventually(() => server.requests().length === 1, "the first request reached the server")
          expect(c.stats()).toEqual([{ origin: `http://127.0.0.1:${server.port}`, open: 1, idle: 0, pending: 0 }])
          const [exit, ms] = yield* timedExit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/queued`), (r) => r.text)))
          const e = failureOf(exit)
          expect(e._tag).toBe("TimeoutError")
          if (e._tag !== "TimeoutError") return
          expect(e.phase).toBe("connect")
          expect(e.timeoutMs).toBe(200)
          expect(e.detail).toBeDefined()
          expect(e.message).toContain("open")
          expect(e.message).toContain("idle")
          expect(e.message).toContain("pending")
          expect(e.message).toContain("1 open")
          expect(e.message).toContain("0 idle")
          expect(e.message).toContain("1 pending")
          expect(e.message).toContain(`127.0.0.1:${server.port}`)
          expect(ms).toBeGreaterThanOrEqual(150)
          expect(ms).toBeLessThan(1500)
          // The queued request left the queue; the stalled one still holds its socket.
          expect(c.stats()[0]).toMatchObject({ open: 1, idle: 0, pending: 0 })
          // Nothing of the queued request was ever written.
          expect(server.requests().length).toBe(1)
          expect(server.connections()).toBe(1)
          yield* Fiber.interrupt(first)
        }),
        { maxConnectionsPerOrigin: 1, queueTimeout: "200 millis", headersTimeout: "5 seconds" }
      )
    }))

  it.scopedLive("a queued request handed the socket before queueTimeout succeeds", () =>
    Effect.gen(function* () {
      // The first answer comes after 100 ms: well within the 1 s queue timeout of the second.
      const server = yield* cannedServer((head) => ({ reply: ok(head.split(" ")[1] ?? "?"), delayMs: 100 }))
      const answers = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const get = (p: string) => Effect.scoped(Effect.flatMap(c.get(`${server.url}${p}`), (r) => r.text))
          return yield* Effect.all([get("/a"), get("/b")], { concurrency: 2 })
        }),
        { maxConnectionsPerOrigin: 1, queueTimeout: "1 second" }
      )
      expect(answers).toEqual(["/a", "/b"])
      expect(server.connections()).toBe(1)
    }))

  it.effect("TestClock: with a stalled mock, the queued request fails exactly when queueTimeout passes", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const get = (url: string) => Effect.scoped(Effect.flatMap(c.get(url), (r) => r.text))
      const first = yield* Effect.fork(get("http://api.test/stall"))
      yield* settle(() => peer.requests().length === 1, "the first request reached the mock")
      const second = yield* Effect.fork(Effect.exit(get("http://api.test/queued")))
      yield* settle(() => c.stats()[0]?.pending === 1, "the second request is queued")
      expect(c.stats()).toEqual([{ origin: "http://api.test", open: 1, idle: 0, pending: 1 }])
      yield* TestClock.adjust("199 millis")
      expect(Option.isNone(yield* Fiber.poll(second))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.join(second)
      const e = failureOf(exit)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "connect", timeoutMs: 200 })
      expect(e.message).toContain("1 open")
      expect(e.message).toContain("0 idle")
      expect(e.message).toContain("1 pending")
      expect(c.stats()[0]).toMatchObject({ open: 1, idle: 0, pending: 0 })
      // The queued request never reached the peer; the stalled one is still waiting.
      expect(peer.requests().length).toBe(1)
      expect(peer.connections()).toBe(1)
      expect(Option.isNone(yield* Fiber.poll(first))).toBe(true)
      yield* Fiber.interrupt(first)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        (() => {
          const mock = Transport.layerMock([Transport.mock.stall])
          const client = HttpClient.layerWithoutTransportWith({
            maxConnectionsPerOrigin: 1,
            queueTimeout: "200 millis",
            headersTimeout: "1 hour"
          }).pipe(Layer.provide(mock))
          return Layer.merge(client, mock)
        })()
      ),
      // Real time: a bug must not hang the run.
      (effect) => liveWatchdog(effect)
    ))
})

describe("queued requests leave the queue cleanly", () => {
  const stalledClient = (options: HttpClient.Options) => {
    const mock = Transport.layerMock([Transport.mock.stall, Transport.mock.stall], { keepOpen: true })
    return Layer.merge(HttpClient.layerWithoutTransportWith({ maxConnectionsPerOrigin: 1, headersTimeout: "1 hour", ...options }).pipe(Layer.provide(mock)), mock)
  }

  it.effect("TestClock: an interrupted queued request leaves the queue (pending back to 0)", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const get = (url: string) => Effect.scoped(Effect.flatMap(c.get(url), (r) => r.text))
      const first = yield* Effect.fork(get("http://api.test/stall"))
      yield* settle(() => peer.requests().length === 1, "the first request reached the mock")
      const second = yield* Effect.fork(get("http://api.test/queued"))
      yield* settle(() => c.stats()[0]?.pending === 1, "the second request is queued")
      yield* Fiber.interrupt(second)
      expect(c.stats()[0]).toMatchObject({ open: 1, idle: 0, pending: 0 })
      yield* Fiber.interrupt(first)
      // Both gone: the socket was closed (its exchange abandoned) and the pool forgotten.
      yield* settle(() => c.stats().length === 0, "the pool is forgotten")
      expect(c.stats()).toEqual([])
      expect(peer.openConnections()).toBe(0)
    }).pipe(Effect.scoped, Effect.provide(stalledClient({ queueTimeout: "10 seconds" })), (effect) => liveWatchdog(effect)))

  it.effect("TestClock: the total timeout bounds a queued request too (phase total) when it is shorter than queueTimeout", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const first = yield* Effect.fork(Effect.scoped(c.get("http://api.test/stall", { timeout: "1 hour" })))
      yield* settle(() => peer.requests().length === 1, "the first request reached the mock")
      const second = yield* Effect.fork(Effect.exit(Effect.scoped(c.get("http://api.test/queued", { timeout: "100 millis" }))))
      yield* settle(() => c.stats()[0]?.pending === 1, "the second request is queued")
      yield* TestClock.adjust("100 millis")
      expect(failureOf(yield* Fiber.join(second))).toMatchObject({ _tag: "TimeoutError", phase: "total", timeoutMs: 100 })
      expect(c.stats()[0]).toMatchObject({ open: 1, pending: 0 })
      yield* Fiber.interrupt(first)
    }).pipe(Effect.scoped, Effect.provide(stalledClient({ queueTimeout: "10 seconds" })), (effect) => liveWatchdog(effect)))

  it.effect("TestClock: when the stalled request fails (headersTimeout), the queued one gets the slot and is sent", () =>
    Effect.gen(function* () {
      const c = yield* HttpClient.HttpClient
      const peer = yield* Transport.MockPeer
      const first = yield* Effect.fork(Effect.exit(Effect.scoped(c.get("http://api.test/stall"))))
      yield* settle(() => peer.requests().length === 1, "the first request reached the mock")
      const second = yield* Effect.fork(Effect.exit(Effect.scoped(Effect.flatMap(c.get("http://api.test/next"), (r) => r.text))))
      yield* settle(() => c.stats()[0]?.pending === 1, "the second request is queued")
      yield* TestClock.adjust("300 millis")
      expect(failureOf(yield* Fiber.join(first))).toMatchObject({ _tag: "TimeoutError", phase: "headers" })
      const exit = yield* Fiber.join(second)
      expect(Exit.isSuccess(exit) ? exit.value : String(failureOf(exit)._tag)).toBe("fine")
      expect(peer.connections()).toBe(2)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        (() => {
          const mock = Transport.layerMock([Transport.mock.stall, ok("fine")], { keepOpen: true })
          return Layer.merge(
            HttpClient.layerWithoutTransportWith({ maxConnectionsPerOrigin: 1, headersTimeout: "300 millis", queueTimeout: "1 second" }).pipe(Layer.provide(mock)),
            mock
          )
        })()
      ),
      (effect) => liveWatchdog(effect)
    ))
})

