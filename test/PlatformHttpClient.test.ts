import { Cookies, HttpBody, HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Duration, Effect, Exit, Fiber, Layer, Option, Schema, Scope, Stream } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as OurClient from "../src/HttpClient.js"
import * as PlatformHttpClient from "../src/PlatformHttpClient.js"
import { encodeFormData } from "../src/platform/multipart.js"
import * as Transport from "../src/Transport.js"
import { eventually } from "./helpers/servers.js"

// ---------------------------------------------------------------------------------------------
// A loopback server with a few routes
// ---------------------------------------------------------------------------------------------

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

let server: http.Server
let base: string
const sockets = new Set<import("node:net").Socket>()
const seen: Array<Seen> = []
const flakyHits = new Map<string, number>()
const stalled: Array<http.ServerResponse> = []

const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Array<Buffer> = []
    req.on("data", (c: Buffer) => parts.push(c))
    req.on("end", () => resolve(Buffer.concat(parts)))
    req.on("error", reject)
  })

const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1")
  const body = await readBody(req)
  seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
  const path = url.pathname
  if (path === "/text") {
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("hello, wörld")
  } else if (path === "/json" || path === "/api/json") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ a: 1, path }))
  } else if (path === "/todo") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: 7, title: "write tests" }))
  } else if (path === "/echo") {
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        method: req.method,
        contentType: req.headers["content-type"] ?? null,
        contentLength: req.headers["content-length"] ?? null,
        transferEncoding: req.headers["transfer-encoding"] ?? null,
        body: body.toString("utf8")
      })
    )
  } else if (path === "/form") {
    // Parse with the runtime's own multipart parser, independently of our encoder.
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v)
    const form = await new Request("http://127.0.0.1/form", { method: "POST", headers, body }).formData()
    const fields: Record<string, unknown> = {}
    for (const [k, v] of form) {
      fields[k] = typeof v === "string" ? v : { name: v.name, type: v.type, text: await v.text() }
    }
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({ fields, contentLength: req.headers["content-length"] ?? null, bytes: body.length })
    )
  } else if (path.startsWith("/status/")) {
    res.writeHead(Number(path.slice(8)), { "content-type": "text/plain" }).end("status body")
  } else if (path.startsWith("/flaky/")) {
    // Destroys the first `n` connections that ask for this key, then answers.
    const n = Number(url.searchParams.get("n") ?? "2")
    const hits = (flakyHits.get(path) ?? 0) + 1
    flakyHits.set(path, hits)
    if (hits <= n) req.socket.destroy()
    else res.writeHead(200, { "content-type": "text/plain" }).end(`ok after ${hits}`)
  } else if (path === "/stall") {
    stalled.push(res) // never answered; destroyed in afterAll
  } else if (path === "/slow-body") {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "100000" })
    res.write(Buffer.alloc(1000, 0x61)) // then stalls mid-body
    stalled.push(res)
  } else if (path === "/cookies") {
    res.setHeader("set-cookie", ["a=1; Path=/", "b=two; HttpOnly"])
    res.setHeader("x-multi", ["x", "y"])
    res.writeHead(200, { "content-type": "text/plain" }).end("c")
  } else if (path === "/urlencoded") {
    res.writeHead(200, { "content-type": "application/x-www-form-urlencoded" }).end("a=1&b=2&b=3")
  } else if (path === "/multipart-response") {
    const form = new FormData()
    form.append("x", "1")
    const r = new Response(form)
    res.writeHead(200, { "content-type": r.headers.get("content-type")! }).end(Buffer.from(await r.arrayBuffer()))
  } else if (path === "/truncated") {
    res.writeHead(200, { "content-length": "100" })
    res.write("only a bit")
    setTimeout(() => req.socket.destroy(), 20)
  } else {
    res.writeHead(404).end()
  }
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    handler(req, res).catch(() => res.destroy())
  })
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const r of stalled) r.destroy()
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

/** Both services: platform's client on our pooled client, and ours for `stats()`. */
const bothLayer = (options?: OurClient.Options) =>
  PlatformHttpClient.layerFromClient.pipe(Layer.provideMerge(OurClient.layerWith(options ?? {})))

const openConnections = Effect.map(OurClient.HttpClient, (c) => c.stats().reduce((n, s) => n + s.open, 0))
const idleConnections = Effect.map(OurClient.HttpClient, (c) => c.stats().reduce((n, s) => n + s.idle, 0))

const requestError = <A>(exit: Exit.Exit<A, unknown>): HttpClientError.RequestError => {
  expect(Exit.isFailure(exit)).toBe(true)
  const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  expect(Option.isSome(failure)).toBe(true)
  const e = Option.getOrThrow(failure) as HttpClientError.RequestError
  expect(e._tag).toBe("RequestError")
  return e
}

// ---------------------------------------------------------------------------------------------

describe("PlatformHttpClient: responses", () => {
  it.live("GET text and json through platform's API", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const res = yield* client.get(`${base}/text`)
      expect(res.status).toBe(200)
      expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8")
      expect(yield* res.text).toBe("hello, wörld")
      // the body is kept: a second read gives the same text
      expect(yield* res.text).toBe("hello, wörld")
      const json = yield* HttpClient.get(`${base}/json`).pipe(Effect.flatMap((r) => r.json))
      expect(json).toEqual({ a: 1, path: "/json" })
      const buf = yield* client.get(`${base}/text`).pipe(Effect.flatMap((r) => r.arrayBuffer))
      expect(Buffer.from(buf).toString("utf8")).toBe("hello, wörld")
      const streamed = yield* client.get(`${base}/text`).pipe(
        Effect.flatMap((r) => Stream.runCollect(r.stream)),
        Effect.map((chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8"))
      )
      expect(streamed).toBe("hello, wörld")
      // a body read whole can still be streamed (the kept bytes); a streamed body cannot be read again
      const kept = yield* client.get(`${base}/text`)
      yield* kept.text
      const replay = yield* Stream.runCollect(kept.stream)
      expect(Buffer.concat(Chunk.toReadonlyArray(replay)).toString("utf8")).toBe("hello, wörld")
      const once = yield* client.get(`${base}/text`)
      yield* Stream.runDrain(once.stream)
      const again = yield* Effect.exit(once.text)
      expect(Exit.isFailure(again)).toBe(true)
      // a bodiless response reads as empty even after its scope closed
      const head = yield* Effect.scoped(client.head(`${base}/text`))
      expect(head.status).toBe(200)
      expect(yield* head.text).toBe("")
      const viaHelper = yield* HttpClientResponse.stream(client.get(`${base}/text`)).pipe(Stream.runCollect)
      expect(Buffer.concat(Chunk.toReadonlyArray(viaHelper)).toString("utf8")).toBe("hello, wörld")
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("schemaBodyJson, mapRequest(prependUrl) and the toJSON of a read response", () =>
    Effect.gen(function* () {
      const Todo = Schema.Struct({ id: Schema.Number, title: Schema.String })
      const client = (yield* HttpClient.HttpClient).pipe(
        HttpClient.mapRequest(HttpClientRequest.prependUrl(base)),
        HttpClient.filterStatusOk
      )
      const res = yield* client.get("/todo")
      const todo = yield* HttpClientResponse.schemaBodyJson(Todo)(res)
      expect(todo).toEqual({ id: 7, title: "write tests" })
      const json = res.toJSON() as { status: number; body: unknown; _id: string }
      expect(json._id).toBe("@effect/platform/HttpClientResponse")
      expect(json.status).toBe(200)
      expect(json.body).toEqual({ id: 7, title: "write tests" })
      const api = (yield* HttpClient.HttpClient).pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(`${base}/api`)))
      expect(yield* Effect.flatMap(api.get("/json"), (r) => r.json)).toEqual({ a: 1, path: "/api/json" })
      // urlParams and a hash fragment are handled by platform's URL building; the fragment is not sent
      const r2 = yield* client.execute(HttpClientRequest.get("/json", { urlParams: { q: "a b" }, hash: "frag" }))
      yield* r2.json
      expect(seen.at(-1)!.url).toBe("/json?q=a+b")
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("filterStatusOk turns a 4xx into ResponseError StatusCode, body still readable", () =>
    Effect.gen(function* () {
      const client = HttpClient.filterStatusOk(yield* HttpClient.HttpClient)
      const exit = yield* Effect.exit(client.get(`${base}/status/404`))
      expect(Exit.isFailure(exit)).toBe(true)
      const e = Option.getOrThrow(Cause.failureOption((exit as Exit.Failure<unknown, HttpClientError.HttpClientError>).cause))
      expect(e._tag).toBe("ResponseError")
      const re = e as HttpClientError.ResponseError
      expect(re.reason).toBe("StatusCode")
      expect(re.response.status).toBe(404)
      expect(yield* re.response.text).toBe("status body")
      expect(yield* idleConnections).toBe(1)
    }).pipe(Effect.provide(bothLayer()))
  )

  it.live("cookies from every Set-Cookie field; repeated fields joined", () =>
    Effect.gen(function* () {
      const res = yield* HttpClient.get(`${base}/cookies`)
      expect(Option.getOrUndefined(Cookies.getValue(res.cookies, "a"))).toBe("1")
      expect(Option.getOrUndefined(Cookies.getValue(res.cookies, "b"))).toBe("two")
      expect(res.cookies.cookies["b"]?.options?.httpOnly).toBe(true)
      expect(res.headers["x-multi"]).toBe("x, y")
      expect(res.headers["set-cookie"]).toBe("a=1; Path=/, b=two; HttpOnly")
      expect(res.remoteAddress).toEqual(Option.none())
      const ours = PlatformHttpClient.toClientResponse(res)
      expect(Option.map(ours, (r) => `${r.version} ${r.reason}`)).toEqual(Option.some("11 OK"))
      expect(yield* res.text).toBe("c")
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("urlParamsBody and formData bodies", () =>
    Effect.gen(function* () {
      const params = yield* HttpClient.get(`${base}/urlencoded`).pipe(Effect.flatMap((r) => r.urlParamsBody))
      expect(params).toEqual([
        ["a", "1"],
        ["b", "2"],
        ["b", "3"]
      ])
      const form = yield* HttpClient.get(`${base}/multipart-response`).pipe(Effect.flatMap((r) => r.formData))
      expect(form.get("x")).toBe("1")
      const bad = yield* Effect.exit(HttpClient.get(`${base}/text`).pipe(Effect.flatMap((r) => r.json)))
      expect(Exit.isFailure(bad)).toBe(true)
      const e = Option.getOrThrow(Cause.failureOption((bad as Exit.Failure<unknown, HttpClientError.HttpClientError>).cause))
      expect(e._tag).toBe("ResponseError")
      expect((e as HttpClientError.ResponseError).reason).toBe("Decode")
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("a body cut short fails with ResponseError Decode, cause IncompleteRead", () =>
    Effect.gen(function* () {
      const res = yield* HttpClient.get(`${base}/truncated`)
      const exit = yield* Effect.exit(res.text)
      const e = Option.getOrThrow(Cause.failureOption((exit as Exit.Failure<unknown, HttpClientError.HttpClientError>).cause))
      expect(e._tag).toBe("ResponseError")
      expect((e as HttpClientError.ResponseError).reason).toBe("Decode")
      expect((e.cause as { _tag: string })._tag).toBe("IncompleteRead")
      expect(yield* openConnections).toBe(0)
    }).pipe(Effect.provide(bothLayer()))
  )
})

describe("PlatformHttpClient: request bodies", () => {
  const echo = (req: HttpClientRequest.HttpClientRequest) =>
    Effect.flatMap(HttpClient.execute(req), (r) => r.json) as Effect.Effect<
      { method: string; contentType: string | null; contentLength: string | null; transferEncoding: string | null; body: string },
      HttpClientError.HttpClientError,
      HttpClient.HttpClient
    >

  it.live("bodyJson, bodyText, bodyUint8Array, bodyUrlParams", () =>
    Effect.gen(function* () {
      const json = yield* HttpClientRequest.post(`${base}/echo`).pipe(HttpClientRequest.bodyJson({ a: [1, "ü"] }), Effect.flatMap(echo))
      expect(json).toEqual({
        method: "POST",
        contentType: "application/json",
        contentLength: String(Buffer.byteLength('{"a":[1,"ü"]}')),
        transferEncoding: null,
        body: '{"a":[1,"ü"]}'
      })
      const text = yield* echo(HttpClientRequest.put(`${base}/echo`).pipe(HttpClientRequest.bodyText("héllo")))
      expect(text).toMatchObject({ method: "PUT", contentType: "text/plain", contentLength: "6", body: "héllo" })
      const bytes = yield* echo(HttpClientRequest.post(`${base}/echo`).pipe(HttpClientRequest.bodyUint8Array(new Uint8Array([104, 105]))))
      expect(bytes).toMatchObject({ contentType: "application/octet-stream", contentLength: "2", body: "hi" })
      const params = yield* echo(HttpClientRequest.patch(`${base}/echo`).pipe(HttpClientRequest.bodyUrlParams({ a: "1", b: "x y" })))
      expect(params).toMatchObject({ method: "PATCH", contentType: "application/x-www-form-urlencoded", body: "a=1&b=x+y" })
      const empty = yield* echo(HttpClientRequest.post(`${base}/echo`))
      expect(empty).toMatchObject({ contentLength: "0", body: "" })
      const raw = yield* echo(HttpClientRequest.post(`${base}/echo`).pipe(HttpClientRequest.setBody(HttpBody.raw("raw!", { contentType: "text/x-raw" }))))
      expect(raw).toMatchObject({ contentType: "text/x-raw", contentLength: "4", body: "raw!" })
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("bodyStream: chunked without a length, Content-Length when given", () =>
    Effect.gen(function* () {
      const chunks = Stream.make("ab", "cd", "ef").pipe(Stream.map((s) => new TextEncoder().encode(s)))
      const chunked = yield* echo(HttpClientRequest.post(`${base}/echo`).pipe(HttpClientRequest.bodyStream(chunks)))
      expect(chunked).toMatchObject({ contentType: "application/octet-stream", transferEncoding: "chunked", contentLength: null, body: "abcdef" })
      const sized = yield* echo(
        HttpClientRequest.post(`${base}/echo`).pipe(HttpClientRequest.setBody(HttpBody.stream(chunks, "text/plain", 6)))
      )
      expect(sized).toMatchObject({ contentType: "text/plain", transferEncoding: null, contentLength: "6", body: "abcdef" })
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("bodyFormData: multipart with strings, a Blob and a File, exact Content-Length", () =>
    Effect.gen(function* () {
      const form = new FormData()
      form.append("name", "Ada \"Countess\"")
      form.append("multi\nline", "a\nb")
      form.append("blob", new Blob([new Uint8Array([1, 2, 3])]))
      form.append("file", new File(["file contents ü"], "notes.txt", { type: "text/plain" }))
      const res = yield* HttpClient.execute(HttpClientRequest.post(`${base}/form`).pipe(HttpClientRequest.bodyFormData(form)))
      const json = (yield* res.json) as { fields: Record<string, unknown>; contentLength: string | null; bytes: number }
      expect(json.contentLength).toBe(String(json.bytes))
      expect(json.fields["name"]).toBe("Ada \"Countess\"")
      expect(json.fields["blob"]).toEqual({ name: "blob", type: "application/octet-stream", text: "\x01\x02\x03" })
      expect(json.fields["file"]).toEqual({ name: "notes.txt", type: "text/plain", text: "file contents ü" })
      const sent = seen.at(-1)!
      const ct = sent.headers["content-type"]!
      expect(ct).toMatch(/^multipart\/form-data; boundary=----effect-http1-[0-9a-f]{32}$/)
      const boundary = ct.split("boundary=")[1]!
      const text = sent.body.toString("latin1")
      expect(text.startsWith(`--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda "Countess"\r\n`)).toBe(true)
      expect(text).toContain(`Content-Disposition: form-data; name="multi%0D%0Aline"\r\n\r\na\r\nb\r\n`)
      expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true)
      // formDataRecord too
      const rec = yield* HttpClient.execute(
        HttpClientRequest.post(`${base}/form`).pipe(HttpClientRequest.bodyFormDataRecord({ a: "1", n: 2, list: ["x", "y"] }))
      ).pipe(Effect.flatMap((r) => r.json))
      expect((rec as { fields: Record<string, unknown> }).fields).toMatchObject({ a: "1", n: "2", list: "y" })
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it("the multipart encoder is deterministic for a given boundary", async () => {
    const form = new FormData()
    form.append("k", "v")
    const enc = encodeFormData(form, "B")
    const out = await Effect.runPromise(Stream.runCollect(enc.stream))
    const text = Buffer.concat(Chunk.toReadonlyArray(out)).toString("latin1")
    expect(text).toBe('--B\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--B--\r\n')
    expect(enc.contentLength).toBe(text.length)
    expect(enc.contentType).toBe("multipart/form-data; boundary=B")
  })

  it.live("bodies and headers we refuse are RequestError Encode / InvalidUrl with our error as cause", () =>
    Effect.gen(function* () {
      const raw = requestError(
        yield* Effect.exit(HttpClient.execute(HttpClientRequest.post(`${base}/echo`).pipe(HttpClientRequest.setBody(HttpBody.raw({ not: "bytes" })))))
      )
      expect(raw.reason).toBe("Encode")
      const header = requestError(
        yield* Effect.exit(HttpClient.execute(HttpClientRequest.get(`${base}/echo`).pipe(HttpClientRequest.setHeader("x-bad", "a\r\nb: c"))))
      )
      expect(header.reason).toBe("Encode")
      expect((header.cause as { _tag: string })._tag).toBe("InvalidHeader")
      const failing = Stream.concat(Stream.make(new Uint8Array([1])), Stream.fail("source broke"))
      const body = requestError(
        yield* Effect.exit(HttpClient.execute(HttpClientRequest.post(`${base}/echo`).pipe(HttpClientRequest.bodyStream(failing))))
      )
      expect(body.reason).toBe("Encode")
      expect(body.cause).toBe("source broke")
      const scheme = requestError(yield* Effect.exit(HttpClient.get("ftp://127.0.0.1/x")))
      expect(scheme.reason).toBe("InvalidUrl")
      expect((scheme.cause as { _tag: string })._tag).toBe("InvalidURL")
      expect(yield* openConnections).toBe(0)
    }).pipe(Effect.provide(bothLayer()))
  )
})

describe("PlatformHttpClient: transport errors, retries, timeouts", () => {
  it.live("connection refused is RequestError Transport with cause ConnectError", () =>
    Effect.gen(function* () {
      const tmp = http.createServer()
      yield* Effect.promise(() => new Promise<void>((r) => tmp.listen(0, "127.0.0.1", r)))
      const port = (tmp.address() as AddressInfo).port
      yield* Effect.promise(() => new Promise<void>((r) => tmp.close(() => r())))
      const e = requestError(yield* Effect.exit(HttpClient.get(`http://127.0.0.1:${port}/`)))
      expect(e.reason).toBe("Transport")
      expect((e.cause as { _tag: string })._tag).toBe("ConnectError")
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("retryTransient retries RequestError Transport (server drops the first connections)", () =>
    Effect.gen(function* () {
      const client = (yield* HttpClient.HttpClient).pipe(HttpClient.retryTransient({ times: 3 }))
      const res = yield* client.get(`${base}/flaky/transient?n=2`)
      expect(yield* res.text).toBe("ok after 3")
      expect(flakyHits.get("/flaky/transient")).toBe(3)
      // HttpClient.retry with a plain schedule works the same way
      const retried = (yield* HttpClient.HttpClient).pipe(HttpClient.retry({ times: 2 }))
      expect(yield* Effect.flatMap(retried.get(`${base}/flaky/retry?n=1`), (r) => r.text)).toBe("ok after 2")
      // without retries the first failure surfaces, with our error as cause
      // (n=5: our client retries a failure on a reused kept-alive connection once on a fresh one)
      const e = requestError(yield* Effect.exit(HttpClient.get(`${base}/flaky/once?n=5`)))
      expect(e.reason).toBe("Transport")
      expect(["RemoteDisconnected", "ConnectionReset"]).toContain((e.cause as { _tag: string })._tag)
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("headersTimeout surfaces as RequestError Transport, cause TimeoutError, and is retried", () =>
    Effect.gen(function* () {
      const started = Date.now()
      const e = requestError(yield* Effect.exit(HttpClient.get(`${base}/stall`)))
      expect(Date.now() - started).toBeLessThan(5000)
      expect(e.reason).toBe("Transport")
      const cause = e.cause as { _tag: string; phase: string }
      expect(cause._tag).toBe("TimeoutError")
      expect(cause.phase).toBe("headers")
      const before = stalled.length
      const client = (yield* HttpClient.HttpClient).pipe(HttpClient.retryTransient({ times: 2 }))
      const again = requestError(yield* Effect.exit(client.get(`${base}/stall`)))
      expect((again.cause as { _tag: string })._tag).toBe("TimeoutError")
      yield* eventually(() => stalled.length - before === 3, "three stalled requests")
      expect(yield* openConnections).toBe(0)
    }).pipe(Effect.provide(bothLayer({ headersTimeout: "200 millis" })))
  )
})

describe("PlatformHttpClient: connections are released", () => {
  it.live("a read body returns the connection to the pool; it is reused", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 3; i++) {
        const res = yield* HttpClient.get(`${base}/text`)
        yield* res.text
        expect(yield* idleConnections).toBe(1)
        expect(yield* openConnections).toBe(1)
      }
    }).pipe(Effect.provide(bothLayer()))
  )

  it.live("interrupting a body read mid-body closes the connection", () =>
    Effect.gen(function* () {
      const res = yield* HttpClient.get(`${base}/slow-body`)
      expect(yield* openConnections).toBe(1)
      const fiber = yield* Effect.fork(res.arrayBuffer)
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      expect(yield* openConnections).toBe(0)
      // the body is gone: a later read fails instead of returning a truncated body
      const later = yield* Effect.exit(res.text)
      expect(Exit.isFailure(later)).toBe(true)
    }).pipe(Effect.provide(bothLayer()))
  )

  it.live("a stream dropped early (Stream.take) closes the connection", () =>
    Effect.gen(function* () {
      const res = yield* HttpClient.get(`${base}/slow-body`)
      const first = yield* Stream.runCollect(Stream.take(res.stream, 1))
      expect(Chunk.size(first)).toBe(1)
      expect(yield* openConnections).toBe(0)
    }).pipe(Effect.provide(bothLayer()))
  )

  it.live("interrupting the request before the response head ends it at once", () =>
    Effect.gen(function* () {
      const before = stalled.length
      const fiber = yield* Effect.fork(HttpClient.get(`${base}/stall`))
      yield* eventually(() => stalled.length > before, "the request reached the server")
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  // Fails because of src/HttpClient.ts `exchange`: an interruption while the request is written or
  // the head awaited skips its `matchCauseEffect` onFailure, so the wire is never discarded.
  // Flip to `it.live` once `attempt` runs under `uninterruptibleMask` (see the report).
  it.live("interrupting the request before the response head releases the connection", () =>
    Effect.gen(function* () {
      const before = stalled.length
      const fiber = yield* Effect.fork(HttpClient.get(`${base}/stall`))
      yield* eventually(() => stalled.length > before, "the request reached the server")
      yield* Fiber.interrupt(fiber)
      yield* Effect.sleep(Duration.millis(200))
      expect(yield* openConnections).toBe(0)
    }).pipe(Effect.provide(bothLayer()))
  )

  it.live("withScope: a scope closed while the head is awaited aborts the request", () =>
    Effect.gen(function* () {
      const client = HttpClient.withScope(yield* HttpClient.HttpClient)
      const scope = yield* Scope.make()
      const before = stalled.length
      const fiber = yield* Effect.fork(client.get(`${base}/stall`).pipe(Scope.extend(scope)))
      yield* eventually(() => stalled.length > before, "the request reached the server")
      yield* Scope.close(scope, Exit.void)
      const e = requestError(yield* Fiber.await(fiber))
      expect(e.reason).toBe("Transport")
      expect(e.description).toBe("request aborted")
    }).pipe(Effect.provide(PlatformHttpClient.layer))
  )

  it.live("an unread response is closed with the scope the request ran in", () =>
    Effect.gen(function* () {
      const res = yield* Effect.scoped(
        Effect.gen(function* () {
          const res = yield* HttpClient.get(`${base}/slow-body`)
          expect(yield* openConnections).toBe(1)
          return res
        })
      )
      expect(yield* openConnections).toBe(0)
      const exit = yield* Effect.exit(res.text)
      expect(Exit.isFailure(exit)).toBe(true)
      const e = Option.getOrThrow(Cause.failureOption((exit as Exit.Failure<unknown, HttpClientError.HttpClientError>).cause))
      expect(e._tag).toBe("ResponseError")
      expect((e as HttpClientError.ResponseError).reason).toBe("Decode")
    }).pipe(Effect.provide(bothLayer()))
  )

  it.live("a body read inside the scope releases the connection at once; the scope keeps no finalizer", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      for (let i = 0; i < 3; i++) {
        const text = yield* HttpClient.get(`${base}/text`).pipe(
          Effect.flatMap((r) => r.text),
          Scope.extend(scope)
        )
        expect(text).toBe("hello, wörld")
        expect(yield* idleConnections).toBe(1)
      }
      // the request scopes were removed from the parent once their bodies were read
      expect((scope as unknown as { state: { finalizers: Map<unknown, unknown> } }).state.finalizers.size).toBe(0)
      yield* Scope.close(scope, Exit.void)
      expect(yield* idleConnections).toBe(1)
    }).pipe(Effect.provide(bothLayer()))
  )

  it.live("HttpClient.withScope: closing the scope aborts and closes an unread response", () =>
    Effect.gen(function* () {
      const client = HttpClient.withScope(yield* HttpClient.HttpClient)
      const scope = yield* Scope.make()
      const res = yield* client.get(`${base}/slow-body`).pipe(Scope.extend(scope))
      expect(res.status).toBe(200)
      expect(yield* openConnections).toBe(1)
      // a scope that is not the request's context scope: only the signal ties them
      yield* Scope.close(scope, Exit.void)
      const open = yield* Effect.gen(function* () {
        for (let i = 0; i < 100; i++) {
          if ((yield* openConnections) === 0) return 0
          yield* Effect.sleep("10 millis")
        }
        return yield* openConnections
      })
      expect(open).toBe(0)
    }).pipe(Effect.provide(bothLayer()))
  )
})

describe("PlatformHttpClient over Transport.layerMock", () => {
  it.live("answers from the canned replies and records the request", () =>
    Effect.gen(function* () {
      const res = yield* HttpClient.get("http://example.test/items?x=1", { headers: { "x-trace": "1" } })
      expect(res.status).toBe(201)
      expect(res.headers["content-type"]).toBe("text/plain")
      expect(yield* res.text).toBe("created")
      const posted = yield* HttpClientRequest.post("http://example.test/items").pipe(
        HttpClientRequest.bodyJson({ a: 1 }),
        Effect.flatMap(HttpClient.execute),
        Effect.flatMap((r) => r.json)
      )
      expect(posted).toEqual({ ok: true })
      const peer = yield* Transport.MockPeer
      const [first, second] = peer.requestsText()
      expect(first).toMatch(/^GET \/items\?x=1 HTTP\/1\.1\r\n/)
      expect(first).toContain("x-trace: 1\r\n")
      expect(first).toMatch(/\r\nhost: example\.test\r\n|\r\nHost: example\.test\r\n/i)
      expect(second).toMatch(/^POST \/items HTTP\/1\.1\r\n/)
      expect(second).toContain("content-type: application/json\r\n")
      expect(second!.endsWith('\r\n\r\n{"a":1}')).toBe(true)
      const bad = requestError(yield* Effect.exit(HttpClient.get("http://example.test/bad")))
      expect(bad.reason).toBe("Transport")
      expect((bad.cause as { _tag: string })._tag).toBe("BadStatusLine")
    }).pipe(
      Effect.provide(
        PlatformHttpClient.layerFromClient.pipe(
          Layer.provide(OurClient.layerWithoutTransport),
          Layer.provideMerge(
            Transport.layerMock(
              [
                "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\ncreated",
                'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}',
                "HTTP/1.1 2OO OK\r\n\r\n"
              ],
              { keepOpen: true }
            )
          )
        )
      )
    )
  )
})
