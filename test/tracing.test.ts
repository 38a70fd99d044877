/**
 * Spans of the pooled client (issue 10): one `http.client <METHOD>` span per request with
 * @effect/platform's attribute names, `traceparent` / `b3` propagated, and the switches that turn
 * them off. Spans are recorded by a tracer of the test's own; the server records the headers.
 */
import { HttpClient as PlatformClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Option, Tracer } from "effect"
import type * as http from "node:http"
import { HttpClient, PlatformHttpClient } from "../src/index.js"
import { httpServer } from "./helpers/servers.js"

/** A span that records what it is given. */
class RecordedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId: string
  readonly traceId: string
  readonly sampled = true
  readonly attributes = new Map<string, unknown>()
  readonly links: Array<Tracer.SpanLink> = []
  status: Tracer.SpanStatus
  exit: Exit.Exit<unknown, unknown> | undefined
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    id: number
  ) {
    this.spanId = id.toString(16).padStart(16, "0")
    this.traceId = Option.isSome(parent) ? parent.value.traceId : (id * 7919).toString(16).padStart(32, "0")
    this.status = { _tag: "Started", startTime }
    this.links.push(...links)
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.exit = exit
  }
  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }
  event(): void {}
  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }
}

const recordingTracer = () => {
  const spans: Array<RecordedSpan> = []
  let next = 1
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const span = new RecordedSpan(name, parent, context, links, startTime, kind, next++)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  return { tracer, spans, clientSpans: () => spans.filter((s) => s.name.startsWith("http.client")) }
}

/** A server that answers "ok" with an `x-id` header and records each request's headers. */
const recordingServer = Effect.gen(function* () {
  const seen: Array<http.IncomingHttpHeaders> = []
  const server = yield* httpServer((req, res) => {
    seen.push(req.headers)
    res.setHeader("x-id", String(seen.length))
    res.end("ok")
  })
  return { ...server, seen }
})

const get = (url: string, options?: HttpClient.ShorthandOptions) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const res = yield* client.get(url, options)
    return yield* res.text
  }).pipe(Effect.scoped)

describe("spans of the pooled client", () => {
  it.scoped("one http.client GET span with platform's attributes; traceparent and b3 carry its ids", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const rec = recordingTracer()
      const text = yield* get(`${server.url}/items?page=2`, {
        headers: [["Authorization", "Bearer secret"], ["X-Trace-Me", "yes"]]
      }).pipe(Effect.withSpan("parent"), Effect.provide(HttpClient.layer), Effect.withTracer(rec.tracer))
      expect(text).toBe("ok")
      const [span, ...more] = rec.clientSpans()
      expect(more).toHaveLength(0)
      expect(span!.name).toBe("http.client GET")
      expect(span!.kind).toBe("client")
      const parent = rec.spans.find((s) => s.name === "parent")!
      expect(Option.getOrUndefined(span!.parent)?.spanId).toBe(parent.spanId)
      const a = span!.attributes
      expect(a.get("http.request.method")).toBe("GET")
      expect(a.get("server.address")).toBe(server.url)
      expect(a.get("server.port")).toBe(server.port)
      expect(a.get("url.full")).toBe(`${server.url}/items?page=2`)
      expect(a.get("url.path")).toBe("/items")
      expect(a.get("url.query")).toBe("page=2")
      expect(a.get("url.scheme")).toBe("http")
      expect(a.get("http.request.header.authorization")).toBe("<redacted>")
      expect(a.get("http.request.header.x-trace-me")).toBe("yes")
      expect(a.get("http.response.status_code")).toBe(200)
      expect(a.get("http.response.header.x-id")).toBe("1")
      expect(span!.exit !== undefined && Exit.isSuccess(span!.exit)).toBe(true)
      const headers = server.seen[0]!
      expect(headers.traceparent).toBe(`00-${span!.traceId}-${span!.spanId}-01`)
      expect(headers.b3).toBe(`${span!.traceId}-${span!.spanId}-1-${parent.spanId}`)
    }))

  it.scoped("requests without headers of their own (a head kept per route): each carries its own span's ids", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const rec = recordingTracer()
      yield* Effect.gen(function* () {
        for (let i = 0; i < 3; i++) yield* get(`${server.url}/same`)
      }).pipe(Effect.provide(HttpClient.layer), Effect.withTracer(rec.tracer))
      const spans = rec.clientSpans()
      expect(spans).toHaveLength(3)
      expect(server.seen.map((h) => h.traceparent)).toEqual(spans.map((s) => `00-${s.traceId}-${s.spanId}-01`))
      expect(new Set(server.seen.map((h) => h.traceparent)).size).toBe(3)
      for (const h of server.seen) expect(h.host).toBe(`127.0.0.1:${server.port}`)
    }))

  it.scoped("a caller's own traceparent is replaced, not sent twice", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const rec = recordingTracer()
      yield* get(`${server.url}/`, { headers: [["traceparent", "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01"]] }).pipe(
        Effect.provide(HttpClient.layer),
        Effect.withTracer(rec.tracer)
      )
      const span = rec.clientSpans()[0]!
      expect(server.seen[0]!.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`)
    }))

  it.scoped("a failed request ends its span with the failure", () =>
    Effect.gen(function* () {
      const rec = recordingTracer()
      const err = yield* get("http://127.0.0.1:1/").pipe(Effect.provide(HttpClient.layer), Effect.withTracer(rec.tracer), Effect.flip)
      expect(err._tag).toBe("ConnectError")
      const span = rec.clientSpans()[0]!
      expect(span.exit !== undefined && Exit.isFailure(span.exit)).toBe(true)
    }))

  it.scoped("switches: tracing: false (client or request) and Effect.withTracerEnabled(false): no span, no trace headers", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const rec = recordingTracer()
      yield* get(`${server.url}/`).pipe(Effect.provide(HttpClient.layerWith({ tracing: false })), Effect.withTracer(rec.tracer))
      yield* get(`${server.url}/`, { tracing: false }).pipe(Effect.provide(HttpClient.layer), Effect.withTracer(rec.tracer))
      yield* get(`${server.url}/`).pipe(Effect.provide(HttpClient.layer), Effect.withTracer(rec.tracer), Effect.withTracerEnabled(false))
      expect(rec.clientSpans()).toHaveLength(0)
      expect(server.seen).toHaveLength(3)
      for (const h of server.seen) {
        expect(h.traceparent).toBeUndefined()
        expect(h.b3).toBeUndefined()
      }
    }))

  it.scoped("tracePropagation: false keeps the span and sends no trace headers", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const rec = recordingTracer()
      yield* get(`${server.url}/`).pipe(Effect.provide(HttpClient.layerWith({ tracePropagation: false })), Effect.withTracer(rec.tracer))
      expect(rec.clientSpans()).toHaveLength(1)
      expect(server.seen[0]!.traceparent).toBeUndefined()
    }))

  it.scoped("redirects are followed inside the one span; its attributes name the URL asked for", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const server = yield* httpServer((req, res) => {
        seen.push(String(req.headers.traceparent))
        if (req.url === "/old") {
          res.writeHead(302, { location: "/new" }).end()
        } else res.end("new")
      })
      const rec = recordingTracer()
      const text = yield* get(`${server.url}/old`, { followRedirects: 1 }).pipe(
        Effect.provide(HttpClient.layer),
        Effect.withTracer(rec.tracer)
      )
      expect(text).toBe("new")
      const spans = rec.clientSpans()
      expect(spans).toHaveLength(1)
      expect(spans[0]!.attributes.get("url.path")).toBe("/old")
      expect(spans[0]!.attributes.get("http.response.status_code")).toBe(200)
      expect(seen).toEqual([`00-${spans[0]!.traceId}-${spans[0]!.spanId}-01`, `00-${spans[0]!.traceId}-${spans[0]!.spanId}-01`])
    }))
})

describe("spans through the platform layer", () => {
  it.scoped("one span per request (platform's own), and one traceparent header carrying it", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const rec = recordingTracer()
      const text = yield* Effect.flatMap(PlatformClient.get(`${server.url}/p`), (res) => res.text).pipe(
        Effect.scoped,
        Effect.provide(PlatformHttpClient.layer),
        Effect.withTracer(rec.tracer)
      )
      expect(text).toBe("ok")
      const spans = rec.clientSpans()
      expect(spans).toHaveLength(1)
      expect(server.seen[0]!.traceparent).toBe(`00-${spans[0]!.traceId}-${spans[0]!.spanId}-01`)
    }))
})
