/**
 * The platform pipeline that `PlatformHttpClient` runs itself (on `HttpClient.makeWith`, not
 * platform's `make`): one `http.client` span per request with platform's attributes, `traceparent`
 * / `b3` propagation, `withTracerDisabledWhen` / `withTracerPropagation` / `withSpanNameGenerator`,
 * `withScope`, and the combinators users stack on it (`followRedirects`, `retryTransient`,
 * `mapRequest`, `filterStatusOk`, `withCookiesRef`).
 *
 * Every test runs against its own node:http server on 127.0.0.1 (closed with the test's scope),
 * bounded by a watchdog and a vitest timeout.
 */
import { Cookies, HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Option, Ref, Scope, Tracer } from "effect"
import type * as http from "node:http"
import * as OurClient from "../../src/HttpClient.js"
import * as PlatformHttpClient from "../../src/PlatformHttpClient.js"
import { eventually, httpServer, type ServerInfo } from "../helpers/servers.js"

const WATCHDOG = "10 seconds"
const VITEST_TIMEOUT = 20_000

interface Seen {
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
}

const handler = (seen: Array<Seen>, stalled: Array<http.ServerResponse>, hits: Map<string, number>): http.RequestListener => (req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1")
  const path = url.pathname
  seen.push({ url: req.url ?? "", headers: req.headers })
  req.resume()
  if (path === "/ok") res.writeHead(200, { "content-type": "text/plain", "x-secret": "s3cret" }).end("ok body")
  else if (path === "/empty") res.writeHead(204).end()
  else if (path === "/redirect") res.writeHead(302, { location: "/ok", "content-length": "5" }).end("moved")
  else if (path === "/redirect-chunked") {
    res.writeHead(302, { location: "/ok" })
    res.end("moved")
  } else if (path === "/flaky") {
    // 503 for the first two hits of a key, then 200.
    const key = url.searchParams.get("key") ?? ""
    const n = (hits.get(key) ?? 0) + 1
    hits.set(key, n)
    if (n <= 2) res.writeHead(503, { "content-type": "text/plain" }).end("later")
    else res.writeHead(200, { "content-type": "text/plain" }).end(`ok after ${n}`)
  } else if (path === "/login") {
    res.setHeader("set-cookie", ["session=abc; Path=/", "theme=dark; Path=/"])
    res.writeHead(200, { "content-type": "text/plain" }).end("welcome")
  } else if (path === "/whoami") {
    res.writeHead(200, { "content-type": "text/plain" }).end(req.headers.cookie ?? "")
  } else if (path === "/stall") stalled.push(res)
  else res.writeHead(404, { "content-type": "text/plain" }).end("not found")
}

interface Env {
  readonly base: string
  readonly server: ServerInfo
  readonly seen: Array<Seen>
}

/** The server, our pooled client (for `stats()`) and platform's client on it. */
const withServer = <A, E>(
  body: (env: Env) => Effect.Effect<A, E, HttpClient.HttpClient | OurClient.HttpClient>
): Effect.Effect<A, E | Error> =>
  Effect.gen(function* () {
    const seen: Array<Seen> = []
    const stalled: Array<http.ServerResponse> = []
    const server = yield* httpServer(handler(seen, stalled, new Map()))
    yield* Effect.addFinalizer(() => Effect.sync(() => stalled.forEach((r) => r.destroy())))
    const layer = PlatformHttpClient.layerFromClient.pipe(Layer.provideMerge(OurClient.layerWith({ maxConnectionsPerOrigin: 4 })))
    return yield* body({ base: server.url, server, seen }).pipe(Effect.provide(layer))
  }).pipe(
    Effect.scoped,
    Effect.timeoutFail({ duration: WATCHDOG, onTimeout: () => new Error("watchdog: the test took too long") })
  )

const poolStats = Effect.map(OurClient.HttpClient, (c) =>
  c.stats().reduce((acc, s) => ({ open: acc.open + s.open, idle: acc.idle + s.idle }), { open: 0, idle: 0 })
)

/** The default tracer, recording every span it makes. */
const recording = Effect.map(Effect.tracer, (native) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = native.span(name, parent, context, links, startTime, kind, options)
      spans.push(span)
      return span
    },
    context: (f, fiber) => native.context(f, fiber)
  })
  return { tracer, spans }
})

const httpSpans = (spans: ReadonlyArray<Tracer.Span>) => spans.filter((s) => s.name.startsWith("http.client"))

describe("PlatformHttpClient: tracing", () => {
  it.live(
    "one http.client span per request, child of the caller's span, with platform's attributes; traceparent and b3 sent",
    () =>
      withServer(({ base, seen }) =>
        Effect.gen(function* () {
          const { tracer, spans } = yield* recording
          const client = yield* HttpClient.HttpClient
          const text = yield* Effect.flatMap(client.get(`${base}/ok?q=1`), (r) => r.text).pipe(
            Effect.withSpan("caller"),
            Effect.withTracer(tracer)
          )
          expect(text).toBe("ok body")
          const caller = spans.find((s) => s.name === "caller")!
          const [span, ...more] = httpSpans(spans)
          expect(more).toEqual([])
          expect(span!.name).toBe("http.client GET")
          expect(span!.kind).toBe("client")
          expect(Option.getOrUndefined(span!.parent)?.spanId).toBe(caller.spanId)
          expect(span!.status._tag).toBe("Ended")
          const attributes = span!.attributes
          expect(attributes.get("http.request.method")).toBe("GET")
          expect(attributes.get("url.full")).toBe(`${base}/ok?q=1`)
          expect(attributes.get("url.path")).toBe("/ok")
          expect(attributes.get("url.query")).toBe("q=1")
          expect(attributes.get("url.scheme")).toBe("http")
          expect(attributes.get("server.address")).toBe(base)
          expect(attributes.get("server.port")).toBe(Number(new URL(base).port))
          expect(attributes.get("http.response.status_code")).toBe(200)
          expect(attributes.get("http.response.header.content-type")).toBe("text/plain")
          // The server got this span as the parent of its work.
          const headers = seen.at(-1)!.headers
          expect(headers.traceparent).toBe(`00-${span!.traceId}-${span!.spanId}-01`)
          expect(headers.b3).toBe(`${span!.traceId}-${span!.spanId}-1-${caller.spanId}`)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "a caller's traceparent header is replaced by the request's span; redacted header names stay redacted in the span",
    () =>
      withServer(({ base, seen }) =>
        Effect.gen(function* () {
          const { tracer, spans } = yield* recording
          const client = (yield* HttpClient.HttpClient).pipe(
            HttpClient.mapRequest(HttpClientRequest.setHeaders({ traceparent: "00-bogus", authorization: "Bearer x" }))
          )
          yield* Effect.flatMap(client.get(`${base}/ok`), (r) => r.text).pipe(Effect.withTracer(tracer))
          const [span] = httpSpans(spans)
          expect(seen.at(-1)!.headers.traceparent).toBe(`00-${span!.traceId}-${span!.spanId}-01`)
          expect(seen.at(-1)!.headers.authorization).toBe("Bearer x")
          expect(String(span!.attributes.get("http.request.header.authorization"))).not.toContain("Bearer")
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "withTracerDisabledWhen: no span, no traceparent; withTracerPropagation(false): a span, no traceparent; withSpanNameGenerator",
    () =>
      withServer(({ base, seen }) =>
        Effect.gen(function* () {
          const { tracer, spans } = yield* recording
          const client = yield* HttpClient.HttpClient
          const disabled = HttpClient.withTracerDisabledWhen(client, (req) => req.url.endsWith("/ok"))
          yield* Effect.flatMap(disabled.get(`${base}/ok`), (r) => r.text).pipe(Effect.withTracer(tracer))
          expect(httpSpans(spans)).toEqual([])
          expect(seen.at(-1)!.headers.traceparent).toBe(undefined)

          const silent = HttpClient.withTracerPropagation(client, false)
          yield* Effect.flatMap(silent.get(`${base}/ok`), (r) => r.text).pipe(Effect.withTracer(tracer))
          expect(httpSpans(spans).length).toBe(1)
          expect(seen.at(-1)!.headers.traceparent).toBe(undefined)

          const named = HttpClient.withSpanNameGenerator(client, (req) => `http.client custom ${req.method}`)
          yield* Effect.flatMap(named.get(`${base}/ok`), (r) => r.text).pipe(Effect.withTracer(tracer))
          expect(httpSpans(spans).map((s) => s.name)).toEqual(["http.client GET", "http.client custom GET"])

          // With the tracer off altogether, requests still go out, untraced.
          yield* Effect.flatMap(client.get(`${base}/ok`), (r) => r.text).pipe(Effect.withTracer(tracer), Effect.withTracerEnabled(false))
          expect(httpSpans(spans).length).toBe(2)
          expect(seen.at(-1)!.headers.traceparent).toBe(undefined)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "an interrupted request (timeout while the head is awaited) ends its span with the interruption",
    () =>
      withServer(({ base }) =>
        Effect.gen(function* () {
          const { tracer, spans } = yield* recording
          const client = yield* HttpClient.HttpClient
          const exit = yield* Effect.exit(client.get(`${base}/stall`).pipe(
            Effect.timeout("100 millis"),
            Effect.withTracer(tracer)
          ))
          expect(Exit.isFailure(exit)).toBe(true)
          const [span] = httpSpans(spans)
          expect(span!.status._tag).toBe("Ended")
          const status = span!.status as Extract<Tracer.SpanStatus, { _tag: "Ended" }>
          expect(Exit.isFailure(status.exit)).toBe(true)
        })
      ),
    VITEST_TIMEOUT
  )
})

describe("PlatformHttpClient: bodiless responses", () => {
  it.live(
    "a 204 or a HEAD response gives its connection back before it is handed out, read or not",
    () =>
      withServer(({ base, server }) =>
        Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          for (let i = 0; i < 5; i++) {
            expect((yield* client.get(`${base}/empty`)).status).toBe(204)
            expect(yield* poolStats).toEqual({ open: 1, idle: 1 })
            const head = yield* client.head(`${base}/ok`)
            expect(head.status).toBe(200)
            expect(yield* poolStats).toEqual({ open: 1, idle: 1 })
            expect(yield* head.text).toBe("")
          }
          expect(server.connections()).toBe(1)
        })
      ),
    VITEST_TIMEOUT
  )
})

describe("PlatformHttpClient: combinators", () => {
  it.live(
    "followRedirects: the intermediate responses (length-framed and chunked) give their connection back",
    () =>
      withServer(({ base, server }) =>
        Effect.gen(function* () {
          const client = HttpClient.followRedirects(yield* HttpClient.HttpClient, 3)
          for (let i = 0; i < 10; i++) {
            for (const path of ["/redirect", "/redirect-chunked"]) {
              const res = yield* client.get(`${base}${path}`)
              expect(res.status).toBe(200)
              expect(yield* res.text).toBe("ok body")
            }
          }
          // Sequential requests on one connection: the dropped 302s did not hold theirs.
          expect(server.connections()).toBe(1)
          expect(yield* poolStats).toEqual({ open: 1, idle: 1 })
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "retryTransient over 503 responses, filterStatusOk, mapRequest(prependUrl)",
    () =>
      withServer(({ base, server }) =>
        Effect.gen(function* () {
          const client = (yield* HttpClient.HttpClient).pipe(
            HttpClient.mapRequest(HttpClientRequest.prependUrl(base)),
            HttpClient.filterStatusOk,
            HttpClient.retryTransient({ times: 3 })
          )
          expect(yield* Effect.flatMap(client.get("/flaky?key=a"), (r) => r.text)).toBe("ok after 3")
          const e = yield* Effect.flip(client.get("/missing"))
          expect(e._tag).toBe("ResponseError")
          expect(e._tag === "ResponseError" ? e.response.status : 0).toBe(404)
          expect(server.connections()).toBe(1)
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "withCookiesRef: cookies set by one response are sent with the next",
    () =>
      withServer(({ base }) =>
        Effect.gen(function* () {
          const ref = yield* Ref.make(Cookies.empty)
          const client = HttpClient.withCookiesRef(yield* HttpClient.HttpClient, ref)
          expect(yield* Effect.flatMap(client.get(`${base}/login`), (r) => r.text)).toBe("welcome")
          expect(Object.keys((yield* Ref.get(ref)).cookies).sort()).toEqual(["session", "theme"])
          expect(yield* Effect.flatMap(client.get(`${base}/whoami`), (r) => r.text)).toBe("session=abc; theme=dark")
        })
      ),
    VITEST_TIMEOUT
  )

  it.live(
    "withScope: closing the scope while the head is awaited fails the request with RequestError 'request aborted'; interrupting it closes the socket",
    () =>
      withServer(({ base, server }) =>
        Effect.gen(function* () {
          const client = HttpClient.withScope(yield* HttpClient.HttpClient)
          const scope = yield* Scope.make()
          const fiber = yield* Effect.fork(client.get(`${base}/stall`).pipe(Scope.extend(scope)))
          yield* eventually(() => server.openConnections() === 1, "the request to reach the server")
          yield* Scope.close(scope, Exit.void)
          const exit = yield* Fiber.await(fiber)
          const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
          expect(failure?._tag).toBe("RequestError")
          expect(failure?._tag === "RequestError" ? [failure.reason, failure.description] : []).toEqual(["Transport", "request aborted"])
          yield* eventually(() => server.openConnections() === 0, "the aborted request's socket to be closed")

          // Interruption (no signal at all): the socket is closed too.
          const plain = yield* HttpClient.HttpClient
          const interrupted = yield* Effect.fork(plain.get(`${base}/stall`))
          yield* eventually(() => server.openConnections() === 1, "the second request to reach the server")
          expect(Exit.isInterrupted(yield* Fiber.interrupt(interrupted))).toBe(true)
          yield* eventually(() => server.openConnections() === 0, "the interrupted request's socket to be closed")
          expect((yield* poolStats).open).toBe(0)
        })
      ),
    VITEST_TIMEOUT
  )
})
