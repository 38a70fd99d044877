/**
 * Issue 8, part 2: the pooled client's `headersTimeout` is a deadline (a trickled head or a stream
 * of 1xx responses does not extend it), while HttpConnection's `timeout` keeps Python's per-read
 * meaning (a trickle that never pauses 400 ms completes).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type * as net from "node:net"
import { HttpClient, HttpConnection, Transport } from "../../src/index.js"
import { rawServer } from "../helpers/servers.js"
import { failureOf, latin1, timed, timedExit, watchdog, withClient } from "./support.js"

const RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

/**
 * A server that, once a request head arrived, sends `bytes` one byte every `everyMs` (or, with
 * `repeat`, the whole of `bytes` every `everyMs`, forever). Timers stop when the socket closes.
 */
const trickleServer = (bytes: string, everyMs: number, repeat = false) =>
  rawServer((socket: net.Socket) => {
    let started = false
    let timer: NodeJS.Timeout | undefined
    socket.on("close", () => clearInterval(timer))
    socket.on("data", (d: Buffer) => {
      if (started || !d.toString("latin1").includes("\r\n\r\n")) return
      started = true
      let i = 0
      timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer)
        if (repeat) socket.write(bytes, "latin1")
        else {
          socket.write(bytes.slice(i, i + 1), "latin1")
          if (++i >= bytes.length) clearInterval(timer)
        }
      }, everyMs)
    })
  })

describe("pooled client: headersTimeout is a deadline", () => {
  it.scopedLive("a head trickled one byte every 100 ms fails with TimeoutError (headers) at ~400 ms, not after the whole head", () =>
    Effect.gen(function* () {
      // 38 bytes of head at 100 ms each: 3.8 s if every byte restarted the timer.
      const server = yield* trickleServer(RESPONSE, 100)
      const [exit, ms] = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => timedExit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/t`), (r) => r.text)))),
        { headersTimeout: "400 millis" }
      )
      const e = failureOf(exit)
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "headers", timeoutMs: 400 })
      expect(ms).toBeGreaterThanOrEqual(350)
      expect(ms).toBeLessThan(1500)
      // Some head bytes had come: the trickle was running.
      if (e._tag === "TimeoutError") expect(e.bytesReceived ?? 0).toBeGreaterThan(0)
    }))

  it.scopedLive("`102 Processing` every 100 ms and never a final head: TimeoutError (headers) at ~400 ms", () =>
    Effect.gen(function* () {
      const server = yield* trickleServer("HTTP/1.1 102 Processing\r\n\r\n", 100, true)
      const [exit, ms] = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => timedExit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/p`), (r) => r.text)))),
        { headersTimeout: "400 millis" }
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError", phase: "headers", timeoutMs: 400 })
      expect(ms).toBeGreaterThanOrEqual(350)
      expect(ms).toBeLessThan(1500)
    }))

  it.scopedLive("the same trickle within the deadline succeeds (the deadline is not a per-read limit that is too short)", () =>
    Effect.gen(function* () {
      const server = yield* trickleServer(RESPONSE, 5)
      const text = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => Effect.scoped(Effect.flatMap(c.get(`${server.url}/t`), (r) => r.text))),
        { headersTimeout: "3 seconds" }
      )
      expect(text).toBe("ok")
    }))
})

describe("HttpConnection: timeout is per read (Python's meaning)", () => {
  it.scopedLive("one byte every 100 ms with timeout 400 ms completes", () =>
    Effect.gen(function* () {
      const server = yield* trickleServer(RESPONSE, 100)
      const [body, ms] = yield* watchdog(
        timed(
          Effect.gen(function* () {
            const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "400 millis" })
            yield* conn.request("GET", "/t")
            const res = yield* conn.getResponse
            expect(res.status).toBe(200)
            return latin1(yield* res.read())
          }).pipe(Effect.scoped, Effect.provide(Transport.layer))
        )
      )
      expect(body).toBe("ok")
      // 40 bytes at 100 ms each: well past the 400 ms of one read.
      expect(ms).toBeGreaterThan(1000)
    }))

  it.scopedLive("a pause longer than the timeout still fails (TimeoutError headers)", () =>
    Effect.gen(function* () {
      const server = yield* trickleServer(RESPONSE, 600)
      const exit = yield* watchdog(
        Effect.exit(
          Effect.gen(function* () {
            const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "400 millis" })
            yield* conn.request("GET", "/t")
            return yield* conn.getResponse
          }).pipe(Effect.scoped, Effect.provide(Transport.layer))
        )
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError", phase: "headers", timeoutMs: 400 })
    }))
})

describe("pooled client: what headersTimeout and bodyTimeout measure", () => {
  it.scopedLive("headersTimeout starts after the last request byte: a 750 ms upload with headersTimeout 400 ms succeeds", () =>
    Effect.gen(function* () {
      // Answers once the whole (chunked) request arrived.
      const server = yield* rawServer((socket) => {
        let buf = ""
        socket.on("data", (d: Buffer) => {
          buf += d.toString("latin1")
          if (buf.endsWith("\r\n0\r\n\r\n")) socket.write(RESPONSE)
        })
      })
      async function* slowBody() {
        for (const part of ["a", "b", "c"]) {
          await new Promise((r) => setTimeout(r, 250))
          yield part
        }
      }
      const text = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => Effect.scoped(Effect.flatMap(c.post(`${server.url}/up`, { body: slowBody() }), (r) => r.text))),
        { headersTimeout: "400 millis" }
      )
      expect(text).toBe("ok")
    }))

  it.scopedLive("bodyTimeout is between body bytes: a body trickled every 100 ms with bodyTimeout 400 ms completes", () =>
    Effect.gen(function* () {
      const body = "0123456789"
      const server = yield* rawServer((socket) => {
        socket.once("data", () => {
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`)
          let i = 0
          const timer = setInterval(() => {
            if (socket.destroyed || i >= body.length) return clearInterval(timer)
            socket.write(body[i++]!)
          }, 100)
          socket.on("close", () => clearInterval(timer))
        })
      })
      const [text, ms] = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => timed(Effect.scoped(Effect.flatMap(c.get(`${server.url}/b`), (r) => r.text)))),
        { headersTimeout: "400 millis", bodyTimeout: "400 millis" }
      )
      expect(text).toBe(body)
      expect(ms).toBeGreaterThan(800)
    }))

  it.scopedLive("the total timeout still bounds a trickled head when it is shorter than headersTimeout", () =>
    Effect.gen(function* () {
      const server = yield* trickleServer(RESPONSE, 100)
      const [exit, ms] = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) => timedExit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/t`), (r) => r.text)))),
        { headersTimeout: "5 seconds", timeout: "300 millis" }
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError", phase: "total", timeoutMs: 300 })
      expect(ms).toBeLessThan(1500)
    }))
})

