/**
 * The pooled keep-alive client apps provide once and forget: connections per origin are opened on
 * demand, reused LIFO, checked before reuse, retired after idle time / lifetime / request count,
 * and closed when the layer's scope closes.
 *
 * Responses are scoped: the connection goes back to the pool once the body has been read to its
 * end (and the server did not ask to close), or is closed when the scope ends first.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClient } from "effect-http1"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* HttpClient.HttpClient
 *   const res = yield* client.get("http://127.0.0.1:8080/items")
 *   return yield* res.json
 * }).pipe(Effect.scoped, Effect.provide(HttpClient.layer({ maxConnectionsPerOrigin: 16 })))
 * ```
 * @since 0.1.0
 */
import { Cause, Config, Context, Deferred, Duration, Effect, Either, FiberId, Layer, Option, Schedule, Scope, Stream } from "effect"
import { Headers, type HeadersInput } from "./Headers.js"
import {
  DecodeError,
  InvalidURL,
  isRetryable,
  TimeoutError,
  TooManyRedirects,
  type Http1Error
} from "./Http1Error.js"
import type { Body } from "./HttpConnection.js"
import { HttpResponseImpl, totalTimeout, waitFor, type InterimResponse, type ResponseOwner } from "./HttpResponse.js"
import { writeBody } from "./internal/body.js"
import { millisOf } from "./internal/bytes.js"
import { openTunnel } from "./internal/tunnel.js"
import { Wire } from "./internal/wire.js"
import { OriginPool } from "./pool/OriginPool.js"
import type { HeadEvent, ParserLimits } from "./protocol/events.js"
import { bodyKindOf, encodeChunk, encodeRequestHead, LAST_CHUNK } from "./protocol/RequestEncoder.js"
import { parseUrl, type ParsedUrl } from "./protocol/url.js"
import { layer as transportLayer, Transport } from "./Transport.js"
import type { TlsOptions, TransportService } from "./transport/types.js"

/** Options of {@link make}, {@link layer} and {@link layerWith}. All optional. */
export interface Options {
  /** Sockets open at once per origin. Default 16. */
  readonly maxConnectionsPerOrigin?: number | undefined
  /** Requests waiting for a connection per origin; one more fails with `PoolExhausted`. Default 1024. */
  readonly maxPending?: number | undefined
  /** How long an idle kept-alive socket is kept (a server's `Keep-Alive: timeout=` shortens it). Default 60 s. */
  readonly maxIdleTime?: Duration.DurationInput | undefined
  /** Age after which a socket is not reused. Default none. */
  readonly maxLifetime?: Duration.DurationInput | undefined
  /** Exchanges after which a socket is not reused. Default none. */
  readonly maxRequestsPerConnection?: number | undefined
  /** Requests in flight per connection (idempotent ones only). Default 1 (no pipelining). */
  readonly pipelining?: number | undefined
  /** TCP connect plus TLS handshake. Default 10 s. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** From the last request byte to the response head. Default 30 s. */
  readonly headersTimeout?: Duration.DurationInput | undefined
  /** Between body chunks; also bounds a request write the server stops reading (phase `write`). Default 30 s. */
  readonly bodyTimeout?: Duration.DurationInput | undefined
  /** The whole exchange, body included. Default none. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Redirects followed. Default 0 (a 3xx is returned as it is). */
  readonly followRedirects?: number | undefined
  /** An HTTP proxy, `"http://user:pass@proxy:3128"`: absolute-form for http URLs, CONNECT for https. */
  readonly proxy?: string | undefined
  /** Read `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` (and lower-case forms) through Effect `Config`. Default false. */
  readonly proxyFromEnv?: boolean | undefined
  /** TLS options for https origins (verification on by default). */
  readonly tls?: TlsOptions | undefined
  /** Parser limits. */
  readonly limits?: Partial<ParserLimits> | undefined
}

/** A request for {@link HttpClientService.request}. */
export interface ClientRequest<E = never, R = never> {
  /** Default `"GET"`. */
  readonly method?: string | undefined
  readonly url: string | URL
  readonly headers?: HeadersInput | undefined
  /** String (UTF-8), bytes, or chunks (iterable, async iterable, Stream): chunks are sent chunked. */
  readonly body?: Body<E, R> | undefined
  /** Overrides the client's `followRedirects` for this request. */
  readonly followRedirects?: number | undefined
  /** Overrides the client's `timeout` for this request. */
  readonly timeout?: Duration.DurationInput | undefined
}

/** Options of the shorthand methods (`get`, `post`, ...). */
export type ShorthandOptions<E = never, R = never> = Omit<ClientRequest<E, R>, "method" | "url">

/** A response of the pooled client, valid within the scope of the request. */
export interface ClientResponse {
  readonly status: number
  readonly reason: string
  readonly version: 10 | 11
  readonly headers: Headers
  /** The URL that answered (after redirects). */
  readonly url: string
  /** Redirects followed to get here. */
  readonly redirects: number
  /** 1xx responses seen before this one. */
  readonly interim: ReadonlyArray<InterimResponse>
  /** Whether the connection closes after this response. */
  readonly willClose: boolean
  /** The whole body. */
  readonly bytes: Effect.Effect<Uint8Array, Http1Error>
  /** The whole body as UTF-8 text. */
  readonly text: Effect.Effect<string, Http1Error>
  /** The whole body parsed as JSON; `DecodeError` when it is not JSON. */
  readonly json: Effect.Effect<unknown, Http1Error>
  /** The body as it arrives. */
  readonly stream: Stream.Stream<Uint8Array, Http1Error>
  /** Reads up to `amt` bytes (all with no argument); empty at the end. */
  read(amt?: number): Effect.Effect<Uint8Array, Http1Error>
  /** Trailer fields, once the body has been read. */
  readonly trailers: Headers | undefined
  /** Reads and discards the rest of the body (the connection goes back to the pool). */
  readonly drain: Effect.Effect<void, Http1Error>
  /** Gives up the body: the connection is closed unless the body was read to its end. */
  readonly close: Effect.Effect<void>
}

/** The pooled client. */
export interface HttpClientService {
  /** Sends a request; the response (and its connection) belong to the surrounding `Scope`. */
  request<E = never, R = never>(request: ClientRequest<E, R>): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope>
  get(url: string | URL, options?: ShorthandOptions): Effect.Effect<ClientResponse, Http1Error, Scope.Scope>
  head(url: string | URL, options?: ShorthandOptions): Effect.Effect<ClientResponse, Http1Error, Scope.Scope>
  post<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope>
  put<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope>
  patch<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope>
  del<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope>
  options(url: string | URL, options?: ShorthandOptions): Effect.Effect<ClientResponse, Http1Error, Scope.Scope>
  /** Open / idle / pending counts per pool key, for monitoring and tests. */
  stats(): ReadonlyArray<{ readonly origin: string; readonly open: number; readonly idle: number; readonly pending: number }>
}

/** The service tag of the pooled client. */
export class HttpClient extends Context.Tag("effect-http1/HttpClient")<HttpClient, HttpClientService>() {}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])

/** Whether a method is idempotent (RFC 9110 §9.2.2): safe to send again. */
export const isIdempotent = (method: string): boolean => IDEMPOTENT.has(method.toUpperCase())

/**
 * A ready retry policy for idempotent requests: up to 3 retries with exponential backoff from
 * 50 ms (with jitter), only while `Http1Error.isRetryable(error)`.
 *
 * @example
 * ```ts
 * client.get(url).pipe(Effect.retry(HttpClient.retryPolicy))
 * ```
 */
export const retryPolicy: Schedule.Schedule<unknown, unknown> = Schedule.exponential("50 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(3)),
  Schedule.whileInput((e: unknown) => isRetryable(e))
)

/** Milliseconds of a duration option, `fallback` when absent; an infinite duration means no timeout. */
const ms = (d: Duration.DurationInput | undefined, fallback: number | undefined): number | undefined =>
  d === undefined ? fallback : millisOf(d)

interface ProxyConfig {
  readonly host: string
  readonly port: number
  readonly origin: string
  /** `Basic ...` when the proxy URL carries credentials. */
  readonly authorization: string | undefined
}

const parseProxy = (url: string): ProxyConfig | InvalidURL => {
  const parsed = parseUrl(url.includes("://") ? url : `http://${url}`)
  if (parsed instanceof InvalidURL) return parsed
  const auth =
    parsed.userinfo !== undefined
      ? `Basic ${Buffer.from(`${parsed.userinfo.username}:${parsed.userinfo.password}`, "utf8").toString("base64")}`
      : undefined
  return { host: parsed.host, port: parsed.port, origin: `${parsed.host}:${parsed.port}`, authorization: auth }
}

/** `NO_PROXY` matching as curl and Go do: `*`, exact hosts, domain suffixes (`.example.com` or `example.com`), optional `:port`. */
export const bypassesProxy = (noProxy: string | undefined, host: string, port: number): boolean => {
  if (noProxy === undefined || noProxy.trim() === "") return false
  const h = host.toLowerCase()
  for (let entry of noProxy.split(/[\s,]+/)) {
    entry = entry.trim().toLowerCase()
    if (entry === "") continue
    if (entry === "*") return true
    let entryPort: number | undefined
    const m = /^(.*):(\d+)$/.exec(entry)
    if (m !== null && !entry.endsWith("]")) {
      entry = m[1]!
      entryPort = Number(m[2])
    }
    entry = entry.replace(/^\[|\]$/g, "")
    if (entryPort !== undefined && entryPort !== port) continue
    if (entry.startsWith("*.")) entry = entry.slice(1)
    if (entry.startsWith(".") ? h.endsWith(entry) || h === entry.slice(1) : h === entry || h.endsWith(`.${entry}`)) return true
  }
  return false
}

interface EnvProxies {
  readonly http: string | undefined
  readonly https: string | undefined
  readonly noProxy: string | undefined
}

const envVar = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.getOrUndefined),
    Effect.orElseSucceed(() => undefined)
  )

/** Reads the proxy variables through `Config` (upper case first, then lower case, as curl). */
const readEnvProxies: Effect.Effect<EnvProxies> = Effect.gen(function* () {
  const pick = (a: string | undefined, b: string | undefined) => (a !== undefined && a !== "" ? a : b !== undefined && b !== "" ? b : undefined)
  const http = pick(yield* envVar("HTTP_PROXY"), yield* envVar("http_proxy"))
  const https = pick(yield* envVar("HTTPS_PROXY"), yield* envVar("https_proxy"))
  const noProxy = pick(yield* envVar("NO_PROXY"), yield* envVar("no_proxy"))
  return { http, https, noProxy }
})

const isReplayable = (body: unknown): boolean => body === undefined || typeof body === "string" || body instanceof Uint8Array


const REDIRECTS = new Set([301, 302, 303, 307, 308])
const CROSS_ORIGIN_STRIP = new Set(["authorization", "cookie", "proxy-authorization"])

/** A Keep-Alive `timeout=` hint in ms (minus a margin for the trip), if the server gave one. */
const keepAliveHint = (headers: ReadonlyArray<string>): number | undefined => {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 10 && headers[i]!.toLowerCase() === "keep-alive") {
      const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(headers[i + 1]!)
      if (m !== null) return Math.max(0, Number(m[1]) * 1000 - 500)
    }
  }
  return undefined
}

class ClientResponseImpl implements ClientResponse {
  constructor(
    private readonly res: HttpResponseImpl,
    readonly url: string,
    readonly redirects: number
  ) {}
  get status() {
    return this.res.status
  }
  get reason() {
    return this.res.reason
  }
  get version() {
    return this.res.version
  }
  get headers() {
    return this.res.headers
  }
  get interim() {
    return this.res.interim
  }
  get willClose() {
    return this.res.willClose
  }
  get trailers() {
    return this.res.trailers
  }
  get bytes() {
    return this.res.read()
  }
  get text() {
    return this.res.text
  }
  get json(): Effect.Effect<unknown, Http1Error> {
    return Effect.flatMap(this.res.text, (text) =>
      Effect.try({ try: () => JSON.parse(text) as unknown, catch: (cause) => new DecodeError({ reason: "body is not valid JSON", cause }) })
    )
  }
  get stream() {
    return this.res.stream
  }
  read(amt?: number) {
    return this.res.read(amt)
  }
  get drain() {
    return this.res.drain
  }
  get close() {
    return this.res.close
  }
  /** @internal */
  get inner(): HttpResponseImpl {
    return this.res
  }
}

interface Route {
  readonly key: string
  /** The request target on the wire (absolute-form through an http proxy). */
  readonly target: string
  readonly extraHeaders: ReadonlyArray<readonly [string, string]>
  readonly connect: (scope: Scope.Scope) => Effect.Effect<Wire, Http1Error>
}

/**
 * Builds the pooled client. Its sockets are closed when the surrounding scope closes.
 *
 * @example
 * ```ts
 * const client = yield* HttpClient.make({ followRedirects: 5 })
 * ```
 */
export const make = (options: Options = {}): Effect.Effect<HttpClientService, never, Transport | Scope.Scope> =>
  Effect.gen(function* () {
    const transport = yield* Transport
    const scope = yield* Effect.scope
    const env = options.proxyFromEnv === true ? yield* readEnvProxies : undefined
    const client = new PooledClient(transport, scope, options, env)
    yield* Effect.addFinalizer(() => client.shutdown)
    return client
  })

class PooledClient implements HttpClientService {
  private readonly pools = new Map<string, OriginPool>()
  private readonly connectTimeoutMs: number | undefined
  private readonly headersTimeoutMs: number | undefined
  private readonly bodyTimeoutMs: number | undefined
  private readonly timeoutMs: number | undefined
  private readonly proxy: ProxyConfig | InvalidURL | undefined
  private readonly envHttp: ProxyConfig | InvalidURL | undefined
  private readonly envHttps: ProxyConfig | InvalidURL | undefined

  constructor(
    private readonly transport: TransportService,
    private readonly scope: Scope.Scope,
    private readonly config: Options,
    private readonly env: EnvProxies | undefined
  ) {
    this.connectTimeoutMs = ms(config.connectTimeout, 10_000)
    this.headersTimeoutMs = ms(config.headersTimeout, 30_000)
    this.bodyTimeoutMs = ms(config.bodyTimeout, 30_000)
    this.timeoutMs = ms(config.timeout, undefined)
    this.proxy = config.proxy !== undefined ? parseProxy(config.proxy) : undefined
    this.envHttp = env?.http !== undefined ? parseProxy(env.http) : undefined
    this.envHttps = env?.https !== undefined ? parseProxy(env.https) : undefined
  }

  get shutdown(): Effect.Effect<void> {
    return Effect.forEach(this.pools.values(), (p) => p.shutdown, { discard: true })
  }

  stats() {
    return Array.from(this.pools, ([origin, p]) => ({ origin, open: p.open, idle: p.idleCount, pending: p.pendingCount }))
  }

  private poolFor(route: Route): OriginPool {
    let pool = this.pools.get(route.key)
    if (pool === undefined) {
      const o = this.config
      pool = new OriginPool(this.scope, {
        origin: route.key,
        maxConnections: Math.max(1, o.maxConnectionsPerOrigin ?? 16),
        maxPending: Math.max(0, o.maxPending ?? 1024),
        maxIdleTimeMs: ms(o.maxIdleTime, 60_000)!,
        maxLifetimeMs: ms(o.maxLifetime, undefined),
        maxRequestsPerConnection: o.maxRequestsPerConnection,
        pipelining: Math.max(1, o.pipelining ?? 1),
        // A request body the server stops reading is bounded like a stalled response body.
        writeTimeoutMs: this.bodyTimeoutMs,
        connect: route.connect
      })
      this.pools.set(route.key, pool)
    }
    return pool
  }

  private proxyFor(url: ParsedUrl): ProxyConfig | InvalidURL | undefined {
    if (this.proxy !== undefined) return this.proxy
    if (this.env === undefined) return undefined
    if (bypassesProxy(this.env.noProxy, url.host, url.port)) return undefined
    return url.scheme === "https" ? this.envHttps : this.envHttp
  }

  private readonly parsedUrls = new Map<string, ParsedUrl | InvalidURL>()
  private readonly routes = new Map<string, Route | InvalidURL>()

  /** `parseUrl` with a bounded cache: apps call the same few URLs over and over. */
  private parse(url: string): ParsedUrl | InvalidURL {
    let parsed = this.parsedUrls.get(url)
    if (parsed === undefined) {
      parsed = parseUrl(url)
      if (this.parsedUrls.size >= 1024) this.parsedUrls.clear()
      this.parsedUrls.set(url, parsed)
    }
    return parsed
  }

  /** The route of an origin (and target), cached per origin for direct and tunnelled routes. */
  private routeCached(url: ParsedUrl): Route | InvalidURL {
    const key = `${url.origin}\u0000${url.target}`
    let route = this.routes.get(key)
    if (route === undefined) {
      route = this.route(url)
      if (this.routes.size >= 1024) this.routes.clear()
      this.routes.set(key, route)
    }
    return route
  }

  private route(url: ParsedUrl): Route | InvalidURL {
    const proxy = this.proxyFor(url)
    if (proxy instanceof InvalidURL) return proxy
    const secure = url.scheme === "https"
    const o = this.config
    const connectTimeout = this.connectTimeoutMs
    if (proxy === undefined) {
      return {
        key: url.origin,
        target: url.target,
        extraHeaders: [],
        connect: (scope) =>
          this.transport
            .connect({ host: url.host, port: url.port, secure, tls: o.tls, timeout: connectTimeout })
            .pipe(
              Scope.extend(scope),
              Effect.map((socket) => new Wire(socket, url.host, url.port, o.limits))
            )
      }
    }
    const auth: ReadonlyArray<readonly [string, string]> =
      proxy.authorization !== undefined ? [["Proxy-Authorization", proxy.authorization]] : []
    if (!secure) {
      // Plain http through a proxy: absolute-form targets on connections to the proxy.
      return {
        key: `http-proxy://${proxy.origin}`,
        target: `${url.origin}${url.target}`,
        extraHeaders: auth,
        connect: (scope) =>
          this.transport
            .connect({ host: proxy.host, port: proxy.port, secure: false, timeout: connectTimeout })
            .pipe(
              Scope.extend(scope),
              Effect.map((socket) => new Wire(socket, proxy.host, proxy.port, o.limits))
            )
      }
    }
    return {
      key: `${url.origin} via ${proxy.origin}`,
      target: url.target,
      extraHeaders: [],
      connect: (scope) =>
        openTunnel({
          transport: this.transport,
          scope,
          proxyHost: proxy.host,
          proxyPort: proxy.port,
          targetHost: url.host,
          targetPort: url.port,
          headers: auth,
          secure: true,
          tls: o.tls,
          timeout: connectTimeout,
          timeoutMs: this.headersTimeoutMs,
          limits: o.limits
        })
    }
  }

  request<E = never, R = never>(req: ClientRequest<E, R>): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope> {
    return Effect.suspend(() => {
      const totalMs = req.timeout !== undefined ? ms(req.timeout, undefined) : this.timeoutMs
      const deadline = totalMs !== undefined ? { at: Date.now() + totalMs, ms: totalMs } : undefined
      const maxRedirects = req.followRedirects ?? this.config.followRedirects ?? 0
      const method = req.method ?? "GET"
      const headers = Headers.from(req.headers).pairs()
      const run = this.follow(method, String(req.url), headers, req.body, maxRedirects, 0, deadline)
      if (deadline === undefined) return run
      // The total timeout also bounds connect and queueing; reads below use the same deadline.
      return Effect.timeoutFail(run, {
        duration: Duration.millis(deadline.ms),
        onTimeout: () => new TimeoutError({ phase: "total", timeoutMs: deadline.ms, method })
      })
    })
  }

  private follow<E, R>(
    method: string,
    url: string,
    headers: Array<[string, string]>,
    body: Body<E, R> | undefined,
    maxRedirects: number,
    count: number,
    deadline: { readonly at: number; readonly ms: number } | undefined
  ): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope> {
    const parsed = this.parse(url)
    if (parsed instanceof InvalidURL) return Effect.fail(parsed)
    const route = this.routeCached(parsed)
    if (route instanceof InvalidURL) return Effect.fail(route)
    const exchange = this.exchange(method, parsed, route, headers, body, deadline)
    // The common case, without a generator: no redirect to follow.
    if (maxRedirects <= 0) return Effect.map(exchange, (res) => new ClientResponseImpl(res, url, count) as ClientResponse)
    return Effect.gen(this, function* () {
      const res = yield* exchange
      const location = res.headers.get("location")
      if (!REDIRECTS.has(res.status) || location === undefined) {
        return new ClientResponseImpl(res, url, count) as ClientResponse
      }
      let next: URL
      try {
        next = new URL(location, url)
      } catch {
        return new ClientResponseImpl(res, url, count) as ClientResponse
      }
      // 307/308 resend the body: only a replayable one can be sent twice.
      const keepMethod = res.status === 307 || res.status === 308
      if (keepMethod && !isReplayable(body)) return new ClientResponseImpl(res, url, count) as ClientResponse
      if (count >= maxRedirects) {
        yield* res.close
        return yield* Effect.fail(new TooManyRedirects({ location: next.href, count: count + 1 }))
      }
      // Free the connection: drain a small body, close on a large one.
      if (res.length !== undefined && res.length <= 65_536) yield* Effect.ignore(res.drain)
      else yield* res.close
      const toGet = !keepMethod && (res.status === 303 ? method.toUpperCase() !== "HEAD" : method.toUpperCase() === "POST")
      const nextMethod = toGet ? "GET" : method
      const nextBody = toGet ? undefined : body
      const sameOrigin = new URL(url).origin === next.origin
      const nextHeaders = headers.filter(([k]) => {
        const n = k.toLowerCase()
        if (n === "host") return false
        if (!sameOrigin && CROSS_ORIGIN_STRIP.has(n)) return false
        if (toGet && (n === "content-length" || n === "transfer-encoding" || n === "content-type")) return false
        return true
      })
      return yield* this.follow(nextMethod, next.href, nextHeaders, nextBody, maxRedirects, count + 1, deadline)
    })
  }

  /** One request/response on a pooled connection, with the stale-connection retry. */
  private exchange<E, R>(
    method: string,
    url: ParsedUrl,
    route: Route,
    headers: ReadonlyArray<readonly [string, string]>,
    body: Body<E, R> | undefined,
    deadline: { readonly at: number; readonly ms: number } | undefined
  ): Effect.Effect<HttpResponseImpl, Http1Error | E, R | Scope.Scope> {
    const allHeaders = route.extraHeaders.length === 0 ? headers : [...headers, ...route.extraHeaders]
    const encoded = encodeRequestHead({
      method,
      target: route.target,
      headers: allHeaders,
      host: url.host,
      port: url.port,
      defaultPort: url.defaultPort,
      body: bodyKindOf(body)
    })
    if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
    const { head, chunked } = encoded.right
    const pool = this.poolFor(route)
    const retryable = isIdempotent(method) && isReplayable(body)
    const pipelinable = retryable && pool.options.pipelining > 1
    const plainOwner: ResponseOwner = { release: (w, reusable) => pool.release(w, reusable), discard: (w) => pool.discard(w) }
    // Uninterruptible between the lease and its hand-over (to the response, or back to the pool):
    // an interruption while writing or waiting for the head still returns the socket.
    const attempt = (fresh: boolean): Effect.Effect<HttpResponseImpl, Http1Error | E, R | Scope.Scope> =>
      Effect.uninterruptibleMask((restore) => Effect.flatMap(restore(pool.acquire(fresh, pipelinable)), (lease) => {
        const wire = lease.wire
        const interim: Array<InterimResponse> = []
        let owner = plainOwner
        let exchange: Effect.Effect<HeadEvent | undefined, Http1Error | E, R>
        if (!pipelinable) {
          wire.begin(method)
          exchange = Effect.zipRight(this.writeRequest(wire, head, body, chunked), this.readHead(wire, interim, deadline))
        } else {
          // Pipelining: write now, read when the responses queued before ours are over.
          const previous = wire.tail
          const done = Deferred.unsafeMake<void, void>(FiberId.none)
          wire.tail = done
          wire.enqueue(method)
          owner = {
            release: (w, reusable) => Effect.zipRight(Deferred.succeed(done, undefined), pool.release(w, reusable)),
            discard: (w) => Effect.zipRight(Deferred.fail(done, undefined), pool.discard(w))
          }
          const turn = previous === undefined ? Effect.succeed(true) : Effect.match(Deferred.await(previous), { onFailure: () => false, onSuccess: () => true })
          exchange = Effect.zipRight(
            this.writeRequest(wire, head, body, chunked),
            Effect.flatMap(turn, (ok) => {
              // The wire broke before our turn: nothing of ours was answered.
              if (!ok || wire.retired) return Effect.succeed(undefined)
              wire.startReading(method)
              return this.readHead(wire, interim, deadline)
            })
          )
        }
        return Effect.matchCauseEffect(restore(exchange), {
          onFailure: (cause) => {
            const discard = owner.discard(wire)
            const failure = Option.getOrUndefined(Cause.failureOption(cause)) as { _tag?: string } | undefined
            const stale =
              lease.reused &&
              retryable &&
              !wire.sawResponseByte &&
              (failure?._tag === "RemoteDisconnected" || failure?._tag === "ConnectionReset")
            // A kept-alive socket the server closed while idle: once more on a fresh one.
            return Effect.zipRight(discard, stale ? restore(attempt(true)) : Effect.failCause(cause))
          },
          onSuccess: (ev) => {
            if (ev === undefined) return Effect.zipRight(owner.discard(wire), restore(attempt(true)))
            const hint = keepAliveHint(ev.headers)
            if (hint !== undefined) wire.keepAliveMs = Math.min(hint, ms(this.config.maxIdleTime, 60_000)!)
            const res = new HttpResponseImpl(wire, ev, method, interim, owner, this.bodyTimeoutMs, false, deadline)
            return Effect.zipRight(
              res.settleIfBodiless(ev.framing),
              // Whatever happens, the connection is settled when the request's scope closes.
              // Scope.addFinalizer on the scope itself: Effect.addFinalizer also captures the
              // fiber's context for the finalizer, which costs ~30 µs a request here.
              Effect.flatMap(Effect.scope, (scope) => Effect.as(Scope.addFinalizer(scope, res.close), res))
            )
          }
        })
      }))
    return attempt(false)
  }

  private writeRequest<E, R>(
    wire: Wire,
    head: Uint8Array,
    body: Body<E, R> | undefined,
    chunked: boolean
  ): Effect.Effect<void, Http1Error | E, R> {
    if (body === undefined) return chunked ? wire.write(Buffer.concat([head, LAST_CHUNK])) : wire.write(head)
    if (typeof body === "string" || body instanceof Uint8Array) {
      const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
      const framed = chunked ? Buffer.concat([encodeChunk(bytes), LAST_CHUNK]) : bytes
      if (framed.length <= 65_536) return wire.write(Buffer.concat([head, framed]))
      return Effect.zipRight(wire.write(head), wire.write(framed))
    }
    return Effect.zipRight(wire.write(head), writeBody(wire, body, chunked))
  }

  private readHead(
    wire: Wire,
    interim: Array<InterimResponse>,
    deadline: { readonly at: number; readonly ms: number } | undefined
  ): Effect.Effect<HeadEvent, Http1Error> {
    const loop = wire.finalHead(interim, () => waitFor(this.headersTimeoutMs, "headers", deadline))
    return deadline === undefined ? loop : Effect.mapError(loop, (e) => totalTimeout(e, deadline))
  }

  get(url: string | URL, options?: ShorthandOptions) {
    return this.request({ ...options, method: "GET", url })
  }
  head(url: string | URL, options?: ShorthandOptions) {
    return this.request({ ...options, method: "HEAD", url })
  }
  post<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>) {
    return this.request<E, R>({ ...options, method: "POST", url })
  }
  put<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>) {
    return this.request<E, R>({ ...options, method: "PUT", url })
  }
  patch<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>) {
    return this.request<E, R>({ ...options, method: "PATCH", url })
  }
  del<E = never, R = never>(url: string | URL, options?: ShorthandOptions<E, R>) {
    return this.request<E, R>({ ...options, method: "DELETE", url })
  }
  options(url: string | URL, options?: ShorthandOptions) {
    return this.request({ ...options, method: "OPTIONS", url })
  }
}

/**
 * The pooled client as a layer, with `Transport.layer` (plain and TLS) built in.
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(HttpClient.layer({ maxConnectionsPerOrigin: 16, timeout: "10 seconds" })))
 * ```
 */
export const layer = (options?: Options): Layer.Layer<HttpClient> =>
  Layer.provide(layerWith(options), transportLayer)

/**
 * The pooled client as a layer over the `Transport` in context (tests hand it `Transport.layerMock`).
 *
 * @example
 * ```ts
 * const TestClient = HttpClient.layerWith().pipe(Layer.provide(Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])))
 * ```
 */
export const layerWith = (options?: Options): Layer.Layer<HttpClient, never, Transport> =>
  Layer.scoped(HttpClient, make(options))
