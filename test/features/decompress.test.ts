/**
 * Issue 10: opt-in response decompression (`decompress: true`): gzip, deflate (zlib and raw),
 * br; Accept-Encoding sent unless the caller set one; bounds on decoded bytes (a 1 GiB gzip bomb
 * stops at maxBodySize with a bounded heap); corrupt data → DecompressionError; the platform
 * layer through the client's options.
 */
import { HttpClient as PlatformClient } from "@effect/platform"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Stream } from "effect"
import type * as http from "node:http"
import * as zlib from "node:zlib"
import { HttpClient, PlatformHttpClient, type Http1Error } from "../../src/index.js"
import { eventually, httpServer } from "../helpers/servers.js"
import { failureOf, withClient } from "../issue8/support.js"

const TEXT = "hello, décompressed world! ".repeat(2000)
const PLAIN = Buffer.from(TEXT, "utf8")
const bodies: Record<string, { readonly encoding: string; readonly bytes: Buffer }> = {
  gzip: { encoding: "gzip", bytes: zlib.gzipSync(PLAIN) },
  "x-gzip": { encoding: "x-gzip", bytes: zlib.gzipSync(PLAIN) },
  deflate: { encoding: "deflate", bytes: zlib.deflateSync(PLAIN) },
  "deflate-raw": { encoding: "deflate", bytes: zlib.deflateRawSync(PLAIN) },
  br: { encoding: "br", bytes: zlib.brotliCompressSync(PLAIN) }
}

/** A gzip of 1 GiB of zeros, built incrementally (about 1 MiB; the test never holds 1 GiB). */
let bomb: Buffer = Buffer.alloc(0)
beforeAll(async () => {
  const gz = zlib.createGzip({ level: 9 })
  const out: Array<Buffer> = []
  gz.on("data", (c: Buffer) => out.push(c))
  const zero = Buffer.alloc(1 << 20)
  for (let i = 0; i < 1024; i++) if (!gz.write(zero)) await new Promise((r) => gz.once("drain", r))
  await new Promise((r) => {
    gz.once("end", r)
    gz.end()
  })
  bomb = Buffer.concat(out)
}, 60_000)

/** Seen `Accept-Encoding` of each request, in order. */
const seen: Array<string | undefined> = []

const handler: http.RequestListener = (req, res) => {
  seen.push(req.headers["accept-encoding"])
  const path = (req.url ?? "/").slice(1)
  const known = bodies[path]
  if (known !== undefined) {
    res.writeHead(200, { "content-encoding": known.encoding, "content-length": known.bytes.length })
    // In pieces, so the decoder is fed several slices.
    const b = known.bytes
    res.write(b.subarray(0, 7))
    setTimeout(() => res.end(b.subarray(7)), 5)
    return
  }
  switch (path) {
    case "plain":
      res.writeHead(200, { "content-length": PLAIN.length })
      return res.end(PLAIN)
    case "chunked-gzip":
      res.writeHead(200, { "content-encoding": "gzip" })
      return res.end(bodies.gzip!.bytes)
    case "corrupt": {
      const b = Buffer.from(bodies.gzip!.bytes)
      b.fill(0x55, 20, 60)
      res.writeHead(200, { "content-encoding": "gzip", "content-length": b.length })
      return res.end(b)
    }
    case "not-gzip":
      res.writeHead(200, { "content-encoding": "gzip", "content-length": PLAIN.length })
      return res.end(PLAIN)
    case "truncated": {
      const b = bodies.gzip!.bytes.subarray(0, bodies.gzip!.bytes.length - 30)
      res.writeHead(200, { "content-encoding": "gzip", "content-length": b.length })
      return res.end(b)
    }
    case "empty-gzip":
      res.writeHead(200, { "content-encoding": "gzip", "content-length": 0 })
      return res.end()
    case "no-content":
      res.writeHead(204, { "content-encoding": "gzip" })
      return res.end()
    case "zstd":
      res.writeHead(200, { "content-encoding": "zstd", "content-length": 4 })
      return res.end("abcd")
    case "redirect":
      res.writeHead(302, { location: "/gzip", "content-length": 0 })
      return res.end()
    case "bomb":
      res.writeHead(200, { "content-encoding": "gzip", "content-length": bomb.length })
      return res.end(bomb)
    default:
      res.writeHead(404, { "content-length": 0 })
      return res.end()
  }
}

const decoded = (r: HttpClient.ClientResponse) => r.text

describe("decompress: decoding by Content-Encoding", () => {
  for (const name of Object.keys(bodies)) {
    it.scopedLive(`${name}: decoded; Accept-Encoding: gzip, deflate, br sent; headers as received`, () =>
      Effect.gen(function* () {
        const server = yield* httpServer(handler)
        seen.length = 0
        yield* withClient(
          Effect.gen(function* () {
            const c = yield* HttpClient.HttpClient
            const [text, encoding, length] = yield* Effect.scoped(
              Effect.flatMap(c.get(`${server.url}/${name}`), (r) => Effect.map(decoded(r), (t) => [t, r.getHeader("content-encoding"), r.getHeader("content-length")] as const))
            )
            expect(text).toBe(TEXT)
            // As fetch: the head says what was on the wire.
            expect(encoding).toBe(bodies[name]!.encoding)
            expect(Number(length)).toBe(bodies[name]!.bytes.length)
            // The connection went back to the pool, reusable.
            const again = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/${name}`), (r) => r.bytes))
            expect(Buffer.from(again).equals(PLAIN)).toBe(true)
            expect(server.connections()).toBe(1)
          }),
          { decompress: true }
        )
        expect(seen).toEqual(["gzip, deflate, br", "gzip, deflate, br"])
      }))
  }

  it.scopedLive("off by default: `Accept-Encoding: identity` as before, the body as sent; a request's own `decompress` wins either way", () =>
    Effect.gen(function* () {
      const server = yield* httpServer(handler)
      seen.length = 0
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const raw = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/gzip`), (r) => r.bytes))
          expect(Buffer.from(raw).equals(bodies.gzip!.bytes)).toBe(true)
          const on = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/gzip`, { decompress: true }), (r) => r.text))
          expect(on).toBe(TEXT)
        })
      )
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const raw = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/gzip`, { decompress: false }), (r) => r.bytes))
          expect(Buffer.from(raw).equals(bodies.gzip!.bytes)).toBe(true)
        }),
        { decompress: true }
      )
      expect(seen).toEqual(["identity", "gzip, deflate, br", "identity"])
    }))

  it.scopedLive("the caller's Accept-Encoding is kept (any case)", () =>
    Effect.gen(function* () {
      const server = yield* httpServer(handler)
      seen.length = 0
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const text = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/plain`, { headers: [["accept-ENCODING", "identity"]] }), (r) => r.text))
          expect(text).toBe(TEXT)
        }),
        { decompress: true }
      )
      expect(seen).toEqual(["identity"])
    }))

  it.scopedLive("stream, read(n) and readInto hand out decoded bytes; chunked framing too", () =>
    Effect.gen(function* () {
      const server = yield* httpServer(handler)
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const chunks = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/chunked-gzip`), (r) => Stream.runCollect(r.stream)))
          expect(Buffer.concat(Chunk.toArray(chunks)).toString("utf8")).toBe(TEXT)
          expect(Chunk.size(chunks)).toBeGreaterThan(1)
          yield* Effect.scoped(
            Effect.gen(function* () {
              const r = yield* c.get(`${server.url}/br`)
              const head = yield* r.read(10)
              expect(Buffer.from(head).equals(PLAIN.subarray(0, 10))).toBe(true)
              const buf = new Uint8Array(5)
              expect(yield* r.readInto(buf)).toBe(5)
              expect(Buffer.from(buf).equals(PLAIN.subarray(10, 15))).toBe(true)
              const rest = yield* r.read()
              expect(Buffer.from(rest).length).toBe(PLAIN.length - 15)
              expect(yield* r.read()).toEqual(new Uint8Array(0))
            })
          )
          expect(server.connections()).toBe(1)
        }),
        { decompress: true }
      )
    }))

  it.scopedLive("no body to decode: HEAD, 204, an empty gzip body, an unknown coding (passed as it is)", () =>
    Effect.gen(function* () {
      const server = yield* httpServer(handler)
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          expect((yield* Effect.scoped(Effect.flatMap(c.head(`${server.url}/gzip`), (r) => r.bytes))).length).toBe(0)
          expect((yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/no-content`), (r) => r.bytes))).length).toBe(0)
          expect(yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/empty-gzip`), (r) => r.text))).toBe("")
          expect(yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/zstd`), (r) => r.text))).toBe("abcd")
        }),
        { decompress: true }
      )
    }))

  it.scopedLive("redirects: the final response is decoded", () =>
    Effect.gen(function* () {
      const server = yield* httpServer(handler)
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const r = yield* Effect.scoped(Effect.flatMap(c.get(`${server.url}/redirect`), (r) => Effect.map(r.text, (t) => [t, r.redirects] as const)))
          expect(r).toEqual([TEXT, 1])
        }),
        { decompress: true, followRedirects: 2 }
      )
    }))
})

describe("decompress: corrupt data and bombs", () => {
  for (const path of ["corrupt", "not-gzip", "truncated"]) {
    it.scopedLive(`${path} → DecompressionError (typed, with host and port); the socket is closed`, () =>
      Effect.gen(function* () {
        const server = yield* httpServer(handler)
        yield* withClient(
          Effect.gen(function* () {
            const c = yield* HttpClient.HttpClient
            for (const read of [(r: HttpClient.ClientResponse) => r.text, (r: HttpClient.ClientResponse) => Stream.runDrain(r.stream)]) {
              const exit = yield* Effect.exit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/${path}`), read)))
              const e = failureOf(exit)
              expect(e._tag).toBe("DecompressionError")
              if (e._tag === "DecompressionError") expect(e.encoding).toBe("gzip")
              expect(e.message).toContain(`127.0.0.1:${server.port}`)
            }
            // The truncated body was read to its end on the wire; the others were given up.
            if (path !== "truncated") yield* eventually(() => server.openConnections() === 0, "sockets closed")
          }),
          { decompress: true }
        )
      }))
  }

  it.scopedLive("a gzip of 1 GiB of zeros: bytes → BodyTooLarge at maxBodySize, decoded bytes counted, heap bounded", () =>
    Effect.gen(function* () {
      expect(bomb.length).toBeLessThan(2 * 1024 * 1024)
      const server = yield* httpServer(handler)
      const LIMIT = 8 * 1024 * 1024
      const before = process.memoryUsage()
      let peak = 0
      const sample = setInterval(() => {
        const m = process.memoryUsage()
        peak = Math.max(peak, m.heapUsed + m.arrayBuffers - before.heapUsed - before.arrayBuffers)
      }, 5)
      yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(sample)))
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const exit = yield* Effect.exit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/bomb`), (r) => r.bytes)))
          const e = failureOf(exit) as Http1Error.Http1Error
          expect(e._tag).toBe("BodyTooLarge")
          if (e._tag === "BodyTooLarge") {
            expect(e.what).toBe("maxBodySize")
            expect(e.limit).toBe(LIMIT)
            expect(e.received).toBeGreaterThan(LIMIT)
            expect(e.received).toBeLessThan(LIMIT + 1024 * 1024)
          }
          yield* eventually(() => server.openConnections() === 0, "the socket was closed")
          // stream / drain: maxStreamedBodySize on decoded bytes.
          const streamed = yield* Effect.exit(Effect.scoped(Effect.flatMap(c.get(`${server.url}/bomb`), (r) => Stream.runDrain(r.stream))))
          const s = failureOf(streamed)
          expect(s._tag).toBe("BodyTooLarge")
          if (s._tag === "BodyTooLarge") expect([s.what, s.limit]).toEqual(["maxStreamedBodySize", 4 * LIMIT])
        }),
        { decompress: true, maxBodySize: LIMIT, maxStreamedBodySize: 4 * LIMIT }
      )
      const m = process.memoryUsage()
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - before.heapUsed - before.arrayBuffers)
      // 8 MiB collected (plus its concatenation) and zlib's buffers: far from 1 GiB.
      expect(peak).toBeLessThan(96 * 1024 * 1024)
    }), 60_000)

  it.scopedLive("an interrupted decoded stream gives the socket up", () =>
    Effect.gen(function* () {
      const server = yield* httpServer(handler)
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          let got = 0
          const fiber = yield* Effect.fork(
            Effect.scoped(Effect.flatMap(c.get(`${server.url}/bomb`), (r) => Stream.runForEach(r.stream, (b) => Effect.sync(() => (got += b.length)))))
          )
          yield* eventually(() => got > 1024 * 1024, "some decoded bytes")
          const exit = yield* Fiber.interrupt(fiber)
          expect(Exit.isInterrupted(exit)).toBe(true)
          yield* eventually(() => server.openConnections() === 0, "the socket was closed")
          expect(c.stats().reduce((n, s) => n + s.open, 0)).toBe(0)
        }),
        { decompress: true }
      )
    }), 30_000)
})

/** Every gunzip stream that was fed data, to check each one is destroyed (zlib's memory freed). */
const gunzips = new Set<zlib.Gunzip>()
const watchGunzips = Effect.acquireRelease(
  Effect.sync(() => {
    const proto = zlib.Gunzip.prototype as unknown as { _transform: (...args: Array<unknown>) => void }
    const original = proto._transform
    proto._transform = function(this: zlib.Gunzip, ...args: Array<unknown>) {
      gunzips.add(this)
      return original.apply(this, args)
    }
    gunzips.clear()
    return original
  }),
  (original) => Effect.sync(() => {
    delete (zlib.Gunzip.prototype as unknown as { _transform?: unknown })._transform
    if ((zlib.Gunzip.prototype as unknown as { _transform: unknown })._transform !== original) {
      ;(zlib.Gunzip.prototype as unknown as { _transform: unknown })._transform = original
    }
  })
)

describe("decompress: zlib is released on every exit", () => {
  it.scopedLive("end, BodyTooLarge, DecompressionError, interruption, a scope closed mid-body, close", () =>
    Effect.gen(function* () {
      yield* watchGunzips
      const server = yield* httpServer(handler)
      const allDestroyed = (n: number) => {
        expect(gunzips.size).toBe(n)
        for (const z of gunzips) expect(z.destroyed).toBe(true)
      }
      yield* withClient(
        Effect.gen(function* () {
          const c = yield* HttpClient.HttpClient
          const get = (path: string) => c.get(`${server.url}/${path}`)
          yield* Effect.scoped(Effect.flatMap(get("gzip"), (r) => r.text))
          allDestroyed(1)
          yield* Effect.exit(Effect.scoped(Effect.flatMap(get("bomb"), (r) => r.bytes)))
          allDestroyed(2)
          yield* Effect.exit(Effect.scoped(Effect.flatMap(get("corrupt"), (r) => r.bytes)))
          allDestroyed(3)
          const fiber = yield* Effect.fork(Effect.scoped(Effect.flatMap(get("bomb"), (r) => Stream.runDrain(r.stream))))
          yield* eventually(() => gunzips.size === 4, "decoding started")
          yield* Fiber.interrupt(fiber)
          allDestroyed(4)
          // Some bytes read, then the scope closes: the request's finalizer frees zlib.
          yield* Effect.scoped(Effect.flatMap(get("bomb"), (r) => r.read(100)))
          allDestroyed(5)
          yield* Effect.scoped(Effect.flatMap(get("bomb"), (r) => Effect.zipRight(r.read(100), r.close)))
          allDestroyed(6)
          yield* eventually(() => server.openConnections() === 0, "the bomb sockets were closed")
        }),
        { decompress: true, maxBodySize: 4 * 1024 * 1024 }
      )
    }), 60_000)
})

describe("decompress: the platform layer", () => {
  it.scopedLive("PlatformHttpClient.layerWith({ decompress: true }) decodes (text, json via stream)", () =>
    Effect.gen(function* () {
      const server = yield* httpServer(handler)
      seen.length = 0
      const text = yield* Effect.gen(function* () {
        const client = yield* PlatformClient.HttpClient
        const res = yield* client.get(`${server.url}/gzip`)
        const text = yield* res.text
        const streamed = yield* Effect.flatMap(client.get(`${server.url}/br`), (r) => Stream.runCollect(r.stream))
        expect(Buffer.concat(Chunk.toArray(streamed)).toString("utf8")).toBe(TEXT)
        return text
      }).pipe(Effect.scoped, Effect.provide(PlatformHttpClient.layerWith({ decompress: true })))
      expect(text).toBe(TEXT)
      expect(seen).toEqual(["gzip, deflate, br", "gzip, deflate, br"])
    }))
})
