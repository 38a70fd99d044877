/**
 * Regression tests of the "One connection core" issue, against hostile loopback servers: every
 * response is checked against the path the server echoes, every wait has a watchdog.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer } from "effect"
import { HttpClient, HttpConnection, Transport } from "../../src/index.js"
import { cannedServer, ok, rawServer } from "../helpers/servers.js"

const WATCHDOG = Duration.seconds(10)

/** The request path in a request head. */
const pathOf = (head: string): string => head.split(" ")[1] ?? "?"

/** A client on a pool of `connections` sockets (plus `extra` options), with a watchdog. */
const withClient = <A, E>(
  effect: Effect.Effect<A, E, HttpClient.HttpClient>,
  options: HttpClient.Options = {}
): Effect.Effect<A, E | Error> =>
  effect.pipe(
    Effect.provide(HttpClient.layerWith({ maxConnectionsPerOrigin: 1, headersTimeout: "3 seconds", ...options }) as Layer.Layer<HttpClient.HttpClient>),
    Effect.timeoutFail({ duration: WATCHDOG, onTimeout: () => new Error("watchdog: the test hung") })
  )

const getText = (url: string) =>
  Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (c) => Effect.flatMap(c.get(url), (r) => r.text)))

describe("smuggling through caller headers", () => {
  it.scopedLive("POST with Content-Length: 0 and a request in its body is refused; the next GETs get their own answers", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer((head) => ok(pathOf(head)))
      const smuggled = "GET /ATTACKER HTTP/1.1\r\nHost: x\r\n\r\n"
      const answers = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const e = yield* Effect.flip(Effect.scoped(c.post(`${server.url}/p`, { headers: [["Content-Length", "0"]], body: smuggled })))
          expect(e).toMatchObject({ _tag: "ContentLengthMismatch", declared: 0, actual: smuggled.length, when: "before-send" })
          expect(e.message).toContain(`127.0.0.1:${server.port}`)
          return yield* Effect.forEach(["/a", "/b", "/c"], (p) => getText(`${server.url}${p}`))
        })
      )
      expect(answers).toEqual(["/a", "/b", "/c"])
      expect(server.requests().map(pathOf)).toEqual(["/a", "/b", "/c"])
    }))

  it.scopedLive("Transfer-Encoding: chunked with a raw body: the caller's bytes are chunk data, never framing", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer((head) => ok(pathOf(head)))
      const answers = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const r = yield* Effect.scoped(
            Effect.flatMap(
              c.post(`${server.url}/p`, { headers: [["Transfer-Encoding", "chunked"]], body: "0\r\n\r\nGET /ATTACKER HTTP/1.1\r\nHost: x\r\n\r\n" }),
              (res) => res.text
            )
          )
          return [r, yield* getText(`${server.url}/a`)]
        })
      )
      expect(answers).toEqual(["/p", "/a"])
      expect(server.requests().map(pathOf)).toEqual(["/p", "/a"])
    }))

  it.scopedLive("Content-Length together with Transfer-Encoding, or a TE other than chunked, is refused with nothing written", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer((head) => ok(pathOf(head)))
      const tags = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const both = yield* Effect.flip(
            Effect.scoped(c.post(`${server.url}/p`, { headers: [["Content-Length", "3"], ["Transfer-Encoding", "chunked"]], body: "abc" }))
          )
          const gzip = yield* Effect.flip(Effect.scoped(c.post(`${server.url}/p`, { headers: [["Transfer-Encoding", "gzip, chunked"]], body: ["abc"] })))
          return [both._tag, gzip._tag]
        })
      )
      expect(tags).toEqual(["InvalidRequestFraming", "InvalidRequestFraming"])
      expect(server.connections()).toBe(0)
    }))

  it.scopedLive("a streamed body shorter or longer than its Content-Length fails, and its socket is never reused", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer((head) => ok(pathOf(head)))
      const result = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const short = yield* Effect.flip(Effect.scoped(c.post(`${server.url}/s`, { headers: [["Content-Length", "10"]], body: ["abc"] })))
          const long = yield* Effect.flip(Effect.scoped(c.post(`${server.url}/l`, { headers: [["Content-Length", "2"]], body: ["abc", "GET /ATTACKER HTTP/1.1\r\n\r\n"] })))
          const after = yield* getText(`${server.url}/a`)
          return { short, long, after }
        })
      )
      expect(result.short).toMatchObject({ _tag: "ContentLengthMismatch", declared: 10, actual: 3, when: "while-sending" })
      expect(result.long).toMatchObject({ _tag: "ContentLengthMismatch", declared: 2, when: "while-sending" })
      expect(result.after).toBe("/a")
      // Each bad body's socket was closed: three sockets for three requests.
      expect(server.connections()).toBe(3)
      expect(server.requests().map(pathOf)).not.toContain("/ATTACKER")
    }))

  it.scopedLive("HttpConnection: a Content-Length that does not match the body is refused before a byte is written", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer((head) => ok(pathOf(head)))
      const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "3 seconds" })
      const e = yield* Effect.flip(conn.request("POST", "/p", { headers: { "Content-Length": "0" }, body: "GET /ATTACKER HTTP/1.1\r\n\r\n" }))
      expect(e._tag).toBe("ContentLengthMismatch")
      yield* conn.request("GET", "/a")
      const res = yield* conn.getResponse
      expect(Buffer.from(yield* res.read()).toString()).toBe("/a")
      expect(server.requests().map(pathOf)).toEqual(["/a"])
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))
})

/**
 * A server whose bodiless answers (HEAD, 204) are followed, `lateMs` later, by bytes that look
 * like a whole response for `/ATTACKER`; every other request gets its path echoed.
 */
const lateBytesServer = (lateMs: number) =>
  rawServer((socket) => {
    let buf = ""
    socket.on("data", (d: Buffer) => {
      buf += d.toString("latin1")
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const head = buf.slice(0, end)
        buf = buf.slice(end + 4)
        const [method, path] = head.split(" ")
        const late = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n/ATTACKER"
        if (method === "HEAD") {
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
          setTimeout(() => socket.writable && socket.write(late), lateMs)
        } else if (path === "/204") {
          socket.write("HTTP/1.1 204 No Content\r\nContent-Length: 40\r\n\r\n")
          setTimeout(() => socket.writable && socket.write(late), lateMs)
        } else socket.write(ok(path!))
      }
    })
  })

describe("late bytes never become the next caller's response", () => {
  it.scopedLive("HEAD /a, late bytes, then GET /b on a pool of one: /b gets /b", () =>
    Effect.gen(function* () {
      const server = yield* lateBytesServer(20)
      const answers = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const head = yield* Effect.scoped(Effect.map(c.head(`${server.url}/a`), (r) => r.status))
          yield* Effect.sleep("80 millis")
          return [head, yield* getText(`${server.url}/b`), yield* getText(`${server.url}/c`)]
        })
      )
      expect(answers).toEqual([200, "/b", "/c"])
    }))

  it.scopedLive("a 204 that announces a body: its socket is not reused, even when the bytes come later", () =>
    Effect.gen(function* () {
      // The late bytes come 30 ms after the 204, after the next request went out: only not
      // reusing the socket keeps them from being read as that request's response.
      const server = yield* lateBytesServer(30)
      const answers = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const s = yield* Effect.scoped(Effect.map(c.get(`${server.url}/204`), (r) => r.status))
          return [s, yield* getText(`${server.url}/b`), yield* getText(`${server.url}/c`)]
        })
      )
      expect(answers).toEqual([204, "/b", "/c"])
      expect(server.connections()).toBe(2)
    }))

  it.scopedLive("HttpConnection: HEAD, late bytes, then GET on the same connection object gets its own answer", () =>
    Effect.gen(function* () {
      const server = yield* lateBytesServer(20)
      const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "3 seconds" })
      yield* conn.request("HEAD", "/a")
      const h = yield* conn.getResponse
      expect(h.status).toBe(200)
      yield* Effect.sleep("80 millis")
      yield* conn.request("GET", "/b")
      const res = yield* conn.getResponse
      expect(Buffer.from(yield* res.read()).toString()).toBe("/b")
      expect(server.connections()).toBe(2)
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))
})

/** A server answering each request on a connection in order, `delayMs` after the previous answer. */
const slowEchoServer = (delayMs: number) =>
  rawServer((socket) => {
    let buf = ""
    let chain = Promise.resolve()
    socket.on("data", (d: Buffer) => {
      buf += d.toString("latin1")
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const path = pathOf(buf.slice(0, end))
        buf = buf.slice(end + 4)
        chain = chain.then(
          () =>
            new Promise<void>((resolve) =>
              setTimeout(() => {
                if (socket.writable) socket.write(ok(path))
                resolve()
              }, delayMs)
            )
        )
      }
    })
  })

describe("pipelining: one caller's interruption never fails the others", () => {
  it.scopedLive("a request interrupted while waiting for its turn leaves the shared socket to the others", () =>
    Effect.gen(function* () {
      const server = yield* slowEchoServer(40)
      const result = yield* withClient(
        Effect.gen(function* () {
          const a = yield* Effect.fork(getText(`${server.url}/a`))
          yield* Effect.sleep("5 millis")
          const b = yield* Effect.fork(getText(`${server.url}/b`))
          yield* Effect.sleep("5 millis")
          const c = yield* Effect.fork(getText(`${server.url}/c`))
          yield* Effect.sleep("15 millis")
          yield* Fiber.interrupt(b)
          return [yield* Fiber.join(a), yield* Fiber.join(c)]
        }),
        { pipelining: 4 }
      )
      expect(result).toEqual(["/a", "/c"])
      expect(server.connections()).toBe(1)
    }))

  it.scopedLive("interruption storm with pipelining 4: every request not interrupted succeeds with its own answer", () =>
    Effect.gen(function* () {
      const server = yield* slowEchoServer(1)
      const outcomes = yield* withClient(
        Effect.forEach(
          Array.from({ length: 300 }, (_, i) => i),
          (i) =>
            Effect.gen(function* () {
              const fiber = yield* Effect.fork(getText(`${server.url}/r${i}`))
              if (i % 3 === 1) {
                yield* Effect.sleep(Duration.millis(i % 7))
                yield* Fiber.interrupt(fiber)
                return "interrupted"
              }
              const exit = yield* Fiber.await(fiber)
              return Exit.isSuccess(exit) ? (exit.value === `/r${i}` ? "own" : `WRONG ${exit.value}`) : `failed ${String(exit.cause)}`
            }),
          { concurrency: 16 }
        ),
        { pipelining: 4, maxConnectionsPerOrigin: 2 }
      )
      expect(outcomes.filter((o) => o !== "own" && o !== "interrupted")).toEqual([])
      expect(outcomes.filter((o) => o === "own").length).toBe(200)
    }))

  it.scopedLive("queued requests that got no byte on a connection that died are retried", () =>
    Effect.gen(function* () {
      // Each connection answers its first request, then resets.
      const server = yield* rawServer((socket) => {
        let answered = false
        socket.on("data", (d: Buffer) => {
          const path = pathOf(d.toString("latin1"))
          if (answered) return
          answered = true
          socket.write(ok(path))
          setTimeout(() => socket.resetAndDestroy(), 20)
        })
      })
      const answers = yield* withClient(
        Effect.forEach(["/q0", "/q1", "/q2", "/q3"], (p) => getText(`${server.url}${p}`), { concurrency: 4 }),
        { pipelining: 4 }
      )
      expect(answers).toEqual(["/q0", "/q1", "/q2", "/q3"])
    }))
})

describe("a reset before any status byte", () => {
  it.scopedLive("is RemoteDisconnected, with the OS code and the cause", () =>
    Effect.gen(function* () {
      const server = yield* rawServer((socket) => socket.once("data", () => socket.resetAndDestroy()))
      const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "3 seconds" })
      yield* conn.request("GET", "/")
      const e = yield* Effect.flip(conn.getResponse)
      expect(e._tag).toBe("RemoteDisconnected")
      expect(e).toMatchObject({ code: "ECONNRESET" })
      expect((e as { cause?: unknown }).cause).toBeInstanceOf(Error)
      expect(e.message).toContain(`127.0.0.1:${server.port}`)
    }).pipe(Effect.scoped, Effect.provide(Transport.layer)))
})

