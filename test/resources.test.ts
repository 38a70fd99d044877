/**
 * Resource safety of the connection layer: hundreds of exchanges with injected failures (resets
 * mid-body, stalls with timeouts, interruption mid-head and mid-body, early closes, garbage), after
 * which no socket may be left open and nothing may hang or die.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { HttpConnection, Transport } from "../src/index.js"
import { cannedServer, eventually } from "./helpers/servers.js"
import type { CannedStep } from "./helpers/servers.js"

const MODES = ["ok", "reset", "stall", "timeout", "interrupt", "close", "garbage", "interruptHead", "chunkedOk", "incomplete"] as const
type Mode = (typeof MODES)[number]

const BODY = "0123456789".repeat(20)
const HEAD = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n`

/** What the server does for a request to `/<mode>/<n>`. */
const stepFor = (mode: Mode): CannedStep => {
  switch (mode) {
    case "ok":
      return { reply: HEAD + BODY }
    case "chunkedOk":
      return { reply: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(BODY.length).toString(16)}\r\n${BODY}\r\n0\r\n\r\n` }
    case "reset":
      return { reply: HEAD + BODY.slice(0, 50), reset: true }
    case "stall":
    case "timeout":
    case "interrupt":
      return { reply: HEAD + BODY.slice(0, 50) }
    case "close":
      return { close: true }
    case "garbage":
      return { reply: "NOT HTTP AT ALL\r\n\r\n" }
    case "interruptHead":
      return {}
    case "incomplete":
      return { reply: HEAD + BODY.slice(0, 10), close: true }
  }
}

const modeOf = (request: string): Mode => {
  const m = /^GET \/(\w+)\//.exec(request)
  return (m?.[1] ?? "ok") as Mode
}

/** One exchange of `mode`; returns what happened ("ok" or an error tag, or "interrupted"). */
const exchange = (conn: HttpConnection.HttpConnection, mode: Mode, n: number): Effect.Effect<string, never> =>
  Effect.gen(function* () {
    yield* conn.request("GET", `/${mode}/${n}`)
    if (mode === "interruptHead") {
      yield* Effect.timeout(conn.getResponse, "20 millis")
      return "response"
    }
    const res = yield* conn.getResponse
    switch (mode) {
      case "timeout": {
        // Effect-level timeout: interrupts the read mid-body.
        const r = yield* Effect.timeoutOption(res.read(), "20 millis")
        expect(r._tag).toBe("None")
        return "interrupted"
      }
      case "interrupt": {
        const fiber = yield* Effect.fork(res.read())
        yield* Effect.sleep("5 millis")
        yield* Fiber.interrupt(fiber)
        return "interrupted"
      }
      default: {
        const body = yield* res.read()
        expect(Buffer.from(body).toString("latin1")).toBe(BODY)
        return "ok"
      }
    }
  }).pipe(
    Effect.tapError((e) => (expected[mode].includes(e._tag) ? Effect.void : Effect.sync(() => console.log("UNEXPECTED", mode, n, e.message, JSON.stringify(e))))),
    Effect.catchAll((e) => Effect.succeed(e._tag)),
    // Anything else (a defect, an unexpected interruption) fails the test loudly.
    Effect.catchAllCause((cause) => Effect.die(new Error(`exchange ${mode}/${n} failed with ${Cause.pretty(cause)}`)))
  )

const expected: Record<Mode, ReadonlyArray<string>> = {
  ok: ["ok"],
  chunkedOk: ["ok"],
  reset: ["ConnectionReset", "IncompleteRead"],
  stall: ["TimeoutError"],
  timeout: ["interrupted"],
  interrupt: ["interrupted"],
  close: ["RemoteDisconnected", "ConnectionReset"],
  garbage: ["BadStatusLine"],
  interruptHead: ["TimeoutException"],
  incomplete: ["IncompleteRead"]
}

describe("resources", () => {
  it.live("200 exchanges with injected failures over 4 connections: no socket left open", () =>
    Effect.gen(function* () {
      const script = Array.from({ length: 400 }, () => (request: string) => stepFor(modeOf(request)))
      const server = yield* cannedServer(script)
      const workers = 4
      const perWorker = 50
      const outcomes: Record<string, number> = {}
      yield* Effect.scoped(
        Effect.forEach(
          Array.from({ length: workers }, (_, w) => w),
          (w) =>
            Effect.gen(function* () {
              // Long enough for a loaded CI machine; the stalls wait it out.
              const conn = yield* HttpConnection.make({ host: server.host, port: server.port, timeout: "300 millis" })
              for (let i = 0; i < perWorker; i++) {
                const n = w * perWorker + i
                const mode = MODES[n % MODES.length]!
                const got = yield* exchange(conn, mode, n)
                expect(expected[mode], `${mode}/${n}`).toContain(got)
                outcomes[got] = (outcomes[got] ?? 0) + 1
                // A failed exchange leaves at most this connection's one kept-alive socket open.
                expect(conn.state).toBe("Idle")
              }
              yield* conn.close
            }).pipe(Effect.scoped),
          { concurrency: workers, discard: true }
        )
      )
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(workers * perWorker)
      expect(outcomes["ok"]).toBe(40)
      expect(server.connections()).toBeGreaterThan(workers)
      yield* eventually(() => server.openConnections() === 0, "every server-side connection closed")
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))

  it.live("sockets of failed exchanges are closed right away, not only with the scope", () =>
    Effect.gen(function* () {
      const script = Array.from({ length: 100 }, () => (request: string) => stepFor(modeOf(request)))
      const server = yield* cannedServer(script)
      const conn = yield* HttpConnection.make({ host: server.host, port: server.port, timeout: "100 millis" })
      for (let n = 0; n < 40; n++) {
        const mode = (["reset", "stall", "timeout", "interrupt", "garbage", "interruptHead", "incomplete", "close"] as const)[n % 8]!
        yield* exchange(conn, mode, n)
        yield* eventually(() => server.openConnections() === 0, `socket of ${mode}/${n} closed`)
      }
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))

  it.live("closing the scope mid-body from another fiber closes the socket", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer(Array.from({ length: 20 }, () => stepFor("stall")))
      for (let i = 0; i < 20; i++) {
        const fiber = yield* Effect.fork(
          Effect.gen(function* () {
            const conn = yield* HttpConnection.make({ host: server.host, port: server.port })
            yield* conn.request("GET", "/stall/0")
            const res = yield* conn.getResponse
            return yield* res.read()
          }).pipe(Effect.scoped)
        )
        yield* eventually(() => server.requests().length === i + 1, "request arrived")
        yield* Effect.sleep("2 millis")
        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
      }
      yield* eventually(() => server.openConnections() === 0, "every server-side connection closed")
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))

  it.live("the same 200 exchanges through the mock transport: MockPeer.openConnections() is 0", () =>
    Effect.gen(function* () {
      const peer = yield* Transport.MockPeer
      const outcomes: Record<string, number> = {}
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "example.com", timeout: "50 millis" })
          for (let n = 0; n < 200; n++) {
            const mode = MODES[n % MODES.length]!
            const got = yield* exchange(conn, mode, n)
            outcomes[got] = (outcomes[got] ?? 0) + 1
            expect(conn.state).toBe("Idle")
            expect(peer.openConnections()).toBeLessThanOrEqual(1)
          }
        })
      )
      expect(outcomes["ok"]).toBe(40)
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(200)
      expect(peer.openConnections()).toBe(0)
      expect(peer.requests().length).toBe(200)
    }).pipe(
      Effect.provide(
        Transport.layerMock(
          Array.from({ length: 400 }, () => (request: Uint8Array) => {
            const mode = modeOf(Buffer.from(request).toString("latin1"))
            switch (mode) {
              case "reset":
                return Transport.mock.reset
              case "close":
                return Transport.mock.close
              case "interruptHead":
                return Transport.mock.stall
              case "incomplete":
                return Transport.mock.reply(HEAD + BODY.slice(0, 10), { closeAfter: true })
              default:
                return Transport.mock.reply(stepFor(mode).reply as string)
            }
          })
        )
      )
    ))

  it.live("mock: interrupting request() while a Stream body is being written closes the connection", () =>
    Effect.gen(function* () {
      const peer = yield* Transport.MockPeer
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "example.com" })
          const { Stream } = yield* Effect.promise(() => import("effect"))
          const body = Stream.concat(Stream.make("a", "b"), Stream.never)
          const r = yield* Effect.timeoutOption(conn.request("POST", "/", { body }), "20 millis")
          expect(r._tag).toBe("None")
        })
      )
      expect(peer.openConnections()).toBe(0)
    }).pipe(Effect.provide(Transport.layerMock([]))))
})

