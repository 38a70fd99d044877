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
 * **Connections (the scoping rule).** Platform responses are not scoped in their type, but every
 * response holds a pooled connection until its body is settled. Each request runs our scoped
 * `request` in a scope of its own, and that scope is closed — the connection going back to the
 * pool after a complete body, closed otherwise — at the first of:
 * 1. the body was read to its end, or the read failed or was interrupted (`text`, `json`,
 *    `arrayBuffer`, `formData`, `urlParamsBody` read the whole body once and share it; `stream`
 *    releases when the stream ends, fails or is dropped — dropping it early closes the socket);
 * 2. the request's `AbortSignal` fired: the fiber was interrupted before the response, a body
 *    read of the platform's interruptible response wrapper was interrupted, the `withScope` scope
 *    closed (`HttpClient.withScope`), or — last resort, platform's own behaviour — the response
 *    was garbage-collected unread;
 * 3. the `Scope` in the context of the request, if there is one (`Effect.scoped`, `it.scoped`,
 *    `Layer.scoped`), closes: the request's scope is a child of it, removed from it again as soon
 *    as (1) or (2) closes it, so long-lived scopes do not accumulate finalizers.
 *
 * So: read the body within the scope the request ran in (or with no scope at all). A body read
 * after that scope closed fails with `ResponseError` "Decode" rather than return truncated data.
 * A response whose body is never read holds its connection until (2) or (3); prefer reading or
 * streaming it, or `HttpClient.withScope` for deterministic release. Platform's
 * `HttpClient.followRedirects` (and `retryTransient` on 5xx responses) drop intermediate responses
 * unread; our client's own `followRedirects` option drains them and reuses the connection.
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
import { Context, Effect, Either, ExecutionStrategy, Exit, Layer, Option, Scope } from "effect"
import type { Http1Error } from "./Http1Error.js"
import * as OurClient from "./HttpClient.js"
import { type BodySourceError, convertRequest, toRequestError } from "./platform/request.js"
import { type BodyState, PlatformResponse } from "./platform/response.js"

const abortError = (request: ClientRequest.HttpClientRequest, signal: AbortSignal): ClientError.RequestError =>
  new ClientError.RequestError({ request, reason: "Transport", cause: signal.reason, description: "request aborted" })

/** Fails with a `RequestError` as soon as `signal` aborts (never succeeds). */
const onAbort = (request: ClientRequest.HttpClientRequest, signal: AbortSignal): Effect.Effect<never, ClientError.RequestError> =>
  Effect.async<never, ClientError.RequestError>((resume) => {
    const listener = () => resume(Effect.fail(abortError(request, signal)))
    signal.addEventListener("abort", listener, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", listener))
  })

/** The request's own scope: a child of the caller's scope when there is one. */
const openScope = (parent: Option.Option<Scope.Scope>): Effect.Effect<Scope.CloseableScope> =>
  Option.isSome(parent) ? Scope.fork(parent.value, ExecutionStrategy.sequential) : Scope.make()

/** Closes `scope` when `signal` aborts; the listener goes away with the scope. */
const closeOnAbort = (scope: Scope.CloseableScope, signal: AbortSignal): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (signal.aborted) return Scope.close(scope, Exit.void)
    const listener = () => {
      Effect.runFork(Scope.close(scope, Exit.void))
    }
    signal.addEventListener("abort", listener, { once: true })
    return Scope.addFinalizer(scope, Effect.sync(() => signal.removeEventListener("abort", listener)))
  })

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
      body
    })
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(openScope(Context.getOption(context, Scope.Scope)), (scope) => {
        const state: BodyState = { released: false }
        const run = exchange.pipe(
          Effect.mapError((e) => toRequestError(request, e)),
          Scope.extend(scope),
          Effect.raceFirst(onAbort(request, signal))
        )
        return Effect.matchCauseEffect(restore(run), {
          onFailure: (cause) => Effect.zipRight(Scope.close(scope, Exit.failCause(cause)), Effect.failCause(cause)),
          onSuccess: (res) =>
            Effect.zipRight(
              Effect.zipRight(
                Scope.addFinalizer(scope, Effect.sync(() => (state.released = true))),
                closeOnAbort(scope, signal)
              ),
              Effect.succeed(new PlatformResponse(request, res, scope, state))
            )
        })
      })
    )
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
 * }).pipe(Effect.provide(HttpClient.layer()))
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
 * }).pipe(Effect.provide(HttpClient.layer({ headersTimeout: "5 seconds" })))
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
 *   Layer.provide(HttpClient.layerWith()),
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
export const layerWith = (options?: OurClient.Options): Layer.Layer<PlatformClient.HttpClient> =>
  Layer.provide(layerFromClient, OurClient.layer(options))

/**
 * Platform's `HttpClient.HttpClient` on our pooled client with default options; needs nothing.
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
export const layer: Layer.Layer<PlatformClient.HttpClient> = layerWith()

/**
 * Our response behind a response of this client (status reason, HTTP version, trailers, ...), when
 * `response` came from it; `Option.none()` otherwise. Valid while the response's body is unread.
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
