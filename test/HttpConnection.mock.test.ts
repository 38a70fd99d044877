/**
 * The core behaviours of HttpConnection once more, through `Transport.layerMock`: exact request
 * bytes, replies by index, split replies, close / stall / reset steps, and no connection left open
 * (`MockPeer.openConnections()` is 0 after every test's scope).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Logger, Stream, TestClock } from "effect"
import { HttpConnection, HttpsConnection, Transport } from "../src/index.js"
import { ok } from "./helpers/servers.js"
import { fails, get, latin1, withMock } from "./helpers/mock.js"



const make = (extra: Partial<HttpConnection.Options> = {}) => HttpConnection.make({ host: "example.com", ...extra })


describe("HttpConnection over the mock transport: request bytes", () => {
  it.effect("GET: exact bytes, Host without the default port", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("hi")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          const res = yield* get(conn)
          expect(latin1(yield* res.read())).toBe("hi")
        }))
      expect(peer.requestsText()).toEqual(["GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n"])
      expect(peer.connectOptions()[0]).toMatchObject({ host: "example.com", port: 80, secure: false })
    }))

  it.effect("POST string body: UTF-8 with Content-Length in bytes", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("")], () =>
        Effect.gen(function* () {
          const conn = yield* make({ port: 8080 })
          yield* conn.request("POST", "/submit?x=1", { body: "ü", headers: [["Content-Type", "text/plain; charset=utf-8"]] })
          yield* conn.getResponse
        }))
      expect(peer.requestsText()[0]).toBe(
        "POST /submit?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept-Encoding: identity\r\nContent-Length: 2\r\n" +
          "Content-Type: text/plain; charset=utf-8\r\n\r\n\xc3\xbc"
      )
    }))

  it.effect("PUT / PATCH without body: Content-Length: 0; DELETE: none", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok(""), ok(""), ok("")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          for (const m of ["PUT", "PATCH", "DELETE"]) {
            yield* conn.request(m, "/r")
            yield* (yield* conn.getResponse).read()
          }
        }))
      expect(peer.requestsText()).toEqual([
        "PUT /r HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\nContent-Length: 0\r\n\r\n",
        "PATCH /r HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\nContent-Length: 0\r\n\r\n",
        "DELETE /r HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n"
      ])
      expect(peer.connections()).toBe(1)
    }))

  it.effect("Stream body: chunked framing, exact bytes", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          yield* conn.request("POST", "/", { body: Stream.make("a".repeat(17), new Uint8Array([1, 2])) })
          yield* conn.getResponse
        }))
      expect(peer.requestsText()[0]).toBe(
        "POST / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n" +
          `11\r\n${"a".repeat(17)}\r\n2\r\n\x01\x02\r\n0\r\n\r\n`
      )
    }))

  it.effect("IPv6 host: Host in brackets, connect to the bare address", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok(""), ok("")], () =>
        Effect.gen(function* () {
          const a = yield* HttpConnection.make({ host: "[::1]:8080" })
          yield* (yield* get(a)).read()
          const b = yield* HttpConnection.make({ host: "fe80::1", port: 80 })
          yield* (yield* get(b)).read()
        }))
      expect(peer.requestsText()[0]).toContain("\r\nHost: [::1]:8080\r\n")
      expect(peer.requestsText()[1]).toContain("\r\nHost: [fe80::1]\r\n")
      expect(peer.connectOptions()[0]).toMatchObject({ host: "::1", port: 8080 })
    }))

  it.effect("HttpsConnection: port 443 omitted from Host, connect asks for TLS with the options", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("s")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpsConnection.make({ host: "example.com", tls: { rejectUnauthorized: false } })
          yield* (yield* get(conn)).read()
        }))
      expect(peer.requestsText()[0]).toBe("GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n")
      expect(peer.connectOptions()[0]).toMatchObject({ host: "example.com", port: 443, secure: true, tls: { rejectUnauthorized: false } })
    }))

  it.effect("low-level putRequest / putHeader / endHeaders / send: exact bytes", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          yield* conn.putRequest("POST", "/x", { skipAcceptEncoding: true })
          yield* conn.putHeader("Content-Length", 5)
          yield* conn.putHeader("X-Multi", "a", "b")
          yield* conn.endHeaders()
          yield* conn.send("he")
          yield* conn.send(["l", "lo"])
          yield* conn.getResponse
        }))
      expect(peer.requestsText()[0]).toBe("POST /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-Multi: a\r\n\tb\r\n\r\nhello")
    }))

  it.effect("refused requests write nothing and open no connection", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("ok")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          expect((yield* fails(conn.request("GET", "/", { headers: [["X", "a\r\nInjected: 1"]] })))._tag).toBe("InvalidHeader")
          expect((yield* fails(conn.request("GET", "/", { headers: [["Bad Name", "v"]] })))._tag).toBe("InvalidHeader")
          expect((yield* fails(conn.request("GET", "/a b")))._tag).toBe("InvalidURL")
          expect((yield* fails(conn.request("GET", "/\r\nX: y")))._tag).toBe("InvalidURL")
          expect((yield* fails(conn.request("GE T", "/")))._tag).toBe("InvalidMethod")
          expect((yield* fails(conn.request("GET", "/", { headers: [["X", "\u20ac"]] })))._tag).toBe("InvalidHeader")
          expect(conn.state).toBe("Idle")
        }))
      expect(peer.connections()).toBe(0)
      expect(peer.written()).toEqual([])
    }))

  it.effect("an invalid header after a valid request line still writes nothing", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("ok")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          yield* conn.putRequest("GET", "/")
          expect((yield* fails(conn.putHeader("X", "a\nb")))._tag).toBe("InvalidHeader")
          expect((yield* fails(conn.putHeader("X\x00", "a")))._tag).toBe("InvalidHeader")
        }))
      expect(peer.connections()).toBe(0)
    }))
})

describe("HttpConnection over the mock transport: replies", () => {
  it.effect("replies by index on one kept-alive connection", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("one"), ok("two"), ok("three")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          for (const want of ["one", "two", "three"]) expect(latin1(yield* (yield* get(conn)).read())).toBe(want)
        }))
      expect(peer.connections()).toBe(1)
      expect(peer.repliesUsed()).toBe(3)
    }))

  it.effect("Connection: close → the next request opens a new connection", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("one", "Connection: close\r\n"), ok("two")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          const a = yield* get(conn)
          expect(a.willClose).toBe(true)
          yield* a.read()
          expect(latin1(yield* (yield* get(conn)).read())).toBe("two")
        }))
      expect(peer.connections()).toBe(2)
    }))

  it.effect("a reply function sees the request bytes", () =>
    Effect.gen(function* () {
      yield* withMock([(req) => ok(String(req.length))], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          const res = yield* get(conn, "/abc")
          expect(latin1(yield* res.read())).toBe(String("GET /abc HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n".length))
        }))
    }))

  for (const [name, options] of [
    ["split at every byte", { splitEvery: 1 }],
    ["split inside CRLFs", { splitAt: [16, 17, 36, 37, 38, 50, 51] }],
    ["split every 7 bytes with a delay", { splitEvery: 7, delay: "1 millis" }]
  ] as const) {
    it.live(`chunked reply ${name}`, () =>
      withMock(
        [
          Transport.mock.reply(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n4\r\nWiki\r\n5;ext\r\npedia\r\n0\r\nT: v\r\n\r\n",
            options
          )
        ],
        () =>
          Effect.gen(function* () {
            const conn = yield* make()
            const res = yield* get(conn)
            expect(res.getHeader("x-a")).toBe("b")
            expect(latin1(yield* res.read())).toBe("Wikipedia")
            expect(res.trailers?.get("t")).toBe("v")
          })
      ))
  }

  it.effect("delayed pieces under TestClock", () =>
    withMock([Transport.mock.reply(ok("slow"), { splitAt: [20], delay: "1 second" })], () =>
      Effect.gen(function* () {
        const conn = yield* make({ timeout: "5 seconds" })
        yield* conn.request("GET", "/")
        const fiber = yield* Effect.fork(Effect.flatMap(conn.getResponse, (r) => r.read()))
        yield* TestClock.adjust("3 seconds")
        expect(latin1(yield* Fiber.join(fiber))).toBe("slow")
      })))

  it.effect("HEAD, 204 and 304 have no body; HEAD's socket is reused, a 204/304 announcing a body is not", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(
        [
          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
          "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
          "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
          ok("end")
        ],
        () =>
          Effect.gen(function* () {
            const conn = yield* make()
            yield* conn.request("HEAD", "/")
            const h = yield* conn.getResponse
            expect(h.length).toBe(0)
            expect((yield* h.read()).length).toBe(0)
            for (const status of [204, 304]) {
              const r = yield* get(conn)
              expect(r.status).toBe(status)
              expect(r.isClosed()).toBe(true)
            }
            expect(latin1(yield* (yield* get(conn)).read())).toBe("end")
          })
      )
      // HEAD then 204 on the first socket; the 204 announced 5 bytes: a new socket for the 304,
      // which announced a chunked body: a third for the last request.
      expect(peer.connections()).toBe(3)
    }))

  it.effect("1xx interim responses are skipped and recorded", () =>
    withMock(["HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + ok("x")], () =>
      Effect.gen(function* () {
        const res = yield* get(yield* make())
        expect(res.interim.map((i) => i.status)).toEqual([103, 102])
        expect(latin1(yield* res.read())).toBe("x")
      })))

  it.effect("HTTP/1.0 close-delimited body ends at EOF (the mock closes after the last reply)", () =>
    withMock(["HTTP/1.0 200 OK\r\n\r\nuntil the end"], () =>
      Effect.gen(function* () {
        const res = yield* get(yield* make())
        expect(res.version).toBe(10)
        expect(res.willClose).toBe(true)
        expect(latin1(yield* res.read())).toBe("until the end")
      })))

  it.effect("bytes left after a response poison the idle connection: the next request uses a new one", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("a") + "HTTP/1.1 200 OK\r\n", ok("b")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          expect(latin1(yield* (yield* get(conn)).read())).toBe("a")
          expect(latin1(yield* (yield* get(conn)).read())).toBe("b")
        }), { keepOpen: true })
      expect(peer.connections()).toBe(2)
    }))

  it.effect("read(n) / readInto / stream on a split body", () =>
    withMock([Transport.mock.reply(ok("0123456789"), { splitEvery: 3 })], () =>
      Effect.gen(function* () {
        const res = yield* get(yield* make())
        expect(latin1(yield* res.read(4))).toBe("0123")
        const buf = new Uint8Array(2)
        expect(yield* res.readInto(buf)).toBe(2)
        expect(latin1(buf)).toBe("45")
        const rest = yield* Stream.runFold(res.stream, "", (acc, b) => acc + latin1(b))
        expect(rest).toBe("6789")
      })))
})

describe("HttpConnection over the mock transport: failures", () => {
  it.effect("close step → RemoteDisconnected (not reused)", () =>
    withMock([Transport.mock.close], () =>
      Effect.gen(function* () {
        const e = yield* fails(get(yield* make()))
        expect(e._tag).toBe("RemoteDisconnected")
        expect(e.message).toContain("example.com:80")
        expect((e as { reusedConnection?: boolean }).reusedConnection).toBe(false)
      })))

  it.effect("close on a reused connection → RemoteDisconnected with reusedConnection: true", () =>
    withMock([ok("a"), Transport.mock.close], () =>
      Effect.gen(function* () {
        const conn = yield* make()
        yield* (yield* get(conn)).read()
        const e = yield* fails(get(conn))
        expect(e._tag).toBe("RemoteDisconnected")
        expect((e as { reusedConnection?: boolean }).reusedConnection).toBe(true)
        // And the next request works on a fresh connection (the script is exhausted: it closes).
        expect(conn.isConnected()).toBe(false)
      })))

  it.effect("reset step before any response byte → RemoteDisconnected with the OS code and cause", () =>
    withMock([Transport.mock.reset], () =>
      Effect.gen(function* () {
        const e = yield* fails(get(yield* make()))
        expect(e._tag).toBe("RemoteDisconnected")
        if (e._tag === "RemoteDisconnected") {
          expect(e.code).toBe("ECONNRESET")
          expect(e.cause).toBeDefined()
          expect(e.message).toContain("ECONNRESET")
          expect(e.message).toContain("example.com:80")
        }
      })))

  it.effect("reset mid-body → ConnectionReset, socket closed", () =>
    withMock([Transport.mock.reply("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", {}), Transport.mock.reset], () =>
      Effect.gen(function* () {
        // The first reply is not the last step, so the connection stays open: a stall mid-body.
        const conn = yield* make({ timeout: "1 second" })
        const res = yield* get(conn)
        const fiber = yield* Effect.fork(res.read())
        yield* TestClock.adjust("2 seconds")
        const e = yield* fails(Fiber.join(fiber))
        expect(e._tag).toBe("TimeoutError")
        if (e._tag === "TimeoutError") expect(e.phase).toBe("body")
      })))

  it.effect("stall → TimeoutError headers (TestClock)", () =>
    withMock([Transport.mock.stall], () =>
      Effect.gen(function* () {
        const conn = yield* make({ timeout: "10 seconds" })
        yield* conn.request("GET", "/")
        const fiber = yield* Effect.fork(conn.getResponse)
        yield* TestClock.adjust("11 seconds")
        const e = yield* fails(Fiber.join(fiber))
        expect(e._tag).toBe("TimeoutError")
        if (e._tag === "TimeoutError") {
          expect(e.phase).toBe("headers")
          expect(e.timeoutMs).toBe(10_000)
          expect(e.message).toContain("example.com:80")
        }
        expect(conn.state).toBe("Idle")
      })))

  it.effect("connectError → ConnectError ECONNREFUSED; a later attempt connects", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(
        [ok("ok")],
        () =>
          Effect.gen(function* () {
            const conn = yield* make()
            const e = yield* fails(conn.request("GET", "/"))
            expect(e._tag).toBe("ConnectError")
            if (e._tag === "ConnectError") expect(e.code).toBe("ECONNREFUSED")
            expect(e.message).toContain("example.com:80")
            expect(conn.state).toBe("Idle")
            expect(latin1(yield* (yield* get(conn)).read())).toBe("ok")
          }),
        { connectError: (attempt) => attempt === 1 }
      )
      expect(peer.connectOptions()).toHaveLength(2)
      expect(peer.connections()).toBe(1)
    }))

  for (const [tag, reply] of [
    ["BadStatusLine", "HTTP/1.1 abc OK\r\n\r\n"],
    ["UnknownProtocol", "HTTP/2.0 200 OK\r\n\r\n"],
    ["LineTooLong", "HTTP/1.1 200 OK\r\nX: " + "a".repeat(70_000) + "\r\n\r\n"],
    ["TooManyHeaders", "HTTP/1.1 200 OK\r\n" + "A: b\r\n".repeat(101) + "\r\n"],
    ["InvalidContentLength", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"],
    ["UnknownTransferEncoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"],
    ["InvalidHeader", "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n"]
  ] as const) {
    it.effect(`${tag} from the head (split at every byte)`, () =>
      withMock([Transport.mock.reply(reply, { splitEvery: reply.length > 1000 ? 997 : 1 })], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          const e = yield* fails(get(conn))
          expect(e._tag).toBe(tag)
          expect(e.message).toContain("example.com:80")
          expect(conn.isConnected()).toBe(false)
        })))
  }

  it.effect("InvalidChunk in the body", () =>
    withMock(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"], () =>
      Effect.gen(function* () {
        const res = yield* get(yield* make())
        const e = yield* fails(res.read())
        expect(e._tag).toBe("InvalidChunk")
        expect(e.message).toContain("example.com:80")
      })))

  it.effect("IncompleteRead: partial and expected", () =>
    withMock(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"], () =>
      Effect.gen(function* () {
        const res = yield* get(yield* make())
        const e = yield* fails(res.read())
        expect(e._tag).toBe("IncompleteRead")
        if (e._tag === "IncompleteRead") {
          expect(latin1(e.partial)).toBe("abc")
          expect(e.expected).toBe(7)
          expect(e.message).toContain("example.com:80")
        }
      })))

  it.effect("IncompleteRead in a chunk: expected is the rest of the chunk or unknown", () =>
    withMock(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"], () =>
      Effect.gen(function* () {
        const res = yield* get(yield* make())
        const e = yield* fails(res.read())
        expect(e._tag).toBe("IncompleteRead")
        if (e._tag === "IncompleteRead") {
          expect(latin1(e.partial)).toBe("ab")
          expect(e.expected === undefined || e.expected === 3).toBe(true)
        }
      })))
})

describe("HttpConnection over the mock transport: state and extras", () => {
  it.effect("state machine: CannotSendRequest, CannotSendHeader, ResponseNotReady", () =>
    withMock([ok("x")], () =>
      Effect.gen(function* () {
        const conn = yield* make()
        expect((yield* fails(conn.getResponse))._tag).toBe("ResponseNotReady")
        yield* conn.putRequest("GET", "/")
        expect((yield* fails(conn.putRequest("GET", "/")))._tag).toBe("CannotSendRequest")
        yield* conn.endHeaders()
        expect(conn.state).toBe("Request-sent")
        expect((yield* fails(conn.putHeader("A", "b")))._tag).toBe("CannotSendHeader")
        const res = yield* conn.getResponse
        expect(conn.state).toBe("Idle")
        expect((yield* fails(conn.getResponse))._tag).toBe("ResponseNotReady")
        yield* res.read()
      })))

  it.effect("autoOpen: false → NotConnected; nothing opened", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("x")], () =>
        Effect.gen(function* () {
          const conn = yield* make({ autoOpen: false })
          expect((yield* fails(conn.request("GET", "/")))._tag).toBe("NotConnected")
          yield* conn.connect
          expect(latin1(yield* (yield* get(conn)).read())).toBe("x")
        }))
      expect(peer.connections()).toBe(1)
    }))

  it.effect("close then reuse reconnects", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("a"), ok("b")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          yield* (yield* get(conn)).read()
          yield* conn.close
          expect(latin1(yield* (yield* get(conn)).read())).toBe("b")
        }))
      expect(peer.connections()).toBe(2)
    }))

  it.effect("an unread response is closed with the scope", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([Transport.mock.reply(ok("never read"), {})], () =>
        Effect.gen(function* () {
          yield* get(yield* make())
        }), { keepOpen: true })
      expect(peer.openConnections()).toBe(0)
    }))

  it.effect("expectContinue: 100 then the body", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([Transport.mock.reply("HTTP/1.1 100 Continue\r\n\r\n", { onHead: true }), ok("done")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          yield* conn.request("PUT", "/", { body: "data", expectContinue: true })
          const res = yield* conn.getResponse
          expect(res.interim.map((i) => i.status)).toEqual([100])
          expect(latin1(yield* res.read())).toBe("done")
        }))
      expect(peer.requestsText()[0]).toBe(
        "PUT / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\ndata"
      )
    }))

  it.effect("expectContinue: 417 first → the body is never written, willClose", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(
        [Transport.mock.reply("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n", { onHead: true })],
        () =>
          Effect.gen(function* () {
            const conn = yield* make()
            yield* conn.request("PUT", "/", { body: "secret", expectContinue: true })
            const res = yield* conn.getResponse
            expect(res.status).toBe(417)
            expect(res.willClose).toBe(true)
          }),
        { keepOpen: true }
      )
      expect(latin1(peer.written()[0]!)).toBe(
        "PUT / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n"
      )
    }))

  it.effect("expectContinue: silence → the body goes out after continueTimeout (TestClock)", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([ok("late")], (p) =>
        Effect.gen(function* () {
          const conn = yield* make()
          const fiber = yield* Effect.fork(
            Effect.zipRight(
              conn.request("POST", "/", { body: "payload", expectContinue: true, continueTimeout: "2 seconds" }),
              Effect.flatMap(conn.getResponse, (r) => r.read())
            )
          )
          yield* TestClock.adjust("1 second")
          expect(p.requests()).toHaveLength(0)
          yield* TestClock.adjust("2 seconds")
          expect(latin1(yield* Fiber.join(fiber))).toBe("late")
        }))
      expect(peer.requestsText()[0]).toMatch(/\r\n\r\npayload$/)
    }))

  it.effect("setTunnel: CONNECT then the request on the same connection", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(["HTTP/1.1 200 Connection established\r\n\r\n", ok("through")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("target.example", 8080, [["Proxy-Authorization", "Basic abc"]])
          expect(latin1(yield* (yield* get(conn)).read())).toBe("through")
        }))
      expect(peer.requestsText()).toEqual([
        "CONNECT target.example:8080 HTTP/1.1\r\nHost: target.example:8080\r\nProxy-Authorization: Basic abc\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: target.example:8080\r\nAccept-Encoding: identity\r\n\r\n"
      ])
      expect(peer.connections()).toBe(1)
      expect(peer.connectOptions()[0]).toMatchObject({ host: "proxy.local", port: 3128, secure: false })
    }))

  it.effect("setTunnel over HTTPS: CONNECT in clear, then TLS", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(["HTTP/1.1 200 OK\r\n\r\n", ok("secure")], () =>
        Effect.gen(function* () {
          const conn = yield* HttpsConnection.make({ host: "proxy.local", port: 3128 })
          yield* conn.setTunnel("target.example")
          const res = yield* get(conn)
          // Checked before the body is read: the mock peer closes after its last reply, and a
          // socket the peer closed is dropped once the response ends.
          expect(conn.socket?.secure).toBe(true)
          expect(latin1(yield* res.read())).toBe("secure")
        }))
      expect(peer.requestsText()[0]).toBe("CONNECT target.example:443 HTTP/1.1\r\nHost: target.example:443\r\n\r\n")
      expect(peer.requestsText()[1]).toContain("\r\nHost: target.example\r\n")
    }))

  it.effect("setTunnel: 407 → TunnelError, connection closed", () =>
    withMock(["HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"], () =>
      Effect.gen(function* () {
        const conn = yield* HttpConnection.make({ host: "proxy.local", port: 3128 })
        yield* conn.setTunnel("target.example", 80)
        const e = yield* fails(conn.request("GET", "/"))
        expect(e._tag).toBe("TunnelError")
        expect(e.message).toContain("proxy.local:3128")
        expect(conn.isConnected()).toBe(false)
      }), { keepOpen: true }))

  it.effect("setDebugLevel(1) logs send: and reply: through the logger", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const logger = Logger.make(({ message }) => {
        lines.push(Array.isArray(message) ? message.join(" ") : String(message))
      })
      yield* withMock([ok("x", "X-Y: z\r\n")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          yield* conn.setDebugLevel(1)
          yield* (yield* get(conn)).read()
        })).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(lines[0]).toBe(`send: ${JSON.stringify("GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n")}`)
      expect(lines).toContain("reply: 'HTTP/1.1 200 OK'")
      expect(lines).toContain("header: X-Y: z")
    }))

  it.effect("interrupting a read mid-body closes the connection", () =>
    Effect.gen(function* () {
      const peer = yield* withMock([Transport.mock.reply("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab", {}), ok("next")], () =>
        Effect.gen(function* () {
          const conn = yield* make()
          const res = yield* get(conn)
          const fiber = yield* Effect.fork(res.read())
          yield* TestClock.adjust("10 millis")
          yield* Fiber.interrupt(fiber)
          expect(res.isClosed()).toBe(true)
          expect(latin1(yield* (yield* get(conn)).read())).toBe("next")
        }))
      expect(peer.connections()).toBe(2)
    }))
})

describe("HttpConnection over the mock transport: overlapping exchanges", () => {
  it.live("a request sent while the previous response is unread is answered after it (Python allows this)", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(
        [Transport.mock.reply(ok("first body"), { splitEvery: 5, delay: "2 millis" }), Transport.mock.reply(ok("second"), { delay: "1 millis" })],
        () =>
          Effect.gen(function* () {
            const conn = yield* make({ timeout: "2 seconds" })
            yield* conn.request("GET", "/1")
            const res1 = yield* conn.getResponse
            yield* conn.request("GET", "/2")
            expect((yield* fails(conn.getResponse))._tag).toBe("ResponseNotReady")
            expect(latin1(yield* res1.read())).toBe("first body")
            const res2 = yield* conn.getResponse
            expect(latin1(yield* res2.read())).toBe("second")
          })
      )
      expect(peer.connections()).toBe(1)
    }))

  it.live("a willClose response stays readable while the next request goes out on a new connection", () =>
    Effect.gen(function* () {
      const peer = yield* withMock(
        [Transport.mock.reply(ok("closing body", "Connection: close\r\n"), { splitAt: [60], delay: "5 millis", closeAfter: true }), ok("fresh")],
        () =>
          Effect.gen(function* () {
            const conn = yield* make({ timeout: "2 seconds" })
            yield* conn.request("GET", "/1")
            const res1 = yield* conn.getResponse
            expect(res1.willClose).toBe(true)
            yield* conn.request("GET", "/2")
            const res2 = yield* conn.getResponse
            expect(latin1(yield* res2.read())).toBe("fresh")
            expect(latin1(yield* res1.read())).toBe("closing body")
          })
      )
      expect(peer.connections()).toBe(2)
    }))
})
