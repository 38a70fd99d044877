/**
 * Spans for the pooled client, the way `@effect/platform`'s `HttpClient` makes them: one
 * `http.client <METHOD>` span of kind `client` per request (redirects followed inside it), with the
 * same OpenTelemetry attribute names, request and response headers as attributes (the names in
 * platform's `Headers.currentRedactedNames` shown as `<redacted>`), and `traceparent` / `b3`
 * headers so the server can join the trace. The span ends when the response head is there, as
 * platform's does.
 *
 * Off for a request when Effect's tracer is off (`Effect.withTracerEnabled(false)`), or by the
 * client's `tracing: false` / the request's `tracing: false` (then nothing here runs at all).
 */
import { currentRedactedNames } from "@effect/platform/Headers"
import { toHeaders } from "@effect/platform/HttpTraceContext"
import { Effect, FiberRef, type Tracer } from "effect"
import type { Headers } from "../Headers.js"
import type { ParsedUrl } from "../protocol/url.js"

/** What the span needs from a response. */
interface TracedResponse {
  readonly status: number
  readonly headers: Headers
}

const isRedacted = (name: string, redacted: ReadonlyArray<string | RegExp>): boolean => {
  for (const r of redacted) {
    if (typeof r === "string" ? r.toLowerCase() === name : r.test(name)) return true
  }
  return false
}

const headerAttributes = (
  span: Tracer.Span,
  prefix: string,
  headers: Iterable<readonly [string, string]>,
  redacted: ReadonlyArray<string | RegExp>
): void => {
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase()
    span.attribute(prefix + name, isRedacted(name, redacted) ? "<redacted>" : value)
  }
}

/** The trace fields a request carries: as header pairs, and as the head lines they encode to. */
export interface TraceFields {
  readonly pairs: ReadonlyArray<readonly [string, string]>
  /** `traceparent: ...\r\nb3: ...\r\n` (hex digits and dashes only: nothing to validate). */
  readonly lines: string
}

/** W3C `traceparent` and Zipkin `b3` for `span`, from `@effect/platform`'s `HttpTraceContext.toHeaders`. */
export const traceFields = (span: Tracer.Span): TraceFields => {
  const { b3, traceparent } = toHeaders(span)
  return { pairs: [["traceparent", traceparent!], ["b3", b3!]], lines: `traceparent: ${traceparent}\r\nb3: ${b3}\r\n` }
}

const PROPAGATED = new Set(["traceparent", "b3"])

/**
 * Runs `run` (the request with its header list) in an `http.client <METHOD>` span; with
 * `propagate`, `run` is given the span's `traceparent` and `b3` to send, and the caller's own
 * are taken out of the header list.
 * `url.full` is origin and target: credentials in the URL are never put in a span.
 */
export const traced = <A extends TracedResponse, E, R>(
  method: string,
  url: ParsedUrl | undefined,
  rawUrl: string,
  headers: ReadonlyArray<readonly [string, string]>,
  propagate: boolean,
  run: (headers: Array<[string, string]>, trace: TraceFields | undefined) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime<A, E, R>((fiber) => {
    if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) return run(headers as Array<[string, string]>, undefined)
    const redacted = fiber.getFiberRef(currentRedactedNames)
    const upper = method.toUpperCase()
    return Effect.useSpan(`http.client ${upper}`, { kind: "client", captureStackTrace: false }, (span) => {
      span.attribute("http.request.method", upper)
      if (url !== undefined) {
        span.attribute("server.address", url.origin)
        if (url.port !== url.defaultPort) span.attribute("server.port", url.port)
        span.attribute("url.full", url.origin + url.target)
        const q = url.target.indexOf("?")
        span.attribute("url.path", q < 0 ? url.target : url.target.slice(0, q))
        span.attribute("url.scheme", url.scheme)
        if (q >= 0 && q < url.target.length - 1) span.attribute("url.query", url.target.slice(q + 1))
      } else {
        span.attribute("url.full", rawUrl)
      }
      headerAttributes(span, "http.request.header.", headers, redacted)
      const own = propagate && headers.some(([k]) => PROPAGATED.has(k.toLowerCase()))
      const sent = (own ? headers.filter(([k]) => !PROPAGATED.has(k.toLowerCase())) : headers) as Array<[string, string]>
      // No `withParentSpan`: nothing below makes spans of its own, and the context change costs.
      return Effect.tap(run(sent, propagate ? traceFields(span) : undefined), (res) => {
        span.attribute("http.response.status_code", res.status)
        headerAttributes(span, "http.response.header.", res.headers, redacted)
      })
    })
  })
