/**
 * Issue 8, part 5: bad input from plain-JS callers (no type checker) is a typed failure
 * (`InvalidHeader`, `RequestBodyError`) before any byte is written, never a defect.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { HttpClient, HttpConnection, Transport } from "../../src/index.js"
import { cannedServer, ok } from "../helpers/servers.js"
import { failureOf, latin1, watchdog, withClient } from "./support.js"

/** An echo of the request head as the body. */
const headEcho = () => cannedServer((head) => ok(head))

const BAD_HEADERS: ReadonlyArray<readonly [string, unknown]> = [
  ["a value that is an object", { "x-a": {} }],
  ["a value that is null", { "x-a": null }],
  ["a value that is a boolean", { "x-a": true }],
  ["a value that is a float", { "x-a": 1.5 }],
  ["an array value with an object inside", { "x-a": ["ok", {}] }],
  ["a number as the whole headers", 42],
  ["a string as the whole headers", "x-a: 1"],
  ["a non-iterable class instance", new Date(0)],
  ["pairs that are not pairs", [["x-a"]]],
  ["a pair with a non-string name", [[1, "v"]]],
  ["an iterator that throws", { [Symbol.iterator]: () => { throw new Error("boom") } }]
]

const formData = (): unknown => {
  const f = new FormData()
  f.append("a", "1")
  return f
}

const BAD_BODIES: ReadonlyArray<readonly [string, () => unknown]> = [
  ["a FormData", formData],
  ["a URLSearchParams", () => new URLSearchParams("a=1")],
  ["an empty object", () => ({})],
  ["a number", () => 42],
  ["a boolean", () => true],
  ["an array with a number inside", () => ["a", 1]],
  ["an array with an object inside", () => ["a", {}]],
  ["a Map", () => new Map([["a", "1"]])]
]

describe("pooled client: headers from plain JS", () => {
  it.scopedLive("numbers (and bigints) are written in decimal", () =>
    Effect.gen(function* () {
      const server = yield* headEcho()
      const head = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) =>
          Effect.scoped(Effect.flatMap(c.get(`${server.url}/n`, { headers: { "x-a": 1, "x-b": 10n, "x-c": [2, "three"] } as any }), (r) => r.text))
        )
      )
      expect(head).toContain("\r\nx-a: 1\r\n")
      expect(head).toContain("\r\nx-b: 10\r\n")
      expect(head).toContain("\r\nx-c: 2\r\nx-c: three\r\n")
    }))

  for (const [name, headers] of BAD_HEADERS) {
    it.scopedLive(`${name} → InvalidHeader, no connection`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        const exit = yield* withClient(
          Effect.flatMap(HttpClient.HttpClient, (c) => Effect.exit(Effect.scoped(c.get(`${server.url}/h`, { headers: headers as any }))))
        )
        const e = failureOf(exit)
        expect(e._tag).toBe("InvalidHeader")
        expect(e).toMatchObject({ side: "request" })
        expect(server.connections()).toBe(0)
      }))
  }

  it.scopedLive("POST with bad headers and a good body: InvalidHeader, no connection", () =>
    Effect.gen(function* () {
      const server = yield* headEcho()
      const exit = yield* withClient(
        Effect.flatMap(HttpClient.HttpClient, (c) =>
          Effect.exit(Effect.scoped(c.post(`${server.url}/h`, { headers: { "x-a": {} } as any, body: "hello" })))
        )
      )
      expect(failureOf(exit)._tag).toBe("InvalidHeader")
      expect(server.connections()).toBe(0)
    }))
})

describe("pooled client: bodies from plain JS", () => {
  for (const [name, body] of BAD_BODIES) {
    it.scopedLive(`${name} as body → RequestBodyError, no connection`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        const exit = yield* withClient(
          Effect.flatMap(HttpClient.HttpClient, (c) => Effect.exit(Effect.scoped(c.post(`${server.url}/b`, { body: body() as any }))))
        )
        const e = failureOf(exit)
        expect(e._tag).toBe("RequestBodyError")
        expect(e.message).toBeTypeOf("string")
        expect(server.connections()).toBe(0)
      }))
  }

  it.scopedLive("after refused requests the client still works", () =>
    Effect.gen(function* () {
      const server = yield* headEcho()
      const text = yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          for (const [, body] of BAD_BODIES) yield* Effect.exit(Effect.scoped(c.post(`${server.url}/b`, { body: body() as any })))
          for (const [, headers] of BAD_HEADERS) yield* Effect.exit(Effect.scoped(c.get(`${server.url}/h`, { headers: headers as any })))
          return yield* Effect.scoped(Effect.flatMap(c.post(`${server.url}/ok`, { body: "hi" }), (r) => r.text))
        })
      )
      expect(text.startsWith("POST /ok HTTP/1.1\r\n")).toBe(true)
      expect(server.connections()).toBe(1)
      expect(server.requests().length).toBe(1)
    }))
})

describe("HttpConnection.request: input from plain JS", () => {
  const withConn = <A, E>(port: number, f: (conn: HttpConnection.HttpConnection) => Effect.Effect<A, E>) =>
    watchdog(
      Effect.flatMap(HttpConnection.make({ host: "127.0.0.1", port, timeout: "3 seconds" }), f).pipe(
        Effect.scoped,
        Effect.provide(Transport.layer)
      )
    )

  it.scopedLive("numbers in headers are written in decimal", () =>
    Effect.gen(function* () {
      const server = yield* headEcho()
      const head = yield* withConn(server.port, (conn) =>
        Effect.gen(function* () {
          yield* conn.request("GET", "/n", { headers: { "x-a": 1 } as any })
          const res = yield* conn.getResponse
          return latin1(yield* res.read())
        })
      )
      expect(head).toContain("\r\nx-a: 1\r\n")
    }))

  for (const [name, headers] of BAD_HEADERS) {
    it.scopedLive(`headers: ${name} → InvalidHeader, no connection, state Idle`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        yield* withConn(server.port, (conn) =>
          Effect.gen(function* () {
            const exit = yield* Effect.exit(conn.request("GET", "/h", { headers: headers as any }))
            expect(failureOf(exit)._tag).toBe("InvalidHeader")
            expect(conn.state).toBe("Idle")
            expect(conn.isConnected()).toBe(false)
          })
        )
        expect(server.connections()).toBe(0)
      }))
  }

  for (const [name, body] of BAD_BODIES) {
    it.scopedLive(`body: ${name} → RequestBodyError, no connection, state Idle`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        yield* withConn(server.port, (conn) =>
          Effect.gen(function* () {
            const exit = yield* Effect.exit(conn.request("POST", "/b", { body: body() as any }))
            expect(failureOf(exit)._tag).toBe("RequestBodyError")
            expect(conn.state).toBe("Idle")
            expect(conn.isConnected()).toBe(false)
            // The connection is still usable.
            yield* conn.request("POST", "/ok", { body: "hi" })
            const res = yield* conn.getResponse
            expect(latin1(yield* res.read()).startsWith("POST /ok HTTP/1.1\r\n")).toBe(true)
          })
        )
        expect(server.connections()).toBe(1)
        expect(server.requests().length).toBe(1)
      }))
  }

  it.scopedLive("send() with a bad body after endHeaders → RequestBodyError, never a defect", () =>
    Effect.gen(function* () {
      const server = yield* headEcho()
      yield* withConn(server.port, (conn) =>
        Effect.gen(function* () {
          yield* conn.putRequest("POST", "/s")
          yield* conn.putHeader("Transfer-Encoding", "chunked")
          yield* conn.endHeaders()
          const exit = yield* Effect.exit(conn.send({} as any))
          expect(failureOf(exit)._tag).toBe("RequestBodyError")
        })
      )
    }))
})

/** A Proxy whose every use throws (revoked). */
const revokedProxy = (): unknown => {
  const r = Proxy.revocable({}, {})
  r.revoke()
  return r.proxy
}

/** Bodies whose inspection throws, or that only claim to be iterable: refused before anything is written. */
const HOSTILE_BODIES: ReadonlyArray<readonly [string, () => unknown]> = [
  ["a revoked Proxy", revokedProxy],
  ["a Proxy whose `has` trap throws", () => new Proxy({}, { has: () => { throw new Error("trap") } })],
  ["an object whose Symbol.iterator is not a function", () => ({ [Symbol.iterator]: 42 })],
  ["an object whose Symbol.asyncIterator is not a function", () => ({ [Symbol.asyncIterator]: "x" })]
]

/** Byte containers other than Uint8Array, accepted as bytes by the encoder: "hi" each. */
const BYTE_BODIES: ReadonlyArray<readonly [string, () => unknown]> = [
  ["an ArrayBuffer", () => new Uint8Array([104, 105]).buffer],
  ["a DataView", () => new DataView(new Uint8Array([0, 104, 105, 0]).buffer, 1, 2)],
  ["an Int16Array", () => new Int16Array(new Uint8Array([104, 105]).buffer)],
  ["a Uint8ClampedArray", () => new Uint8ClampedArray([104, 105])]
]

describe("hostile bodies are typed failures, never defects", () => {
  for (const [name, body] of HOSTILE_BODIES) {
    it.scopedLive(`pooled client: ${name} → RequestBodyError, no connection`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        const exit = yield* withClient(
          Effect.flatMap(HttpClient.HttpClient, (c) => Effect.exit(Effect.scoped(c.post(`${server.url}/b`, { body: body() as any }))))
        )
        expect(failureOf(exit)._tag).toBe("RequestBodyError")
        expect(server.connections()).toBe(0)
      }))

    it.scopedLive(`HttpConnection: ${name} → RequestBodyError, no connection`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        const exit = yield* watchdog(
          Effect.flatMap(HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "3 seconds" }), (conn) =>
            Effect.exit(conn.request("POST", "/b", { body: body() as any }))
          ).pipe(Effect.scoped, Effect.provide(Transport.layer))
        )
        expect(failureOf(exit)._tag).toBe("RequestBodyError")
        expect(server.connections()).toBe(0)
      }))
  }
})

describe("ArrayBuffer and other views are sent as their bytes (the encoder frames them so)", () => {
  for (const [name, body] of BYTE_BODIES) {
    it.scopedLive(`pooled client: ${name} body is sent with its Content-Length`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        const exit = yield* withClient(
          Effect.flatMap(HttpClient.HttpClient, (c) => Effect.exit(Effect.scoped(Effect.flatMap(c.post(`${server.url}/b`, { body: body() as any }), (r) => r.text))))
        )
        expect(Exit.isSuccess(exit) ? "sent" : String(failureOf(exit)._tag)).toBe("sent")
        expect(server.heads()[0]).toContain("\r\nContent-Length: 2\r\n")
        expect(server.bodies()[0]).toBe("hi")
      }))

    it.scopedLive(`HttpConnection: ${name} body is sent with its Content-Length`, () =>
      Effect.gen(function* () {
        const server = yield* headEcho()
        const exit = yield* watchdog(
          Effect.flatMap(HttpConnection.make({ host: "127.0.0.1", port: server.port, timeout: "3 seconds" }), (conn) =>
            Effect.exit(Effect.zipRight(conn.request("POST", "/b", { body: body() as any }), Effect.flatMap(conn.getResponse, (r) => r.read())))
          ).pipe(Effect.scoped, Effect.provide(Transport.layer))
        )
        expect(Exit.isSuccess(exit) ? "sent" : String(failureOf(exit)._tag)).toBe("sent")
        expect(server.heads()[0]).toContain("\r\nContent-Length: 2\r\n")
        expect(server.bodies()[0]).toBe("hi")
      }))
  }
})

describe("a chunk source that yields a non-chunk", () => {
  it.scopedLive("generator yielding a number: RequestBodyError (not a defect); the socket is not reused", () =>
    Effect.gen(function* () {
      const server = yield* headEcho()
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          function* body(): Generator<unknown> {
            yield "a"
            yield 1
          }
          const exit = yield* Effect.exit(Effect.scoped(c.post(`${server.url}/g`, { body: body() as any })))
          expect(failureOf(exit)._tag).toBe("RequestBodyError")
          const text = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/after`), (r) => r.text))
          expect(text.startsWith("GET /after HTTP/1.1\r\n")).toBe(true)
        })
      )
      // The half-sent request's socket was closed: the GET went on a new one.
      expect(server.connections()).toBe(2)
    }))
})

