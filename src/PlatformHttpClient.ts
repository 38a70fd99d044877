/**
 * `@effect/platform`'s `HttpClient.HttpClient` service implemented on effect-http1's pooled
 * keep-alive client, so every platform combinator (`filterStatusOk`, `retryTransient`,
 * `mapRequest`, `schemaBodyJson`, tracing spans, ...) runs on our engine.
 *
 * **Errors.** A failure before the response head is a platform `RequestError` whose `cause` is our
 * typed `Http1Error` (`error.cause._tag`):
 * - reason `"Transport"`: `ConnectError`, `TimeoutError` of every phase, `TlsError`,
 *   `RemoteDisconnected`, `ConnectionReset`, `TunnelError`, `PoolExhausted`, and the protocol
 *   errors of a response head (`BadStatusLine`, `UnknownProtocol`, `LineTooLong`,
 *   `TooManyHeaders`, `InvalidContentLength`, `UnknownTransferEncoding`, a response
 *   `InvalidHeader`): there is no response object to attach a `ResponseError` to yet, and this is
 *   what platform's node client reports for a parse error. `HttpClient.retryTransient` retries all
 *   of these, timeouts included (Effect issue #3999), so bound it with `times` or a schedule.
 *   `TooManyRedirects` (only with `followRedirects`) is also `"Transport"`.
 * - reason `"InvalidUrl"`: `InvalidURL`.
 * - reason `"Encode"`: `InvalidMethod`, a request `InvalidHeader`, `RequestBodyError`,
 *   `InvalidTlsOptions` (a caller error, so `retryTransient` does not retry it), a failure
 *   of a `Stream` / form-data body source (then `cause` is that failure), a `Raw` body that is not
 *   a string, bytes or an `ArrayBuffer`.
 * - A request aborted through its `AbortSignal` (e.g. `HttpClient.withScope` whose scope closed)
 *   before the head arrived: `"Transport"` with the signal's reason as `cause`.
 *
 * Body reads (`text`, `json`, `arrayBuffer`, `formData`, `urlParamsBody`, `stream`) fail with
 * `ResponseError` reason `"Decode"`, `cause` our error (`IncompleteRead`, a body `TimeoutError`,
 * `InvalidChunk`, ...) or the JSON / form parser's error.
 *
 * **Connections (the scoping rule).** Platform responses are not scoped in their type, and
 * platform's combinators drop responses unread without telling the client: `filterStatusOk` fails
 * with the response inside its `ResponseError`, `retryTransient` repeats on a 5xx response or
 * retries its error, `followRedirects` drops intermediate responses, and a caller may ignore the
 * result of `execute`. So the connection does not wait for the response to be dropped:
 * 1. **Read ahead.** As soon as the head is there, up to 64 KiB of the body is read into memory
 *    (a length-framed body of at most 64 KiB whole, a chunked or close-delimited one slice by
 *    slice until 64 KiB or its end), in a fiber of its own; the request yields once first, so a
 *    body that came with its head is already read when the response is handed out. A body read to
 *    its end gives its connection back to the pool at once, whether or not anybody reads the
 *    response; reads then come from memory (and still work after the request's scope closed). A
 *    slow body is never waited for: the response comes with the head, and the read ahead goes on.
 * 2. **Reading** (`text`, `json`, `arrayBuffer`, `formData`, `urlParamsBody` read the whole body
 *    once and share it; `stream` gives what was read ahead, then the bytes as they arrive):
 *    the connection goes back to the pool after the end of the body, and is closed when the read
 *    fails or is interrupted, or when a stream of it is dropped early.
 * 3. **Giving the response up**, at the first of: the request's `AbortSignal` fired (the fiber was
 *    interrupted before the response, a body read of the platform's interruptible response wrapper
 *    was interrupted, the `HttpClient.withScope` scope closed, or the response was
 *    garbage-collected unread — platform's `FinalizationRegistry`; nothing this client registers
 *    keeps the response reachable), or the `Scope` in the context of the request, if there is one
 *    (`Effect.scoped`, `it.scoped`, `Layer.scoped`), closed. Then the rest of a body that may fit
 *    in 64 KiB is waited for at most 100 ms (drained: the connection is reused, the body stays
 *    readable); a bigger body, or one that does not come in time, has its socket closed. The
 *    request's scope is a child of the caller's scope, removed from it as soon as the body is
 *    settled, so long-lived scopes do not accumulate finalizers.
 *
 * So a dropped response with a small body costs nothing; one with a body over 64 KiB (or one that
 * stalls) holds its connection until (3): read or stream such bodies, or use `Effect.scoped` or
 * `HttpClient.withScope` for deterministic release. A body read after (3) fails with
 * `ResponseError` "Decode" unless it had arrived whole, rather than return truncated data. Our
 * client's own `followRedirects` option drains intermediate responses and reuses the connection.
 *
 * @example
 * ```ts
 * import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 * import { PlatformHttpClient } from "effect-http1"
 *
 * const Todo = Schema.Struct({ id: Schema.Number, title: Schema.String })
 *
 * const program = Effect.gen(function* () {
 *   const client = (yield* HttpClient.HttpClient).pipe(
 *     HttpClient.mapRequest(HttpClientRequest.prependUrl("http://127.0.0.1:8080")),
 *     HttpClient.filterStatusOk,
 *     HttpClient.retryTransient({ times: 3 })
 *   )
 *   const res = yield* client.get("/todos/1")
 *   return yield* HttpClientResponse.schemaBodyJson(Todo)(res)
 * }).pipe(Effect.provide(PlatformHttpClient.layer))
 * ```
 * @since 0.1.0
 */
import * as PlatformClient from "@effect/platform/HttpClient"
import * as ClientError from "@effect/platform/HttpClientError"
import type * as ClientRequest from "@effect/platform/HttpClientRequest"
import type * as ClientResponse from "@effect/platform/HttpClientResponse"
import { type Config, type ConfigError, Context, Effect, Either, Layer, Option, Scope, Tracer } from "effect"
import type { Http1Error, InvalidTlsOptions } from "./Http1Error.js"
import type { Transport } from "./Transport.js"
import * as OurClient from "./HttpClient.js"
import { ResponseBody } from "./platform/body.js"
import { type BodySourceError, convertRequest, toRequestError } from "./platform/request.js"
import { PlatformResponse } from "./platform/response.js"

const abortError = (request: ClientRequest.HttpClientRequest, signal: AbortSignal): ClientError.RequestError =>
  new ClientError.RequestError({ request, reason: "Transport", cause: signal.reason, description: "request aborted" })

/** Fails with a `RequestError` as soon as `signal` aborts (never succeeds). */
const onAbort = (request: ClientRequest.HttpClientRequest, signal: AbortSignal): Effect.Effect<never, ClientError.RequestError> =>
  Effect.async<never, ClientError.RequestError>((resume) => {
    const listener = () => resume(Effect.fail(abortError(request, signal)))
    signal.addEventListener("abort", listener, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", listener))
  })

/**
 * Our context without platform's request span: our client's sockets capture the context of the
 * request that opened them for their finalizers, and the span's exit is the response, which would
 * then stay reachable as long as the socket lives (and never be garbage-collected and aborted).
 */
const withoutSpan = Context.omit(Tracer.ParentSpan)

const send = (
  client: OurClient.HttpClientService,
  request: ClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal,
  context: Context.Context<never>
): Effect.Effect<ClientResponse.HttpClientResponse, ClientError.HttpClientError> =>
  Effect.suspend(() => {
    if (signal.aborted) return Effect.fail(abortError(request, signal))
    const converted = convertRequest(request)
    if (Either.isLeft(converted)) return Effect.fail(converted.left)
    const { body, headers } = converted.right
    let target = url
    if (url.hash !== "") {
      target = new URL(url)
      target.hash = ""
    }
    const exchange: Effect.Effect<OurClient.ClientResponse, Http1Error | BodySourceError, Scope.Scope> = client.request({
      method: request.method,
      url: target,
      headers,
      body,
      // @effect/platform's HttpClient made this request's span (and its trace headers) already.
      tracing: false
    })
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(ResponseBody.open(Context.getOption(context, Scope.Scope)), (held) => {
        const run = exchange.pipe(
          Effect.mapError((e) => toRequestError(request, e)),
          Effect.tap((res) => held.attach(res)),
          Effect.raceFirst(onAbort(request, signal))
        )
        return Effect.matchCauseEffect(restore(Scope.extend(run, held.inner)), {
          onFailure: (cause) => Effect.zipRight(held.release, Effect.failCause(cause)),
          onSuccess: (res) => Effect.as(held.abortOn(signal), new PlatformResponse(request, res, held))
        })
      })
    ).pipe(Effect.mapInputContext(withoutSpan))
  })

/**
 * Builds the platform `HttpClient` from one of our pooled clients.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClient, PlatformHttpClient } from "effect-http1"
 *
 * const program = Effect.gen(function* () {
 *   const ours = yield* HttpClient.HttpClient
 *   const client = PlatformHttpClient.fromClient(ours)
 *   const res = yield* client.get("http://127.0.0.1:8080/")
 *   return yield* res.text
 * }).pipe(Effect.provide(HttpClient.layer))
 * ```
 * @since 0.1.0
 */
export const fromClient = (client: OurClient.HttpClientService): PlatformClient.HttpClient =>
  PlatformClient.make((request, url, signal, fiber) => send(client, request, url, signal, fiber.currentContext))

/**
 * The platform `HttpClient` on the pooled client in context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClient, PlatformHttpClient } from "effect-http1"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* PlatformHttpClient.make
 *   return yield* Effect.flatMap(client.get("http://127.0.0.1:8080/"), (res) => res.json)
 * }).pipe(Effect.provide(HttpClient.layerWith({ headersTimeout: "5 seconds" })))
 * ```
 * @since 0.1.0
 */
export const make: Effect.Effect<PlatformClient.HttpClient, never, OurClient.HttpClient> = Effect.map(
  OurClient.HttpClient,
  fromClient
)

/**
 * Provides platform's `HttpClient.HttpClient` from our `HttpClient.HttpClient` in context — for
 * tests on `Transport.layerMock`, or to share one pool between both APIs.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { HttpClient, PlatformHttpClient, Transport } from "effect-http1"
 *
 * const TestLayer = PlatformHttpClient.layerFromClient.pipe(
 *   Layer.provide(HttpClient.layerWithoutTransport),
 *   Layer.provide(Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]))
 * )
 * ```
 * @since 0.1.0
 */
export const layerFromClient: Layer.Layer<PlatformClient.HttpClient, never, OurClient.HttpClient> = Layer.effect(
  PlatformClient.HttpClient,
  make
)

/**
 * Platform's `HttpClient.HttpClient` on a pooled client of ours built with `options` (timeouts,
 * pool sizes, proxy, TLS, ...), with `Transport.layer`.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { PlatformHttpClient } from "effect-http1"
 *
 * const program = HttpClient.get("http://127.0.0.1:8080/").pipe(
 *   Effect.flatMap((res) => res.text),
 *   Effect.provide(PlatformHttpClient.layerWith({ headersTimeout: "5 seconds", maxConnectionsPerOrigin: 4 }))
 * )
 * ```
 * @since 0.1.0
 */
export const layerWith = <O extends OurClient.Options = OurClient.Options>(
  options: O
): Layer.Layer<PlatformClient.HttpClient, OurClient.TlsOptionsError<O>> => Layer.provide(layerFromClient, OurClient.layerWith<O>(options))

/**
 * Platform's `HttpClient.HttpClient` on our pooled client with default options; the `Transport`
 * in context if there is one (a test's `Transport.layerMock`), else `Transport.layer`.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { PlatformHttpClient } from "effect-http1"
 *
 * const program = HttpClient.get("http://127.0.0.1:8080/").pipe(
 *   Effect.flatMap((res) => res.json),
 *   Effect.provide(PlatformHttpClient.layer)
 * )
 * ```
 * @since 0.1.0
 */
export const layer: Layer.Layer<PlatformClient.HttpClient> = layerWith<{}>({})

/**
 * Platform's `HttpClient.HttpClient` on a pooled client of ours built with `options`, over the
 * `Transport` it requires.
 *
 * @example
 * ```ts
 * const TestLayer = PlatformHttpClient.layerWithoutTransportWith({ followRedirects: 3 }).pipe(
 *   Layer.provide(Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]))
 * )
 * ```
 * @since 0.1.0
 */
export const layerWithoutTransportWith = <O extends OurClient.Options = OurClient.Options>(
  options: O
): Layer.Layer<PlatformClient.HttpClient, OurClient.TlsOptionsError<O>, Transport> =>
  Layer.provide(layerFromClient, OurClient.layerWithoutTransportWith<O>(options))

/**
 * Platform's `HttpClient.HttpClient` with default options over the `Transport` it requires.
 *
 * @example
 * ```ts
 * const TestLayer = PlatformHttpClient.layerWithoutTransport.pipe(Layer.provide(Transport.layerMock([...])))
 * ```
 * @since 0.1.0
 */
export const layerWithoutTransport: Layer.Layer<PlatformClient.HttpClient, never, Transport> = layerWithoutTransportWith<{}>({})

/**
 * Platform's `HttpClient.HttpClient` with our client's options read through Effect `Config`.
 *
 * @example
 * ```ts
 * const Client = PlatformHttpClient.layerConfig({ maxConnectionsPerOrigin: Config.integer("HTTP_MAX_CONNECTIONS") })
 * ```
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Config.Wrap<OurClient.Options>
): Layer.Layer<PlatformClient.HttpClient, ConfigError.ConfigError | InvalidTlsOptions> =>
  Layer.provide(layerFromClient, OurClient.layerConfig(config))

/**
 * Our response behind a response of this client (status reason, HTTP version, trailers, ...), when
 * `response` came from it; `Option.none()` otherwise. Its head only: the body is read (ahead) by
 * the platform response, so read the body there, not through our response.
 *
 * @example
 * ```ts
 * const res = yield* client.get(url)
 * const reason = PlatformHttpClient.toClientResponse(res).pipe(Option.map((r) => r.reason))
 * ```
 * @since 0.1.0
 */
export const toClientResponse = (response: ClientResponse.HttpClientResponse): Option.Option<OurClient.ClientResponse> => {
  const original = response instanceof PlatformResponse ? response : (response as { readonly original?: unknown }).original
  return original instanceof PlatformResponse ? Option.some(original.source) : Option.none()
}
