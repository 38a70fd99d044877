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
 * }).pipe(Effect.scoped, Effect.provide(HttpClient.layerWithoutTransportWith({ maxConnectionsPerOrigin: 16 })))
 * ```
 * @since 0.1.0
 */
import { Cause, Clock, Config, type ConfigError, Context, Duration, Effect, Either, Layer, Option, Schedule, Scope, Stream } from "effect"
import { Headers, type HeadersInput } from "./Headers.js"
import {
  InvalidURL,
  type InvalidTlsOptions,
  isRetryable,
  RequestAborted,
  TimeoutError,
  TooManyRedirects,
  type Http1Error
} from "./Http1Error.js"
import { knownBytes, writeBody, type Body } from "./internal/body.js"
import { millisOf } from "./internal/bytes.js"
import { withFields } from "./internal/errors.js"
import { callerBody, callerHeaders } from "./internal/callerInput.js"
import { ACCEPT_ENCODING, AbortableResponse, abortedError, codingOf, DecodedResponse, raceSignal } from "./internal/decompress.js"
import type { HttpResponse } from "./HttpResponse.js"
import { deadlineTimeout, defaultBodyLimits, HttpResponseImpl, type BodyLimits, type Deadline } from "./internal/response.js"
import { traced, type TraceFields } from "./internal/tracing.js"
import { openTunnel } from "./internal/tunnel.js"
import { Wire, readTimeout } from "./internal/wire.js"
import { OriginPool, type Lease } from "./pool/OriginPool.js"
import type { Exchange } from "./protocol/ClientConnection.js"
import type { HeadEvent, InterimResponse, ParserLimits } from "./protocol/events.js"
import { prepareRequest, type PreparedRequest } from "./protocol/RequestEncoder.js"
import { parseUrl, type ParsedUrl } from "./protocol/url.js"
import { layer as transportLayer, Transport } from "./Transport.js"
import { checkTlsContext, validateTlsOptions } from "./transport/tlsOptions.js"
import type { ReadTimeout, TlsOptions, TransportService } from "./transport/types.js"

/** Options of {@link make}, {@link layerWith}, {@link layerWithoutTransportWith} and {@link layerConfig}. All optional. */
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
  /**
   * Redirects followed. Default 0 (a 3xx is returned as it is). 303 → GET; 301/302 turn a POST
   * into a GET (as fetch); 307/308 keep the method and body. A body that cannot be sent twice (an
   * iterable, async iterable or Stream) is never re-sent: that 3xx is returned as it is.
   * `Authorization`, `Cookie` and `Proxy-Authorization` are dropped across origins; every other
   * header the caller gave follows.
   */
  readonly followRedirects?: number | undefined
  /** Follow a redirect from https to http (headers and bodies then go in clear). Default false. */
  readonly allowInsecureRedirects?: boolean | undefined
  /** An HTTP proxy, `"http://user:pass@proxy:3128"`: absolute-form for http URLs, CONNECT for https. */
  readonly proxy?: string | undefined
  /** Read `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` (and lower-case forms) through Effect `Config`. Default false. */
  readonly proxyFromEnv?: boolean | undefined
  /** TLS options for https origins (verification on by default). */
  readonly tls?: TlsOptions | undefined
  /** Parser limits. */
  readonly limits?: Partial<ParserLimits> | undefined
  /** The most `bytes` / `text` / `json` / `read()` may collect; past it `BodyTooLarge`. Default 128 MiB. */
  readonly maxBodySize?: number | undefined
  /** The most `stream` / `drain` may deliver. Default unbounded. */
  readonly maxStreamedBodySize?: number | undefined
  /**
   * The longest a request waits for a pooled connection when all are busy; past it `TimeoutError`
   * (phase `connect`) whose message carries the pool's state. Default 60 s.
   */
  readonly queueTimeout?: Duration.DurationInput | undefined
  /**
   * Every connection goes to this Unix domain socket instead of TCP, as the Docker Engine API
   * wants (`socketPath: "/var/run/docker.sock"`, then `client.get("http://localhost/containers/json")`).
   * The URL's host still makes the `Host` header (and, for https, the TLS server name); `proxy`
   * and `proxyFromEnv` are not used. Pools are per socket path and origin.
   */
  readonly socketPath?: string | undefined
  /**
   * One `http.client <METHOD>` span per request, as `@effect/platform` makes them (same attribute
   * names; see the README's Tracing section). Default true; also off under
   * `Effect.withTracerEnabled(false)`.
   */
  readonly tracing?: boolean | undefined
  /** Send `traceparent` and `b3` headers from the request's span. Default true (when tracing). */
  readonly tracePropagation?: boolean | undefined
  /**
   * Decode `gzip`, `deflate` and `br` response bodies (node:zlib), and send
   * `Accept-Encoding: gzip, deflate, br` unless the request has an `Accept-Encoding`. The bounds
   * (`maxBodySize`, `maxStreamedBodySize`) count decoded bytes; corrupt data fails with
   * `DecompressionError`. Headers stay as received (as fetch). Default false; a request's own
   * `decompress` wins.
   */
  readonly decompress?: boolean | undefined
}

/**
 * The error of building a client with these options: `InvalidTlsOptions` when they carry `tls`
 * (checked when the client is built), else none.
 */
export type TlsOptionsError<O> = O extends { readonly tls: object } ? InvalidTlsOptions : never

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
  /** Overrides the client's `tracing` for this request (`false`: no span, no trace headers). */
  readonly tracing?: boolean | undefined
  /** Overrides the client's `decompress` for this request. */
  readonly decompress?: boolean | undefined
  /**
   * Aborts the request: an already-aborted signal fails with `RequestAborted` before anything is
   * connected; an abort while the request runs interrupts it (its connection is closed) and fails
   * with `RequestAborted`, as do the response's body reads after it.
   */
  readonly signal?: AbortSignal | undefined
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
  /** The header value, repeated fields joined with `", "`; `defaultValue` when absent. */
  getHeader(name: string): string | undefined
  getHeader(name: string, defaultValue: string): string
  /** The whole body (at most `maxBodySize`, else `BodyTooLarge`). */
  readonly bytes: Effect.Effect<Uint8Array, Http1Error>
  /** The whole body as UTF-8 text. */
  readonly text: Effect.Effect<string, Http1Error>
  /** The whole body parsed as JSON; `DecodeError` when it is not JSON. */
  readonly json: Effect.Effect<unknown, Http1Error>
  /** The body as it arrives. */
  readonly stream: Stream.Stream<Uint8Array, Http1Error>
  /** Reads up to `amt` bytes (all with no argument); empty at the end. */
  read(amt?: number): Effect.Effect<Uint8Array, Http1Error>
  /** Reads up to `buffer.length` bytes into `buffer`; resolves with the count (0 at the end). */
  readInto(buffer: Uint8Array): Effect.Effect<number, Http1Error>
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
export const isIdempotent = (method: string): boolean => IDEMPOTENT.has(method) || IDEMPOTENT.has(method.toUpperCase())

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
  /** An `https://` proxy: TLS to the proxy itself, verified like any https origin. */
  readonly secure: boolean
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
  return { secure: parsed.scheme === "https", host: parsed.host, port: parsed.port, origin: `${parsed.scheme}://${parsed.host}:${parsed.port}`, authorization: auth }
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

const isReplayable = (body: unknown): boolean =>
  body === undefined || typeof body === "string" || ArrayBuffer.isView(body) || body instanceof ArrayBuffer

const EMPTY = new Uint8Array(0)

/**
 * Times an idempotent request that nobody answered (stale socket, dead pipeline) is sent again,
 * on a new socket (the contract: once).
 */
const MAX_UNANSWERED_RETRIES = 1

/** Adds the request's method, host and port to an error raised before a socket was involved. */
const located = <E extends Http1Error>(error: E, where: { method: string; host: string; port: number }): E => withFields(error, where)


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
    private readonly res: HttpResponse,
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
    return this.res.json
  }
  getHeader(name: string): string | undefined
  getHeader(name: string, defaultValue: string): string
  getHeader(name: string, defaultValue?: string): string | undefined {
    return this.res.headers.get(name) ?? defaultValue
  }
  readInto(buffer: Uint8Array) {
    return this.res.readInto(buffer)
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
}

/** What `decompress` and `signal` ask of one request. */
interface RequestExtras {
  readonly decompress: boolean
  readonly signal: AbortSignal | undefined
}

/** `prepared` with `lines` (complete `name: value\r\n` lines, Latin-1) before its blank line. */
const withHeadLines = (prepared: PreparedRequest, lines: string): PreparedRequest => {
  const head = prepared.head
  const out = Buffer.allocUnsafe(head.length + lines.length)
  out.set(head.subarray(0, head.length - 2), 0)
  out.write(lines, head.length - 2, "latin1")
  out[out.length - 2] = 13
  out[out.length - 1] = 10
  return { ...prepared, head: out }
}

/** A request whose bytes are known before it is sent (see `wholeRequest`). */
interface WholeRequest {
  /** What to write: the head alone, or head + framed body once `framesWhole` ran. */
  bytes: Uint8Array | undefined
  readonly body: Uint8Array
  readonly head?: Uint8Array | undefined
}

interface Route {
  readonly key: string
  /** The request target on the wire (absolute-form through an http proxy). */
  readonly target: string
  readonly extraHeaders: ReadonlyArray<readonly [string, string]>
  readonly connect: (scope: Scope.Scope) => Effect.Effect<Wire, Http1Error>
  /** Prepared heads of requests without caller headers or body, by method (see `exchange`). */
  readonly heads: Map<string, PreparedRequest>
}

/**
 * Builds the pooled client. Its sockets are closed when the surrounding scope closes.
 *
 * @example
 * ```ts
 * const client = yield* HttpClient.make({ followRedirects: 5 })
 * ```
 */
export const make = <O extends Options = Options>(
  options: O = {} as O
): Effect.Effect<HttpClientService, TlsOptionsError<O>, Transport | Scope.Scope> =>
  makeClient(options) as Effect.Effect<HttpClientService, TlsOptionsError<O>, Transport | Scope.Scope>

const makeClient = (options: Options): Effect.Effect<HttpClientService, InvalidTlsOptions, Transport | Scope.Scope> =>
  Effect.gen(function* () {
    // TLS options are checked once, when the client is built: a key we would drop is refused.
    const tls = options.tls === undefined ? undefined : yield* Either.flatMap(validateTlsOptions(options.tls), checkTlsContext)
    const transport = yield* Transport
    const scope = yield* Effect.scope
    const env = options.proxyFromEnv === true ? yield* readEnvProxies : undefined
    const clock = yield* Effect.clock
    const client = new PooledClient(transport, scope, clock, tls === undefined ? options : { ...options, tls }, env)
    yield* Effect.addFinalizer(() => client.shutdown)
    return client
  })

class PooledClient implements HttpClientService {
  private readonly pools = new Map<string, OriginPool>()
  private readonly connectTimeoutMs: number | undefined
  private readonly headersTimeoutMs: number | undefined
  private readonly bodyTimeoutMs: number | undefined
  private readonly timeoutMs: number | undefined
  private readonly queueTimeoutMs: number | undefined
  private readonly maxIdleTimeMs: number
  private readonly limits: BodyLimits
  private readonly proxy: ProxyConfig | InvalidURL | undefined
  private readonly envHttp: ProxyConfig | InvalidURL | undefined
  private readonly envHttps: ProxyConfig | InvalidURL | undefined
  private readonly now: () => number

  constructor(
    private readonly transport: TransportService,
    private readonly scope: Scope.Scope,
    private readonly clock: Clock.Clock,
    private readonly config: Options,
    private readonly env: EnvProxies | undefined
  ) {
    this.connectTimeoutMs = ms(config.connectTimeout, 10_000)
    this.headersTimeoutMs = ms(config.headersTimeout, 30_000)
    this.bodyTimeoutMs = ms(config.bodyTimeout, 30_000)
    this.timeoutMs = ms(config.timeout, undefined)
    this.queueTimeoutMs = ms(config.queueTimeout, 60_000)
    this.maxIdleTimeMs = ms(config.maxIdleTime, 60_000) ?? Number.POSITIVE_INFINITY
    this.limits = {
      maxBodySize: config.maxBodySize ?? defaultBodyLimits.maxBodySize,
      maxStreamedBodySize: config.maxStreamedBodySize ?? defaultBodyLimits.maxStreamedBodySize
    }
    this.proxy = config.proxy !== undefined ? parseProxy(config.proxy) : undefined
    this.envHttp = env?.http !== undefined ? parseProxy(env.http) : undefined
    this.envHttps = env?.https !== undefined ? parseProxy(env.https) : undefined
    this.now = () => clock.unsafeCurrentTimeMillis()
  }

  get shutdown(): Effect.Effect<void> {
    return Effect.forEach(Array.from(this.pools.values()), (p) => p.shutdown, { discard: true })
  }

  stats() {
    return Array.from(this.pools, ([origin, p]) => ({ origin, open: p.open, idle: p.idleCount, pending: p.pendingCount }))
  }

  private poolFor(route: Route): OriginPool {
    let pool = this.pools.get(route.key)
    if (pool === undefined) {
      const o = this.config
      pool = new OriginPool(this.scope, this.clock, {
        origin: route.key,
        maxConnections: Math.max(1, o.maxConnectionsPerOrigin ?? 16),
        maxPending: Math.max(0, o.maxPending ?? 1024),
        maxIdleTimeMs: this.maxIdleTimeMs,
        maxLifetimeMs: ms(o.maxLifetime, undefined),
        maxRequestsPerConnection: o.maxRequestsPerConnection,
        pipelining: Math.max(1, o.pipelining ?? 1),
        queueTimeoutMs: this.queueTimeoutMs,
        connect: route.connect,
        // A pool with no socket and no waiter holds nothing: forget it (50,000 origins must not
        // mean 50,000 pools kept forever).
        onEmpty: (p) => {
          if (this.pools.get(route.key) === p) this.pools.delete(route.key)
        }
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
    const o = this.config
    const socketPath = o.socketPath
    // Through a Unix socket the socket is the peer: no proxy.
    const proxy = socketPath === undefined ? this.proxyFor(url) : undefined
    if (proxy instanceof InvalidURL) return proxy
    const secure = url.scheme === "https"
    const connectTimeout = this.connectTimeoutMs
    const writeTimeout = readTimeout(this.bodyTimeoutMs, "write")
    if (proxy === undefined) {
      return {
        // Pools never mix sockets: the socket path is part of the key.
        key: socketPath === undefined ? url.origin : `${url.origin} via unix:${socketPath}`,
        target: url.target,
        extraHeaders: [],
        heads: new Map(),
        connect: (scope) =>
          this.transport
            .connect({ host: url.host, port: url.port, secure, tls: o.tls, timeout: connectTimeout, socketPath })
            .pipe(
              Scope.extend(scope),
              Effect.map((socket) => new Wire(socket, url.host, url.port, o.limits, writeTimeout))
            )
      }
    }
    const auth: ReadonlyArray<readonly [string, string]> =
      proxy.authorization !== undefined ? [["Proxy-Authorization", proxy.authorization]] : []
    if (!secure) {
      // Plain http through a proxy: absolute-form targets on connections to the proxy (over TLS
      // for an https:// proxy, so credentials never go in clear).
      return {
        key: `http-proxy ${proxy.origin}`,
        target: `${url.origin}${url.target}`,
        extraHeaders: auth,
        heads: new Map(),
        connect: (scope) =>
          this.transport
            .connect({ host: proxy.host, port: proxy.port, secure: proxy.secure, tls: o.tls, timeout: connectTimeout })
            .pipe(
              Scope.extend(scope),
              Effect.map((socket) => new Wire(socket, proxy.host, proxy.port, o.limits, writeTimeout))
            )
      }
    }
    return {
      key: `${url.origin} via ${proxy.origin}`,
      target: url.target,
      extraHeaders: [],
      heads: new Map(),
      connect: (scope) =>
        openTunnel({
          transport: this.transport,
          scope,
          proxyHost: proxy.host,
          proxyPort: proxy.port,
          proxySecure: proxy.secure,
          targetHost: url.host,
          targetPort: url.port,
          headers: auth,
          secure: true,
          tls: o.tls,
          timeout: connectTimeout,
          timeoutMs: this.headersTimeoutMs,
          limits: o.limits,
          writeTimeout
        })
    }
  }

  request<E = never, R = never>(req: ClientRequest<E, R>): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope> {
    return Effect.suspend(() => {
      const totalMs = req.timeout !== undefined ? ms(req.timeout, undefined) : this.timeoutMs
      const deadline = totalMs !== undefined ? { at: this.now() + totalMs, ms: totalMs } : undefined
      const maxRedirects = req.followRedirects ?? this.config.followRedirects ?? 0
      const method = req.method ?? "GET"
      const url = String(req.url)
      const parsed = this.parse(url)
      const where = parsed instanceof InvalidURL ? { method } : { method, host: parsed.host, port: parsed.port }
      const headers = callerHeaders(req.headers)
      if (!Array.isArray(headers)) return Effect.fail(withFields(headers, where))
      const extras = this.extrasOf(req, headers, where)
      if (extras instanceof RequestAborted) return Effect.fail(extras)
      const followed = (req.tracing ?? this.config.tracing) !== false
        ? traced(method, parsed instanceof InvalidURL ? undefined : parsed, url, headers, this.config.tracePropagation !== false, (sent, trace) =>
          this.follow(method, url, sent, req.body, maxRedirects, 0, deadline, extras, trace))
        : this.follow(method, url, headers, req.body, maxRedirects, 0, deadline, extras)
      const run = extras?.signal === undefined ? followed : raceSignal(followed, extras.signal, where)
      if (deadline === undefined) return run
      // The total timeout also bounds connect and queueing; reads below use the same deadline.
      return Effect.timeoutFail(run, {
        duration: Duration.millis(deadline.ms),
        onTimeout: () => new TimeoutError({ phase: "total", timeoutMs: deadline.ms, ...where })
      })
    })
  }

  /**
   * What `decompress` and `signal` ask of a request (undefined when neither is used: nothing is
   * paid for them); adds `Accept-Encoding` to `headers` when decoding. `RequestAborted` for a
   * signal that has already aborted.
   */
  private extrasOf<E, R>(req: ClientRequest<E, R>, headers: Array<[string, string]>, where: object): RequestExtras | RequestAborted | undefined {
    const decompress = req.decompress ?? this.config.decompress ?? false
    const signal = req.signal
    if (!decompress && signal === undefined) return undefined
    if (signal !== undefined && signal.aborted) return abortedError(signal, where)
    if (decompress && !headers.some(([k]) => k.length === 15 && k.toLowerCase() === "accept-encoding")) headers.push(["Accept-Encoding", ACCEPT_ENCODING])
    return { decompress, signal }
  }

  /** The response handed to the caller: decoded and bound to the signal as `extras` ask. */
  private respond(res: HttpResponseImpl, url: string, count: number, extras: RequestExtras): Effect.Effect<ClientResponse, never, Scope.Scope> {
    const coding = extras.decompress ? codingOf(res.method, res.status, res.headers) : undefined
    let view: HttpResponse = res
    if (coding !== undefined) view = new DecodedResponse(res, coding)
    if (extras.signal !== undefined) view = new AbortableResponse(view, extras.signal, { method: res.method, ...res.context() })
    const out = new ClientResponseImpl(view, url, count) as ClientResponse
    // The decoder's zlib memory is freed when the request's scope closes, read or not.
    return view === res ? Effect.succeed(out) : Effect.flatMap(Effect.scope, (scope) => Effect.as(Scope.addFinalizer(scope, view.close), out))
  }

  private follow<E, R>(
    method: string,
    url: string,
    headers: Array<[string, string]>,
    body: Body<E, R> | undefined,
    maxRedirects: number,
    count: number,
    deadline: Deadline | undefined,
    extras?: RequestExtras | undefined,
    trace?: TraceFields | undefined
  ): Effect.Effect<ClientResponse, Http1Error | E, R | Scope.Scope> {
    const parsed = this.parse(url)
    if (parsed instanceof InvalidURL) return Effect.fail(parsed)
    const route = this.routeCached(parsed)
    if (route instanceof InvalidURL) return Effect.fail(route)
    const exchange = this.exchange(method, parsed, route, headers, body, deadline, trace)
    // The common case, without a generator: no redirect to follow.
    if (maxRedirects <= 0) {
      if (extras !== undefined) return Effect.flatMap(exchange, (res) => this.respond(res, url, count, extras))
      return Effect.map(exchange, (res) => new ClientResponseImpl(res, url, count) as ClientResponse)
    }
    return Effect.gen(this, function* () {
      const res = yield* exchange
      const location = res.headers.get("location")
      const asIs = extras !== undefined ? yield* this.respond(res, url, count, extras) : (new ClientResponseImpl(res, url, count) as ClientResponse)
      if (!REDIRECTS.has(res.status) || location === undefined) return asIs
      let next: URL
      try {
        next = new URL(location, url)
      } catch {
        return asIs
      }
      if (next.protocol !== "http:" && next.protocol !== "https:") return asIs
      // https → http would send headers and bodies in clear: only when allowed.
      if (parsed.scheme === "https" && next.protocol === "http:" && this.config.allowInsecureRedirects !== true) return asIs
      const upper = method.toUpperCase()
      // 303 → GET (HEAD stays HEAD); 301/302 turn POST into GET, as fetch does; the rest keep the method.
      const toGet = res.status === 303 ? upper !== "HEAD" : (res.status === 301 || res.status === 302) && upper === "POST"
      // A body that is sent again must be replayable; a generator or a stream cannot go twice.
      if (!toGet && body !== undefined && !isReplayable(body)) return asIs
      if (count >= maxRedirects) {
        yield* res.close
        return yield* Effect.fail(new TooManyRedirects({ location: next.href, count: count + 1 }))
      }
      // Free the connection: drain a small body, close on a large one.
      if (res.length !== undefined && res.length <= 65_536) yield* Effect.ignore(res.drain)
      else yield* res.close
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
      return yield* this.follow(nextMethod, next.href, nextHeaders, nextBody, maxRedirects, count + 1, deadline, extras, trace)
    })
  }

  /** One request/response on a pooled connection, with the retry of requests nobody answered. */
  private exchange<E, R>(
    method: string,
    url: ParsedUrl,
    route: Route,
    headers: ReadonlyArray<readonly [string, string]>,
    body: Body<E, R> | undefined,
    deadline: Deadline | undefined,
    trace?: TraceFields | undefined
  ): Effect.Effect<HttpResponseImpl, Http1Error | E, R | Scope.Scope> {
    const kind = callerBody(body)
    const where = { method, host: url.host, port: url.port }
    if (kind._tag === "RequestBodyError") return Effect.fail(located(kind, where))
    // A request with no caller headers and no body has the same head every time: kept per route.
    // With a span, its two trace lines are appended to that kept head (they are hex: nothing to
    // check); with caller headers they go through prepareRequest like the others.
    const plain = headers.length === 0 && kind._tag === "none"
    const sent = trace === undefined || plain ? headers : [...headers, ...trace.pairs]
    const kept =
      (plain ? route.heads.get(method) : undefined) ??
      prepareRequest({
        method,
        target: route.target,
        headers: route.extraHeaders.length === 0 ? sent : [...sent, ...route.extraHeaders],
        host: url.host,
        port: url.port,
        defaultPort: url.defaultPort,
        body: kind
      })
    if (plain && "head" in kept && route.heads.size < 16) route.heads.set(method, kept)
    if (!("head" in kept)) return Effect.fail(located(kept, where))
    const prepared = plain && trace !== undefined ? withHeadLines(kept, trace.lines) : kept
    const retryable = isIdempotent(method) && isReplayable(body)
    const pipelinable = retryable && kind._tag === "none" && (this.config.pipelining ?? 1) > 1
    // Uninterruptible between the lease and its hand-over (to the response, or back to the pool):
    // an interruption while writing or waiting for the head still settles the connection.
    // A body known in advance goes out with the head in one write (and, on sockets that offer it,
    // with the head read in one suspension).
    const whole = this.wholeRequest(prepared, kind, body)
    const attempt = (fresh: boolean, retries: number): Effect.Effect<HttpResponseImpl, Http1Error | E, R | Scope.Scope> =>
      Effect.uninterruptibleMask((restore) => {
        const onLease = (lease: Lease): Effect.Effect<HttpResponseImpl, Http1Error | E, R | Scope.Scope> => {
          // The lease's own pool (looked up per attempt: a pool left empty is forgotten).
          const pool = lease.pool
          const pc = lease.conn
          const wire = pc.wire
          const ex = wire.start(prepared, lease.pipelined)
          if (ex === undefined) {
            // Bytes arrived (or the peer closed) since the lease was checked: never write on it.
            const again = fresh ? Effect.fail(wire.lost(undefined, "a fresh connection could not take the request")) : restore(Effect.suspend(() => attempt(true, retries)))
            return Effect.zipRight(pool.discard(pc, undefined), again)
          }
          const interim: Array<InterimResponse> = []
          // The headers deadline starts when the last request byte is written (suspended until then).
          const run: Effect.Effect<HeadEvent, Http1Error | E, R> =
            whole !== undefined && this.framesWhole(wire, ex, whole)
              ? this.readHead(wire, ex, interim, deadline, whole.bytes)
              : Effect.zipRight(this.writeRequest(wire, ex, prepared, body), Effect.suspend(() => this.readHead(wire, ex, interim, deadline)))
          return Effect.matchCauseEffect(restore(run), {
            onFailure: (cause) => {
              const discard = pool.discard(pc, ex)
              if (!retryable || retries >= MAX_UNANSWERED_RETRIES || ex.sawResponseByte || Cause.isInterrupted(cause)) {
                return Effect.zipRight(discard, Effect.failCause(cause))
              }
              const failure = Option.getOrUndefined(Cause.failureOption(cause)) as Http1Error | E | undefined
              const tag = (failure as { _tag?: string } | undefined)?._tag
              // Nobody answered it: a kept-alive socket the server closed, or a pipelined request
              // behind one that failed. Once more, on a new socket.
              const unanswered = (lease.reused || ex.index > 0) && (tag === "RemoteDisconnected" || tag === "ConnectionReset")
              return Effect.zipRight(discard, unanswered ? restore(Effect.suspend(() => attempt(true, retries + 1))) : Effect.failCause(cause))
            },
            onSuccess: (head) => {
              const hint = keepAliveHint(head.headers)
              if (hint !== undefined) pc.keepAliveMs = Math.min(hint, this.maxIdleTimeMs)
              const res = new HttpResponseImpl(wire, ex, head, method, interim, pc.owner, this.bodyTimeoutMs, false, deadline, this.limits, this.now)
              return Effect.zipRight(
                res.settleIfBodiless(head.framing),
                // Whatever happens, the connection is settled when the request's scope closes.
                // Scope.addFinalizer on the scope itself: Effect.addFinalizer also captures the
                // fiber's context for the finalizer, which costs ~30 µs a request here.
                Effect.flatMap(Effect.scope, (scope) => Effect.as(Scope.addFinalizer(scope, res.close), res))
              )
            }
          })
        }
        const pool = this.poolFor(route)
        // An idle connection ready now: no Effect step for the lease.
        const ready = pool.tryAcquire(fresh)
        return ready !== undefined ? onLease(ready) : Effect.flatMap(restore(pool.acquire(fresh, pipelinable, where)), onLease)
      })
    return attempt(false, 0)
  }

  /** The whole request as one buffer when its body is known bytes (head + body ≤ 64 KiB). */
  private wholeRequest<E, R>(prepared: PreparedRequest, kind: ReturnType<typeof callerBody>, body: Body<E, R> | undefined): WholeRequest | undefined {
    if (kind._tag === "none" || body === undefined) return { bytes: prepared.head, body: EMPTY }
    const bytes = knownBytes(body)
    if (bytes === undefined || prepared.head.length + bytes.length > 65_536) return undefined
    return { bytes: undefined, body: bytes, head: prepared.head }
  }

  /**
   * Frames a known body through the core (its checks run per exchange); whether `whole.bytes` is
   * now the request to write. A body the core refuses takes the ordinary path, which reports it.
   */
  private framesWhole(wire: Wire, ex: Exchange, whole: WholeRequest): boolean {
    const framed = wire.conn.frameBody(ex, whole.body)
    if (!(framed instanceof Uint8Array)) return false
    const end = wire.conn.endBody(ex)
    if (!(end instanceof Uint8Array)) return false
    if (whole.head === undefined) {
      // No body: nothing was framed.
      return framed.length === 0 && end.length === 0
    }
    whole.bytes = framed.length === 0 && end.length === 0 ? whole.head : Buffer.concat([whole.head, framed, end])
    return true
  }

  /** Writes the head and the body, framed by the connection core; small ones in one write. */
  private writeRequest<E, R>(wire: Wire, ex: Exchange, prepared: PreparedRequest, body: Body<E, R> | undefined): Effect.Effect<void, Http1Error | E, R> {
    const bytes = body === undefined ? EMPTY : knownBytes(body)
    if (bytes === undefined) return Effect.zipRight(wire.write(prepared.head, ex), writeBody(wire, ex, body))
    const framed = wire.conn.frameBody(ex, bytes)
    if (!(framed instanceof Uint8Array)) return Effect.fail(wire.contextualize(framed, ex))
    const end = wire.conn.endBody(ex)
    if (!(end instanceof Uint8Array)) return Effect.fail(wire.contextualize(end, ex))
    if (framed.length === 0 && end.length === 0) return wire.write(prepared.head, ex)
    if (framed.length + end.length <= 65_536) return wire.write(Buffer.concat([prepared.head, framed, end]), ex)
    return Effect.zipRight(wire.write(prepared.head, ex), Effect.zipRight(wire.write(framed, ex), wire.write(end, ex)))
  }

  /**
   * Reads the final head. `headersTimeout` is a deadline from the last request byte (interim
   * responses and trickled bytes do not extend it); the total deadline bounds it too.
   */
  private readHead(
    wire: Wire,
    ex: Exchange,
    interim: Array<InterimResponse>,
    deadline: Deadline | undefined,
    /** The whole request, written first (then the deadline starts right after it). */
    request?: Uint8Array
  ): Effect.Effect<HeadEvent, Http1Error> {
    const headersMs = this.headersTimeoutMs
    // Set at the first read, which starts once the request is written.
    let headers: Deadline | undefined = undefined
    const wait = (): ReadTimeout | undefined => {
      const now = this.now()
      if (headers === undefined && headersMs !== undefined) headers = { at: now + headersMs, ms: headersMs }
      let t: ReadTimeout | undefined = headers === undefined ? undefined : { ms: Math.max(1, headers.at - now), phase: "headers" }
      if (deadline !== undefined) {
        const left = Math.max(1, deadline.at - now)
        if (t === undefined || left < t.ms) t = { ms: left, phase: "total" }
      }
      return t
    }
    const head = request === undefined ? wire.finalHead(ex, interim, wait) : wire.roundTrip(ex, request, interim, wait)
    return Effect.mapError(head, (e) => deadlineTimeout(deadlineTimeout(e, headers, "headers"), deadline))
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
 * Layers follow one rule in every module of this package (as in `@effect/platform-node`):
 * - `layer` is complete and takes default options;
 * - `layerWith(options)` is complete, with options;
 * - `layerWithoutTransport` / `layerWithoutTransportWith(options)` need a `Transport` in context
 *   (for a transport of your own making);
 * - `layerConfig(config)` reads the options through Effect `Config`.
 *
 * "Complete" layers use the `Transport` they find in context when there is one (a test's
 * `Transport.layerMock`), else `Transport.layer` (node:net / node:tls). So a test that provides
 * `Transport.layerMock` can never dial the network by picking the wrong layer.
 */
const withTransport = <A, E, R>(effect: Effect.Effect<A, E, R | Transport>): Effect.Effect<A, E, Exclude<R, Transport>> =>
  Effect.flatMap(Effect.serviceOption(Transport), (found) =>
    Option.isSome(found)
      ? Effect.provideService(effect, Transport, found.value)
      : Effect.provide(effect, transportLayer)) as Effect.Effect<A, E, Exclude<R, Transport>>

/**
 * The pooled client with `options`; the `Transport` in context if there is one (a test's
 * `Transport.layerMock`), else `Transport.layer` (plain TCP and TLS).
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(HttpClient.layerWithoutTransportWith({ maxConnectionsPerOrigin: 16, timeout: "10 seconds" })))
 * ```
 * @since 0.1.0
 */
export const layerWith = <O extends Options = Options>(options: O): Layer.Layer<HttpClient, TlsOptionsError<O>> =>
  Layer.scoped(HttpClient, withTransport(make<O>(options)))

/**
 * The pooled client with default options; the `Transport` in context if there is one, else
 * `Transport.layer`.
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(HttpClient.layer))
 * // in a test: the mock answers, nothing is dialled
 * program.pipe(Effect.provide(HttpClient.layer), Effect.provide(Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])))
 * ```
 * @since 0.1.0
 */
export const layer: Layer.Layer<HttpClient> = layerWith<{}>({})

/**
 * The pooled client with `options`, over the `Transport` it requires (a transport of your own, or
 * `Transport.layerMock` made explicit in the type).
 *
 * @example
 * ```ts
 * const TestClient = HttpClient.layerWithoutTransportWith({ pipelining: 4 }).pipe(
 *   Layer.provide(Transport.layerMock(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]))
 * )
 * ```
 * @since 0.1.0
 */
export const layerWithoutTransportWith = <O extends Options = Options>(
  options: O
): Layer.Layer<HttpClient, TlsOptionsError<O>, Transport> => Layer.scoped(HttpClient, make<O>(options))

/**
 * The pooled client with default options over the `Transport` it requires.
 *
 * @example
 * ```ts
 * const TestClient = HttpClient.layerWithoutTransport.pipe(Layer.provide(Transport.layerMock([...])))
 * ```
 * @since 0.1.0
 */
export const layerWithoutTransport: Layer.Layer<HttpClient, never, Transport> = layerWithoutTransportWith<{}>({})

/**
 * The pooled client with options read through Effect `Config` (each field a `Config` or a plain
 * value wrapped with `Config.succeed`); like {@link layerWith} otherwise.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 *
 * const Client = HttpClient.layerConfig({
 *   maxConnectionsPerOrigin: Config.integer("HTTP_MAX_CONNECTIONS").pipe(Config.withDefault(16)),
 *   timeout: Config.duration("HTTP_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30))),
 *   proxyFromEnv: Config.succeed(true)
 * })
 * // Layer<HttpClient, ConfigError | InvalidTlsOptions>
 * ```
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<HttpClient, ConfigError.ConfigError | InvalidTlsOptions> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (options) => layerWith<Options>(options))) as Layer.Layer<
    HttpClient,
    ConfigError.ConfigError | InvalidTlsOptions
  >
