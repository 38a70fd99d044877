import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as Transport from "../../src/Transport.js"
import { RequestFramer, bodyFraming } from "../../src/transport/mockFraming.js"
import type { Socket } from "../../src/transport/types.js"
import { ok } from "../helpers/servers.js"

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString("latin1"))

const connect = (options: Partial<Transport.ConnectOptions> = {}) =>
  Effect.flatMap(Transport.Transport, (t) => t.connect({ host: "127.0.0.1", port: 80, ...options }))

/** Every read until EOF, as strings. */
const readAll = (socket: Socket) =>
  Effect.gen(function* () {
    const pieces: Array<string> = []
    for (let i = 0; i < 10_000; i++) {
      const chunk = yield* socket.read()
      if (chunk === undefined) return pieces
      pieces.push(text(chunk)!)
    }
    return pieces
  })

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`

describe("mockFraming", () => {
  const all = (framer: RequestFramer, parts: ReadonlyArray<string>) =>
    parts.flatMap((p) => framer.push(Buffer.from(p, "latin1"))).filter((e) => e._tag === "Request").map((e) => text(e.bytes))

  it("frames heads, Content-Length and chunked bodies, split at every byte", () => {
    const reqs = [
      GET("/a"),
      "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
      "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\n\r\n\r\r\n0\r\nX-Trailer: 1\r\n\r\n",
      "POST /d HTTP/1.1\r\ncontent-length: 0\r\n\r\n"
    ]
    const whole = reqs.join("")
    expect(all(new RequestFramer(), [whole])).toEqual(reqs)
    expect(all(new RequestFramer(), whole.split(""))).toEqual(reqs)
    for (let cut = 0; cut < whole.length; cut += 7) {
      expect(all(new RequestFramer(), [whole.slice(0, cut), whole.slice(cut)])).toEqual(reqs)
    }
  })

  it("reports heads (with Expect: 100-continue) before bodies; skips empty lines before a request", () => {
    const framer = new RequestFramer()
    const head = "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    const events = framer.push(Buffer.from("\r\n" + head, "latin1"))
    expect(events.map((e) => e._tag)).toEqual(["Head"])
    expect(events[0]!._tag === "Head" && events[0]!.expectContinue).toBe(true)
    expect(framer.inProgress).toBe(true)
    const done = framer.push(Buffer.from("ok"))
    expect(done.map((e) => e._tag === "Request" && text(e.bytes))).toEqual(["\r\n" + head + "ok"])
    expect(framer.inProgress).toBe(false)
  })

  it("bodyFraming: chunked wins, last coding decides", () => {
    expect(bodyFraming("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")).toMatchObject({ chunked: true, length: 0 })
    expect(bodyFraming("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")).toMatchObject({ chunked: false })
    expect(bodyFraming("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n")).toMatchObject({ length: 12 })
  })
})

describe("Transport.layerMock", () => {
  it.effect("replies by index across connections; function replies see the request; recording", () =>
    Effect.gen(function* () {
      const peer = yield* Transport.MockPeer
      const a = yield* connect()
      yield* a.write(GET("/one"))
      expect(text(yield* a.read())).toBe(ok("1"))
      const b = yield* connect({ host: "example.test", port: 8080 })
      yield* b.write("POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\n")
      expect(b.hasPendingInput()).toBe(false) // body not complete yet
      yield* b.write(new Uint8Array([0x61, 0x62, 0x63]))
      expect(b.hasPendingInput()).toBe(true)
      expect(text(yield* b.read())).toBe(ok("POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".length.toString()))
      // last reply: the connection closes after it
      yield* a.write(GET("/three"))
      expect(yield* readAll(a)).toEqual(["HTTP/1.1 200 OK\r\n\r\nclose-delimited"])
      expect(yield* a.read()).toBeUndefined()
      expect(a.isOpen()).toBe(false)
      expect(b.isOpen()).toBe(true)

      expect(peer.requestsText()).toEqual([GET("/one"), "POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", GET("/three")])
      expect(peer.requests().map(text)).toEqual(peer.requestsText())
      expect(peer.written().map(text)).toEqual([GET("/one") + GET("/three"), "POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"])
      expect(peer.connections()).toBe(2)
      expect(peer.openConnections()).toBe(2)
      expect(peer.connectOptions().map((o) => `${o.host}:${o.port}`)).toEqual(["127.0.0.1:80", "example.test:8080"])
      expect(peer.repliesUsed()).toBe(3)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Transport.layerMock([
          ok("1"),
          (req) => new Uint8Array(Buffer.from(ok(String(req.length)), "latin1")),
          "HTTP/1.1 200 OK\r\n\r\nclose-delimited"
        ])
      )
    ))

  it.effect("connections are closed by their scope: no leaks", () =>
    Effect.gen(function* () {
      const peer = yield* Transport.MockPeer
      yield* Effect.scoped(connect())
      yield* Effect.exit(Effect.scoped(Effect.flatMap(connect(), () => Effect.fail("boom"))))
      const fiber = yield* Effect.fork(Effect.scoped(Effect.flatMap(connect(), (s) => s.read())))
      yield* Effect.yieldNow()
      expect(peer.openConnections()).toBe(1)
      yield* Fiber.interrupt(fiber)
      expect(peer.connections()).toBe(3)
      expect(peer.openConnections()).toBe(0)
      const s = yield* Effect.scoped(connect())
      expect(s.isOpen()).toBe(false)
      expect((yield* Effect.flip(s.write("x")))._tag).toBe("ConnectionReset")
      expect((yield* Effect.flip(s.read()))._tag).toBe("ConnectionReset")
    }).pipe(Effect.provide(Transport.layerMock([]))))

  it.effect("each use of the layer starts a fresh script", () =>
    Effect.gen(function* () {
      const layer = Transport.layerMock([ok("a")])
      for (let i = 0; i < 2; i++) {
        const got = yield* Effect.scoped(
          Effect.gen(function* () {
            const s = yield* connect()
            yield* s.write(GET("/"))
            return yield* readAll(s)
          })
        ).pipe(Effect.provide(layer))
        expect(got).toEqual([ok("a")])
      }
    }))

  it.effect("split and delay: pieces arrive at chosen bytes, on the clock", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write(GET("/"))
      yield* TestClock.adjust("9 millis")
      expect(s.hasPendingInput()).toBe(false)
      yield* TestClock.adjust("1 millis")
      expect(s.hasPendingInput()).toBe(true)
      const fiber = yield* Effect.fork(readAll(s))
      yield* TestClock.adjust("100 millis")
      expect(yield* Fiber.join(fiber)).toEqual(["HTTP/1.1", " 200 OK\r\n", "\r\nabc"])
      // closeAfter closed the first connection; the next step answers on another one
      const t = yield* connect()
      yield* t.write(GET("/2"))
      const pieces: Array<string> = []
      for (let i = 0; i < 19; i++) pieces.push(text(yield* t.read())!)
      expect(pieces).toEqual("HTTP/1.1 200 OK\r\n\r\n".split(""))
      expect(t.isOpen()).toBe(true) // keepOpen
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Transport.layerMock(
          [
            Transport.mock.reply("HTTP/1.1 200 OK\r\n\r\nabc", { splitAt: [8, 17], delay: "10 millis", closeAfter: true }),
            Transport.mock.reply("HTTP/1.1 200 OK\r\n\r\n", { splitEvery: 1 })
          ],
          { keepOpen: true }
        )
      )
    ))

  it.effect("closeAfter closes before the last reply; keepOpen keeps the connection after it", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write(GET("/"))
      expect(yield* readAll(s)).toEqual([ok("x")])
      const t = yield* connect()
      yield* t.write(GET("/"))
      expect(text(yield* t.read())).toBe(ok("y"))
      expect(t.isOpen()).toBe(true)
      const timedOut = yield* Effect.fork(Effect.flip(t.read({ ms: 1000, phase: "headers" })))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(timedOut)
      expect(error._tag === "TimeoutError" && error.phase).toBe("headers")
    }).pipe(
      Effect.scoped,
      Effect.provide(Transport.layerMock([Transport.mock.reply(ok("x"), { closeAfter: true }), ok("y")], { keepOpen: true }))
    ))

  it.effect("close step: EOF before any status line", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write(GET("/"))
      expect(s.hasPendingInput()).toBe(true)
      expect(s.isOpen()).toBe(false)
      expect(yield* s.read()).toBeUndefined()
      expect(yield* s.read()).toBeUndefined()
      // writes after the peer closed are still recorded (as TCP would accept them)
      yield* s.write(GET("/late"))
      const peer = yield* Transport.MockPeer
      expect(peer.requestsText()).toEqual([GET("/"), GET("/late")])
      expect(peer.repliesUsed()).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock([Transport.mock.close, ok("unused")]))))

  it.effect("stall step: never answers; read timeouts fire on the clock", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write(GET("/"))
      const fiber = yield* Effect.fork(Effect.flip(s.read({ ms: 30_000, phase: "headers" })))
      yield* TestClock.adjust("29 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("TimeoutError")
      if (error._tag === "TimeoutError") expect(error).toMatchObject({ phase: "headers", timeoutMs: 30_000 })
      // a later request on the stalled connection does not consume the next step
      yield* s.write(GET("/again"))
      const other = yield* connect()
      yield* other.write(GET("/fresh"))
      expect(yield* readAll(other)).toEqual([ok("next")])
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock([Transport.mock.stall, ok("next")]))))

  it.effect("reset step: the read fails with ConnectionReset", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write(GET("/"))
      const error = yield* Effect.flip(s.read())
      expect(error._tag === "ConnectionReset" && error.code).toBe("ECONNRESET")
      expect(error._tag === "ConnectionReset" && error.beforeResponse).toBe(false)
      expect(s.isOpen()).toBe(false)
      expect((yield* Effect.flip(s.write("more")))._tag).toBe("ConnectionReset")
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock([Transport.mock.reset]))))

  it.effect("function replies may return a step; requests past the script get a close", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write(GET("/x"))
      expect(yield* s.read()).toBeUndefined()
      const t = yield* connect()
      yield* t.write(GET("/y"))
      expect(yield* readAll(t)).toEqual([ok("y")])
      const u = yield* connect()
      yield* u.write(GET("/z"))
      expect(yield* s.read()).toBeUndefined()
      expect(yield* u.read()).toBeUndefined()
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Transport.layerMock([
          (req) => (text(req)!.startsWith("GET /x") ? Transport.mock.close : ok("?")),
          (req) => (text(req)!.startsWith("GET /y") ? ok("y") : Transport.mock.close)
        ])
      )
    ))

  it.effect("pipelined requests in one write are answered in order", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write(GET("/1") + GET("/2") + "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")
      expect((yield* readAll(s)).join("")).toBe(ok("1") + ok("2") + ok("3"))
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock([ok("1"), ok("2"), ok("3")]))))

  it.effect("onHead replies answer Expect: 100-continue before the body", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      yield* s.write("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
      expect(text(yield* s.read())).toBe("HTTP/1.1 100 Continue\r\n\r\n")
      yield* s.write("body")
      expect(yield* readAll(s)).toEqual([ok("done")])
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Transport.layerMock([
          Transport.mock.reply((head) => (text(head)!.includes("Expect") ? "HTTP/1.1 100 Continue\r\n\r\n" : ""), { onHead: true }),
          ok("done")
        ])
      )
    ))

  it.effect("connectError: always, or per attempt", () =>
    Effect.gen(function* () {
      const peer = yield* Transport.MockPeer
      const e1 = yield* Effect.flip(Effect.scoped(connect()))
      expect(e1._tag === "ConnectError" && e1.code).toBe("ECONNREFUSED")
      const s = yield* connect()
      yield* s.write(GET("/"))
      expect(yield* readAll(s)).toEqual([ok("after retry")])
      expect(peer.connectOptions().length).toBe(2)
      expect(peer.connections()).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock([ok("after retry")], { connectError: (attempt) => attempt === 1 }))))

  it.effect("connectError: true refuses every connection", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(Effect.scoped(connect()))
      expect(e._tag).toBe("ConnectError")
    }).pipe(Effect.provide(Transport.layerMock([ok("never")], { connectError: true }))))

  it.effect("startTls returns the same stream, secure; secure connects report secure", () =>
    Effect.gen(function* () {
      const plain = yield* connect()
      expect(plain.secure).toBe(false)
      yield* plain.write("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
      expect(text(yield* plain.read())).toBe("HTTP/1.1 200 Connection established\r\n\r\n")
      const tls = yield* plain.startTls({ host: "example.test", port: 443 })
      expect(tls.secure).toBe(true)
      expect(tls.id).toBe(plain.id)
      yield* tls.write(GET("/"))
      expect(yield* readAll(tls)).toEqual([ok("inner")])
      const direct = yield* connect({ secure: true })
      expect(direct.secure).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock(["HTTP/1.1 200 Connection established\r\n\r\n", ok("inner")]))))

  it.effect("startTls on a closed socket fails with TlsError, not a defect", () =>
    Effect.gen(function* () {
      const plain = yield* connect()
      yield* plain.close
      const e = yield* Effect.flip(plain.startTls({ host: "example.test", port: 443 }))
      expect(e).toMatchObject({ _tag: "TlsError", code: "ERR_SOCKET_CLOSED" })
    }).pipe(Effect.scoped, Effect.provide(Transport.layerMock([ok("never")]))))

  it.live("delays also work in real time", () =>
    Effect.gen(function* () {
      const s = yield* connect()
      const start = Date.now()
      yield* s.write(GET("/"))
      expect(yield* readAll(s)).toEqual(["HTTP/1.1 204", " No Content\r\n\r\n"])
      expect(Date.now() - start).toBeGreaterThanOrEqual(35)
    }).pipe(
      Effect.scoped,
      Effect.provide(Transport.layerMock([Transport.mock.reply("HTTP/1.1 204 No Content\r\n\r\n", { splitAt: [12], delay: "20 millis" })]))
    ))
})
