/**
 * Issue 8, item 1: responses that platform combinators (or callers) drop unread must give their
 * pooled connection back, or the pool (16 per origin) runs dry and the next request waits forever.
 *
 * Every test runs against its own node:http server on 127.0.0.1 that counts its open sockets, is
 * bounded by a watchdog (`Effect.timeout`) and a vitest timeout, and checks at the end that the
 * server sees no socket left once the client layer's scope has closed.
 */
import { HttpClient, HttpClientError, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import type * as http from "node:http"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import * as OurClient from "../../src/HttpClient.js"
import * as PlatformHttpClient from "../../src/PlatformHttpClient.js"
import { eventually, httpServer, type ServerInfo } from "../helpers/servers.js"

const POOL = 16
const CALLS = 40
const WATCHDOG = "10 seconds"
const VITEST_TIMEOUT = 30_000

const BIG = Buffer.alloc(200_000, 0x62)

const pattern = (n: number): Buffer => {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff
  return b
}

/** Routes: small bodies (length-framed and chunked), a big one, and bodies that stall. */
const handler = (stalled: Array<http.ServerResponse>): http.RequestListener => (req, res) => {
  const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname
  req.resume()
  if (path === "/404") res.writeHead(404, { "content-type": "text/plain" }).end("not found")
  else if (path === "/503") res.writeHead(503, { "content-type": "text/plain" }).end("try again later")
  else if (path === "/ok") res.writeHead(200, { "content-type": "text/plain" }).end("ok body")
  else if (path === "/chunked-404") {
    res.writeHead(404, { "content-type": "text/plain" })
    res.write("not ")
    res.end("found")
  } else if (path === "/big-404") res.writeHead(404, { "content-length": String(BIG.length) }).end(BIG)
  else if (path === "/late") {
    // A small body that arrives a little after the head.
    res.writeHead(200, { "content-length": "4" })
    res.flushHeaders()
    setTimeout(() => res.end("late"), 30)
  } else if (path === "/late-chunked") {
    // The same, chunked: read ahead in the background.
    res.writeHead(200, { "content-type": "text/plain" })
    res.flushHeaders()
    setTimeout(() => res.end("late"), 30)
  } else if (path === "/big-slow") {
    // A big body that stalls after its first kilobyte.
    res.writeHead(200, { "content-length": "100000" })
    res.write(Buffer.alloc(1000, 0x61))
    stalled.push(res)
  } else if (path === "/small-stall") {
    // A small body that stalls: read ahead, but never complete.
    res.writeHead(200, { "content-length": "100" })
    res.write("only ten b")
    stalled.push(res)
  } else if (path === "/ticks") {
    // An event stream: a small piece every 20 ms, ten of them.
    res.writeHead(200, { "content-type": "text/event-stream" })
    let n = 0
    const timer = setInterval(() => {
      n++
      if (n < 10) res.write(`tick ${n}\n`)
      else {
        clearInterval(timer)
        res.end(`tick ${n}\n`)
      }
    }, 20)
    res.on("close", () => clearInterval(timer))
  } else if (path === "/pattern") {
    // A body of `n` bytes with a pattern, length-framed or chunked (`?chunked`), in pieces.
    const u = new URL(req.url ?? "/", "http://127.0.0.1")
    const body = pattern(Number(u.searchParams.get("n") ?? "1000"))
    res.writeHead(200, u.searchParams.has("chunked") ? {} : { "content-length": String(body.length) })
    const piece = 7_000
    for (let i = 0; i < body.length; i += piece) res.write(body.subarray(i, i + piece))
    res.end()
  } else if (path === "/stall") stalled.push(res)
  else res.writeHead(404).end()
}

/** Platform's client and ours (for `stats()`) on one pool of `POOL` connections per origin. */
const clientLayer = PlatformHttpClient.layerFromClient.pipe(
  Layer.provideMerge(OurClient.layerWith({ maxConnectionsPerOrigin: POOL }))
)

const poolStats = Effect.map(OurClient.HttpClient, (c) => ({
  open: c.stats().reduce((n, s) => n + s.open, 0),
  idle: c.stats().reduce((n, s) => n + s.idle, 0),
  pending: c.stats().reduce((n, s) => n + s.pending, 0)
}))

/**
 * Runs `program` on a fresh server and client layer; after the layer's scope closed, the server
 * must see every socket closed.
 */
const withServer = <A, E>(
  program: (
    base: string,
    server: ServerInfo,
    stalled: Array<http.ServerResponse>
  ) => Effect.Effect<A, E, HttpClient.HttpClient | OurClient.HttpClient>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const stalled: Array<http.ServerResponse> = []
      const server = yield* httpServer(handler(stalled))
      const base = `http://127.0.0.1:${server.port}`
      const result = yield* program(base, server, stalled).pipe(
        Effect.timeout(WATCHDOG),
        Effect.provide(clientLayer)
      )
      yield* eventually(() => server.openConnections() === 0, "the server to see every socket closed")
      return result
    })
  )

const expectStatusError = (e: unknown, status: number) => {
  expect((e as { _tag?: string })._tag).toBe("ResponseError")
  const re = e as HttpClientError.ResponseError
  expect(re.reason).toBe("StatusCode")
  expect(re.response.status).toBe(status)
}

/** A `gc()` for this process (the flag can be set at run time; `vm` hands out the function). */
const forceGc = (() => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
})()

describe("PlatformHttpClient: dropped responses give their connection back", () => {
  it.live(
    `${CALLS} filterStatusOk 404s in a row, no scope: all complete on a pool of ${POOL}`,
    () =>
      withServer((base, server) =>
        Effect.gen(function* () {
          const client = HttpClient.filterStatusOk(yield* HttpClient.HttpClient)
          for (let i = 0; i < CALLS; i++) expectStatusError(yield* Effect.flip(client.get(`${base}/404`)), 404)
          // A body that came with its head is read before the response is handed out: one
          // connection serves every request.
          expect(server.connections()).toBe(1)
          // The body of a dropped response is still there for whoever holds the error.
          const e = yield* Effect.flip(client.get(`${base}/404`))
          expect(e._tag === "ResponseError" ? yield* e.response.text : "").toBe("not found")
          const stats = yield* poolStats
          expect(stats.open).toBeLessThanOrEqual(POOL)
          expect(stats.pending).toBe(0)
          expect(server.openConnections()).toBeLessThanOrEqual(POOL)
          // Nothing is in use: every open connection is idle in the pool.
          expect(yield* eventually(() => server.openConnections() <= stats.idle, "no socket beyond the idle ones")).toBe(undefined)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    `${CALLS} filterStatusOk 404s with chunked bodies, no scope: all complete`,
    () =>
      withServer((base) =>
        Effect.gen(function* () {
          const client = HttpClient.filterStatusOk(yield* HttpClient.HttpClient)
          for (let i = 0; i < CALLS; i++) expectStatusError(yield* Effect.flip(client.get(`${base}/chunked-404`)), 404)
          const e = yield* Effect.flip(client.get(`${base}/chunked-404`))
          expect(e._tag === "ResponseError" ? yield* e.response.text : "").toBe("not found")
          expect((yield* poolStats).open).toBeLessThanOrEqual(POOL)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    `${CALLS} retryTransient calls on 503s (times: 1) complete, with and without filterStatusOk`,
    () =>
      withServer((base, server) =>
        Effect.gen(function* () {
          const platform = yield* HttpClient.HttpClient
          // 503 as a ResponseError: retried once, then the error.
          const failing = platform.pipe(HttpClient.filterStatusOk, HttpClient.retryTransient({ times: 1 }))
          for (let i = 0; i < CALLS; i++) expectStatusError(yield* Effect.flip(failing.get(`${base}/503`)), 503)
          // 503 as a response: repeated once, the last one returned (and dropped here).
          const repeating = platform.pipe(HttpClient.retryTransient({ times: 1 }))
          for (let i = 0; i < CALLS; i++) expect((yield* repeating.get(`${base}/503`)).status).toBe(503)
          const stats = yield* poolStats
          expect(stats.open).toBeLessThanOrEqual(POOL)
          expect(server.connections()).toBeLessThanOrEqual(POOL)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    `${CALLS} execute without Effect.scoped, bodies never read: all complete`,
    () =>
      withServer((base, server) =>
        Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          for (let i = 0; i < CALLS; i++) {
            const res = yield* client.execute(HttpClientRequest.get(`${base}/ok`))
            expect(res.status).toBe(200)
          }
          const stats = yield* poolStats
          expect(stats.open).toBeLessThanOrEqual(POOL)
          expect(server.connections()).toBeLessThanOrEqual(POOL)
          // The adapter's JSDoc example: filterStatusOk and retryTransient, body read at the end.
          const example = client.pipe(HttpClient.filterStatusOk, HttpClient.retryTransient({ times: 3 }))
          for (let i = 0; i < CALLS; i++) expect(Exit.isFailure(yield* Effect.exit(example.get(`${base}/503`)))).toBe(true)
          expect(yield* Effect.flatMap(example.get(`${base}/ok`), (r) => r.text)).toBe("ok body")
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "dropped responses whose bodies cannot be read ahead are closed once garbage-collected",
    () =>
      withServer((base, server) =>
        Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          // Neither this fiber nor anything the adapter registered (scopes, abort listener, the
          // read-ahead fiber) may keep the response: big bodies, and a small one that stalls.
          yield* Effect.asVoid(client.get(`${base}/big-slow`))
          yield* Effect.asVoid(Effect.flip(HttpClient.filterStatusOk(client).get(`${base}/big-404`)))
          yield* Effect.asVoid(client.get(`${base}/small-stall`))
          expect(server.openConnections()).toBe(3)
          expect((yield* poolStats).idle).toBe(0)
          let open = server.openConnections()
          const deadline = Date.now() + 5_000
          while (open > 0 && Date.now() < deadline) {
            forceGc()
            yield* Effect.sleep("20 millis")
            open = server.openConnections()
          }
          expect(open).toBe(0)
          expect((yield* poolStats).open).toBe(0)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "interrupting a request that waits for its head closes the socket (server side)",
    () =>
      withServer((base, server, stalled) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.fork((yield* HttpClient.HttpClient).get(`${base}/stall`))
          yield* eventually(() => stalled.length === 1, "the server to get the request")
          expect(server.openConnections()).toBe(1)
          expect(Exit.isInterrupted(yield* Fiber.interrupt(fiber))).toBe(true)
          yield* eventually(() => server.openConnections() === 0, "the socket to be closed")
          expect((yield* poolStats).open).toBe(0)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "interrupting a body read closes the socket (server side)",
    () =>
      withServer((base, server) =>
        Effect.gen(function* () {
          const res: HttpClientResponse.HttpClientResponse = yield* (yield* HttpClient.HttpClient).get(`${base}/big-slow`)
          const fiber = yield* Effect.fork(res.arrayBuffer)
          yield* Effect.sleep("30 millis")
          yield* Fiber.interrupt(fiber)
          yield* eventually(() => server.openConnections() === 0, "the socket to be closed")
          expect((yield* poolStats).open).toBe(0)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "withScope closed on an unread response: a small body that arrives quickly is drained and the connection kept; a big one is closed",
    () =>
      withServer((base, server) =>
        Effect.gen(function* () {
          const client = HttpClient.withScope(yield* HttpClient.HttpClient)
          for (const path of ["/late", "/late-chunked"]) {
            const scope = yield* Scope.make()
            const late = yield* client.get(`${base}${path}`).pipe(Scope.extend(scope))
            expect(late.status).toBe(200)
            // The head came without its body: the connection is still in use.
            expect((yield* poolStats).idle).toBe(0)
            yield* Scope.close(scope, Exit.void)
            expect(yield* poolStats).toEqual({ open: 1, idle: 1, pending: 0 })
            expect(server.openConnections()).toBe(1)
            // and the body drained is still there
            expect(yield* late.text).toBe("late")
          }

          // The big body reuses that connection; given up, it is closed.
          const scope2 = yield* Scope.make()
          const big = yield* client.get(`${base}/big-slow`).pipe(Scope.extend(scope2))
          expect(big.status).toBe(200)
          expect(server.connections()).toBe(1)
          yield* Scope.close(scope2, Exit.void)
          expect((yield* poolStats).open).toBe(0)
          yield* eventually(() => server.openConnections() === 0, "the big response's socket to be closed")
          expect(Exit.isFailure(yield* Effect.exit(big.text))).toBe(true)
        })
      ),
    VITEST_TIMEOUT
  )
})

describe("PlatformHttpClient: bodies read ahead", () => {
  it.live(
    "bodies are exact however they are read: at once, late, streamed; length-framed and chunked; under and over 64 KiB",
    () =>
      withServer((base) =>
        Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          for (const n of [0, 1, 60_000, 65_536, 65_537, 200_000]) {
            const expected = pattern(n)
            for (const framing of ["", "&chunked"]) {
              const url = `${base}/pattern?n=${n}${framing}`
              const now = Buffer.from(yield* Effect.flatMap(client.get(url), (r) => r.arrayBuffer))
              expect(now.equals(expected)).toBe(true)
              // read after the read-ahead had time to run (and to stop at 64 KiB)
              const res = yield* client.get(url)
              yield* Effect.sleep("30 millis")
              expect(Buffer.from(yield* res.arrayBuffer).equals(expected)).toBe(true)
              const later = yield* client.get(url)
              yield* Effect.sleep("30 millis")
              const chunks = yield* Stream.runCollect(later.stream)
              expect(Buffer.concat(Chunk.toReadonlyArray(chunks)).equals(expected)).toBe(true)
            }
          }
          // Everything was read: every connection is idle again.
          const stats = yield* poolStats
          expect(stats.open).toBe(stats.idle)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "a chunked stream is still delivered as it arrives (reading ahead does not hold it back)",
    () =>
      withServer((base) =>
        Effect.gen(function* () {
          const res = yield* (yield* HttpClient.HttpClient).get(`${base}/ticks`)
          const started = Date.now()
          const first = yield* Stream.runHead(res.stream)
          expect(first._tag).toBe("Some")
          expect(Buffer.from(first._tag === "Some" ? first.value : new Uint8Array()).toString()).toBe("tick 1\n")
          // well before the last tick (10 x 20 ms)
          expect(Date.now() - started).toBeLessThan(150)
          // taking only the head of a stream closes its connection
          expect((yield* poolStats).open).toBe(0)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "responses dropped in a long-lived scope leave no finalizer in it once their bodies were read ahead",
    () =>
      withServer((base) =>
        Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          const scope = yield* Scope.make()
          const finalizers = () => (scope as unknown as { state: { finalizers: Map<unknown, unknown> } }).state.finalizers.size
          for (let i = 0; i < CALLS; i++) {
            yield* Effect.asVoid(client.get(`${base}/ok`).pipe(Scope.extend(scope)))
            yield* Effect.asVoid(client.get(`${base}/chunked-404`).pipe(Scope.extend(scope)))
          }
          yield* eventually(() => finalizers() === 0, "the request scopes to leave the long-lived scope")
          yield* Scope.close(scope, Exit.void)
          const stats = yield* poolStats
          expect(stats.open).toBe(stats.idle)
        })
      ),
    VITEST_TIMEOUT
  )
})
