/**
 * Issue 10: the connection's `HttpResponse` and the pooled client's `ClientResponse` have the
 * same read methods (`json`, `text`, `bytes`, `stream`, `readInto`, `getHeader`) with the same
 * bounds; `Transport.mock.json` / `mock.text` build whole replies; the Schema decoders of
 * `HttpResponse` work on both responses.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, ParseResult, Schema, Stream, TestClock } from "effect"
import { HttpClient, HttpConnection, HttpResponse, Transport } from "../../src/index.js"
import { failureOf } from "../issue8/support.js"

/** Bodies the readers are checked against: UTF-8 text with multi-byte characters. */
const ITEM = { id: 7, name: "crème brûlée ☕" }

type Readable = HttpResponse.HttpResponse | HttpClient.ClientResponse

/** Both kinds of response, from the same scripted peer: each `use` reads one response. */
const viaConnection = <A, E>(replies: ReadonlyArray<Transport.MockReplyInput>, use: (r: Readable) => Effect.Effect<A, E>, options?: Partial<HttpConnection.Options>) =>
  Effect.gen(function* () {
    const conn = yield* HttpConnection.make({ host: "api.test", ...options })
    yield* conn.request("GET", "/item")
    return yield* use(yield* conn.getResponse)
  }).pipe(Effect.scoped, Effect.provide(Transport.layerMock(replies)))

const viaClient = <A, E>(replies: ReadonlyArray<Transport.MockReplyInput>, use: (r: Readable) => Effect.Effect<A, E>, options?: HttpClient.Options) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    return yield* Effect.scoped(Effect.flatMap(client.get("http://api.test/item"), use))
  }).pipe(Effect.provide(HttpClient.layerWithoutTransportWith(options ?? {}).pipe(Layer.provide(Transport.layerMock(replies)))))

const both = [
  { name: "HttpConnection's HttpResponse", run: viaConnection },
  { name: "HttpClient's ClientResponse", run: viaClient }
] as const

describe("uniform read methods", () => {
  for (const { name, run } of both) {
    it.effect(`${name}: json, text, bytes, stream, readInto, getHeader`, () =>
      Effect.gen(function* () {
        const reply = Transport.mock.json(200, ITEM, { "X-Request-Id": "42" })
        const bodyText = JSON.stringify(ITEM)
        const bodyBytes = Buffer.from(bodyText, "utf8")
        expect(yield* run([reply], (r) => r.json)).toEqual(ITEM)
        expect(yield* run([reply], (r) => r.text)).toBe(bodyText)
        expect(Buffer.from(yield* run([reply], (r) => r.bytes)).equals(bodyBytes)).toBe(true)
        const chunks = yield* run([Transport.mock.json(200, ITEM, undefined, { splitEvery: 5 })], (r) => Stream.runCollect(r.stream))
        expect(Buffer.concat(Chunk.toArray(chunks)).equals(bodyBytes)).toBe(true)
        const [n, buf] = yield* run([reply], (r) => {
          const buf = new Uint8Array(4)
          return Effect.map(r.readInto(buf), (n) => [n, buf] as const)
        })
        expect(n).toBe(4)
        expect(Buffer.from(buf).toString("latin1")).toBe(bodyText.slice(0, 4))
        const headers = yield* run([reply], (r) =>
          Effect.succeed([r.getHeader("x-request-id"), r.getHeader("content-length"), r.getHeader("x-missing"), r.getHeader("x-missing", "d")]))
        // Content-Length counts UTF-8 bytes, not characters.
        expect(headers).toEqual(["42", String(bodyBytes.length), undefined, "d"])
        expect(bodyBytes.length).toBeGreaterThan(bodyText.length)
      }))

    it.effect(`${name}: json, text and bytes are bounded by maxBodySize; json of a non-JSON body is DecodeError`, () =>
      Effect.gen(function* () {
        const big = Transport.mock.text(200, "x".repeat(2000))
        for (const read of [(r: Readable) => r.json, (r: Readable) => r.text, (r: Readable) => r.bytes]) {
          const e = failureOf(yield* Effect.exit(run([big], read, { maxBodySize: 1000 })))
          expect(e._tag).toBe("BodyTooLarge")
          if (e._tag === "BodyTooLarge") expect([e.limit, e.what]).toEqual([1000, "maxBodySize"])
        }
        const e = failureOf(yield* Effect.exit(run([Transport.mock.text(200, "not json")], (r) => r.json)))
        expect(e._tag).toBe("DecodeError")
      }))
  }
})

const Item = Schema.Struct({ id: Schema.Number, name: Schema.String })

describe("HttpResponse.schemaBodyJson / schemaJson / schemaNoBody / schemaHeaders", () => {
  for (const { name, run } of both) {
    it.effect(`${name}: decodes with a schema; a mismatch is a ParseError`, () =>
      Effect.gen(function* () {
        expect(yield* run([Transport.mock.json(200, ITEM)], HttpResponse.schemaBodyJson(Item))).toEqual(ITEM)
        const bad = yield* Effect.exit(run([Transport.mock.json(200, { id: "seven", name: 1 })], HttpResponse.schemaBodyJson(Item)))
        const e = failureOf(bad)
        expect(ParseResult.isParseError(e)).toBe(true)
        expect(String(e)).toContain("id")
        // Not JSON at all: DecodeError, not a ParseError.
        expect(failureOf(yield* Effect.exit(run([Transport.mock.text(200, "<html>")], HttpResponse.schemaBodyJson(Item))))._tag).toBe("DecodeError")

        const Reply = Schema.Union(
          Schema.Struct({ status: Schema.Literal(200), body: Item }),
          Schema.Struct({ status: Schema.Literal(404), headers: Schema.Struct({ "x-request-id": Schema.String }), body: Schema.Struct({ error: Schema.String }) })
        )
        expect(yield* run([Transport.mock.json(200, ITEM)], HttpResponse.schemaJson(Reply))).toEqual({ status: 200, body: ITEM })
        expect(yield* run([Transport.mock.json(404, { error: "gone" }, [["X-Request-Id", "9"]])], HttpResponse.schemaJson(Reply))).toEqual({
          status: 404,
          headers: { "x-request-id": "9" },
          body: { error: "gone" }
        })
        expect(ParseResult.isParseError(failureOf(yield* Effect.exit(run([Transport.mock.json(500, {})], HttpResponse.schemaJson(Reply)))))).toBe(true)

        const Created = Schema.Struct({ status: Schema.Literal(201), headers: Schema.Struct({ location: Schema.String }) })
        const created = yield* run([Transport.mock.text(201, "", { Location: "/items/7" })], (r) => HttpResponse.schemaNoBody(Created)(r))
        expect(created).toEqual({ status: 201, headers: { location: "/items/7" } })
        const Limits = Schema.Struct({ "x-ratelimit-remaining": Schema.NumberFromString })
        const limits = yield* run([Transport.mock.text(200, "", { "X-RateLimit-Remaining": "41" })], (r) => HttpResponse.schemaHeaders(Limits)(r))
        expect(limits).toEqual({ "x-ratelimit-remaining": 41 })
      }))
  }
})

describe("Transport.mock.json / mock.text", () => {
  it.effect("build whole replies: status line with reason, Content-Type unless given, Content-Length in UTF-8 bytes", () =>
    Effect.gen(function* () {
      const latin1 = (step: Transport.MockReply) => Buffer.from(step.body as Uint8Array).toString("latin1")
      expect(latin1(Transport.mock.text(503, "é", [["Retry-After", "1"]]))).toBe(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n\xc3\xa9"
      )
      expect(latin1(Transport.mock.json(201, [1], { "content-type": "application/problem+json" }))).toBe(
        "HTTP/1.1 201 Created\r\ncontent-type: application/problem+json\r\nContent-Length: 3\r\n\r\n[1]"
      )
      // A framing header given by the caller wins (for tests of broken servers).
      expect(latin1(Transport.mock.text(200, "abc", { "Content-Length": "10" }))).toBe(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\n\r\nabc"
      )
      // Delivery options as reply's.
      expect(Transport.mock.json(200, null, undefined, { splitEvery: 1, closeAfter: true })).toMatchObject({ _tag: "Reply", splitEvery: 1, closeAfter: true })
    }))
})

describe("retries with a Schedule under the TestClock", () => {
  // Under it.effect the clock is the TestClock: the backoff of HttpClient.retryPolicy waits on it,
  // so the test moves it with TestClock.adjust (or runs under it.live).
  it.effect("HttpClient.retryPolicy waits on the TestClock: TestClock.adjust lets the retries run", () =>
    Effect.gen(function* () {
      const peer = yield* Transport.MockPeer
      const client = yield* HttpClient.HttpClient
      const fiber = yield* Effect.fork(
        Effect.scoped(Effect.flatMap(client.get("http://api.test/items").pipe(Effect.retry(HttpClient.retryPolicy)), (r) => r.json))
      )
      // Two connects failed (ConnectError, retryable); the third waits for the backoff.
      yield* TestClock.adjust("10 millis")
      expect(peer.connectOptions().length).toBeLessThan(3)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(fiber)).toEqual([1, 2])
      expect(peer.connectOptions().length).toBe(3)
    }).pipe(
      Effect.provide(
        HttpClient.layerWithoutTransport.pipe(
          Layer.provideMerge(Transport.layerMock([Transport.mock.json(200, [1, 2])], { connectError: (attempt) => attempt <= 2 }))
        )
      )
    ))
})
