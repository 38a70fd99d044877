/**
 * One HTTP/1.1 connection, one request/response at a time: Python's `HTTPConnection` told in
 * Effect.
 *
 * The socket is opened lazily by the first request (Python's auto-open), kept alive between
 * exchanges, reopened after a response that closes it, and released with the `Scope` the
 * connection was made in. Calls out of order fail with `CannotSendRequest`, `CannotSendHeader`
 * or `ResponseNotReady`, as in Python.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpConnection, Transport } from "effect-http1"
 *
 * const program = Effect.gen(function* () {
 *   const conn = yield* HttpConnection.make({ host: "127.0.0.1", port: 8080, timeout: "5 seconds" })
 *   yield* conn.request("GET", "/")
 *   const res = yield* conn.getResponse
 *   return yield* res.read()
 * }).pipe(Effect.scoped, Effect.provide(Transport.layer))
 * ```
 * @since 0.1.0
 */
import { Duration, Effect, ExecutionStrategy, Exit, Scope, Stream } from "effect"
import {
  CannotSendHeader,
  CannotSendRequest,
  InvalidURL,
  NotConnected,
  ResponseNotReady,
  type Http1Error
} from "./Http1Error.js"
import { HttpResponseImpl, type HttpResponse, type InterimResponse, type ResponseOwner } from "./HttpResponse.js"
import { Headers, type HeadersInput } from "./Headers.js"
import type { HeadEvent, ParserLimits } from "./protocol/events.js"
import {
  bodyKindOf,
  chooseFraming,
  hostHeader,
  LAST_CHUNK,
  validateHeader,
  validateMethod,
  validateTarget
} from "./protocol/RequestEncoder.js"
import { parseHostPort } from "./protocol/url.js"
import { toBytes, writeBody } from "./internal/body.js"
import { millisOf } from "./internal/bytes.js"
import { openTunnel } from "./internal/tunnel.js"
import { readTimeout, Wire } from "./internal/wire.js"
import { Transport, type Socket, type TlsOptions } from "./Transport.js"

export type { HttpResponse } from "./HttpResponse.js"

/** A chunk of a request body. Strings are sent as UTF-8. */
export type BodyChunk = Uint8Array | string

/**
 * A request body: bytes, a string (UTF-8), or chunks from an iterable, an async iterable or a
 * `Stream`. Bytes and strings get a Content-Length; chunk sources are sent chunked unless the
 * caller gives a Content-Length.
 */
export type Body<E = never, R = never> =
  | string
  | Uint8Array
  | Iterable<BodyChunk>
  | AsyncIterable<BodyChunk>
  | Stream.Stream<BodyChunk, E, R>

/** Options of {@link make}. */
export interface Options {
  /** Host name or address; may carry `:port`, IPv6 in brackets (`"[::1]:8080"`). */
  readonly host: string
  /** Port; defaults to the one in `host`, else 80 (443 for HTTPS). */
  readonly port?: number | undefined
  /** Bounds connect, every read and every blocked write (Python's `timeout`). None by default. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Local address to bind before connecting. */
  readonly sourceAddress?: { readonly host: string; readonly port?: number | undefined } | undefined
  /** The largest piece written at once from a chunk source (iterable, async iterable, Stream); Python's `blocksize`. Default 8192. */
  readonly blockSize?: number | undefined
  /** TLS options (used by `HttpsConnection`, and inside a tunnel). */
  readonly tls?: TlsOptions | undefined
  /** Parser limits (line length, header count, ...). */
  readonly limits?: Partial<ParserLimits> | undefined
  /** Open the socket on first use (Python's `auto_open`). Default true. */
  readonly autoOpen?: boolean | undefined
}

/** Options of `request`. */
export interface RequestOptions<E = never, R = never> {
  /** Header fields, in order; as pairs or a record. */
  readonly headers?: HeadersInput | undefined
  readonly body?: Body<E, R> | undefined
  /** Chunk-encode the body yourself-given `Transfer-Encoding` (Python's `encode_chunked`). */
  readonly encodeChunked?: boolean | undefined
  /**
   * Send `Expect: 100-continue`, then the head, and send the body only after a `100 Continue`
   * (or when `continueTimeout` passes without an answer). A final status instead means the body
   * is not sent and the connection closes after that response.
   */
  readonly expectContinue?: boolean | undefined
  /** How long to wait for `100 Continue` before sending the body anyway. Default 1 second. */
  readonly continueTimeout?: Duration.DurationInput | undefined
}

/** Options of `putRequest`. */
export interface PutRequestOptions {
  readonly skipHost?: boolean | undefined
  readonly skipAcceptEncoding?: boolean | undefined
}

/** Python's `HTTPConnection`. */
export interface HttpConnection {
  readonly host: string
  readonly port: number
  /** Whether the connection speaks TLS to its peer. */
  readonly secure: boolean
  /** Opens the socket now (else the first request opens it). Through the tunnel when one is set. */
  readonly connect: Effect.Effect<void, Http1Error>
  /** Sends a whole request: request line, headers (Host, Accept-Encoding, framing added as Python does), body. */
  request<E = never, R = never>(
    method: string,
    url: string,
    options?: RequestOptions<E, R>
  ): Effect.Effect<void, Http1Error | E, R>
  /** Reads the response head (skipping 1xx interim responses). */
  readonly getResponse: Effect.Effect<HttpResponse, Http1Error>
  /** Starts a request: the request line, plus `Host` and `Accept-Encoding: identity` unless skipped. */
  putRequest(method: string, url: string, options?: PutRequestOptions): Effect.Effect<void, Http1Error>
  /** Adds a header field; several values are joined by `"\r\n\t"` as Python does. */
  putHeader(name: string, ...values: ReadonlyArray<string | number>): Effect.Effect<void, Http1Error>
  /** Ends the head and sends it, with the body if given (chunk-encoded when `encodeChunked`). */
  endHeaders<E = never, R = never>(
    body?: Body<E, R>,
    options?: { readonly encodeChunked?: boolean | undefined }
  ): Effect.Effect<void, Http1Error | E, R>
  /** Sends bytes as they are (body data after `endHeaders`). */
  send<E = never, R = never>(data: Body<E, R>): Effect.Effect<void, Http1Error | E, R>
  /** Closes the socket (the next request opens a new one) and resets the state. */
  readonly close: Effect.Effect<void>
  /** Tunnel through this connection's host (an HTTP proxy) to `host:port` with CONNECT. */
  setTunnel(
    host: string,
    port?: number,
    headers?: HeadersInput
  ): Effect.Effect<void, Http1Error>
  /** Level > 0 logs what is sent and received through Effect's logger. */
  setDebugLevel(level: number): Effect.Effect<void>
  /** Whether a socket is open now. */
  isConnected(): boolean
  /** Python's `__state`: `"Idle"`, `"Request-started"` or `"Request-sent"`. */
  readonly state: ConnectionState
  /** The underlying socket, while connected. */
  readonly socket: Socket | undefined
}

/** Python's connection states. */
export type ConnectionState = "Idle" | "Request-started" | "Request-sent"

const DEFAULT_BLOCK_SIZE = 8192
/** @internal Shared by HttpConnection and HttpsConnection. */
export const makeWith = (
  options: Options,
  secure: boolean
): Effect.Effect<HttpConnection, InvalidURL, Transport | Scope.Scope> =>
  Effect.gen(function* () {
    const defaultPort = secure ? 443 : 80
    const hp = parseHostPort(options.host, options.port, defaultPort)
    if (hp instanceof InvalidURL) return yield* Effect.fail(hp)
    const transport = yield* Transport
    const scope = yield* Effect.scope
    return new HttpConnectionImpl(transport, scope, hp.host, hp.port, defaultPort, secure, options)
  })

/**
 * Makes a connection to `options.host`. No socket is opened until the first request (or
 * `connect`); every socket is closed when the surrounding `Scope` closes.
 *
 * @example
 * ```ts
 * const conn = yield* HttpConnection.make({ host: "[::1]:8080" })
 * ```
 */
export const make = (options: Options): Effect.Effect<HttpConnection, InvalidURL, Transport | Scope.Scope> =>
  makeWith(options, false)

interface Tunnel {
  readonly host: string
  readonly port: number
  readonly headers: ReadonlyArray<readonly [string, string]>
}

class HttpConnectionImpl implements HttpConnection {
  state: ConnectionState = "Idle"
  private current: Wire | undefined = undefined
  /** The last response whose body may still be unread (Python's `__response`). */
  private response: HttpResponseImpl | undefined = undefined
  private buffer: Array<string> = []
  private method: string | undefined = undefined
  private tunnel: Tunnel | undefined = undefined
  private debugLevel = 0
  /** A final response that arrived while we waited for `100 Continue`. */
  private earlyHead: { head: HeadEvent; interim: Array<InterimResponse>; wire: Wire } | undefined = undefined
  private interimSeen: Array<InterimResponse> = []
  private readonly timeoutMs: number | undefined
  private readonly blockSize: number
  private readonly owner: ResponseOwner

  constructor(
    private readonly transport: Transport["Type"],
    private readonly scope: Scope.Scope,
    readonly host: string,
    readonly port: number,
    private readonly defaultPort: number,
    readonly secure: boolean,
    private readonly options: Options
  ) {
    this.timeoutMs = millisOf(options.timeout)
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE
    this.owner = {
      release: (wire, reusable) => (reusable ? Effect.void : this.closeWire(wire)),
      discard: (wire) => this.closeWire(wire)
    }
  }

  get socket(): Socket | undefined {
    return this.current?.socket
  }

  isConnected(): boolean {
    return this.current !== undefined && this.current.socket.isOpen()
  }

  private ctx() {
    return { method: this.method, host: this.host, port: this.port }
  }

  private log(text: string): Effect.Effect<void> {
    return this.debugLevel > 0 ? Effect.log(text) : Effect.void
  }

  /** Closes one wire's socket; forgets it if it is the current one. */
  private closeWire(wire: Wire): Effect.Effect<void> {
    return Effect.suspend(() => {
      wire.broken = true
      if (this.current === wire) this.current = undefined
      return wire.scope !== undefined ? Scope.close(wire.scope, Exit.void) : wire.socket.close
    })
  }

  get connect(): Effect.Effect<void, Http1Error> {
    return Effect.asVoid(this.open)
  }

  /** Opens a socket (through the tunnel if set) and makes it current. */
  private get open(): Effect.Effect<Wire, Http1Error> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.gen(this, function* () {
        if (this.current !== undefined) yield* this.closeWire(this.current)
        // Each socket lives in its own child scope: closed on its own, or with the connection's.
        const child = yield* Scope.fork(this.scope, ExecutionStrategy.sequential)
        const connected = yield* restore(this.establish(child)).pipe(
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(child, exit)))
        )
        connected.scope = child
        connected.writeTimeout = readTimeout(this.timeoutMs, "write")
        this.current = connected
        return connected
      })
    )
  }

  private establish(scope: Scope.Scope): Effect.Effect<Wire, Http1Error> {
    const o = this.options
    const tunnel = this.tunnel
    const timeout = o.timeout
    if (tunnel === undefined) {
      return this.transport
        .connect({ host: this.host, port: this.port, secure: this.secure, tls: o.tls, timeout, sourceAddress: o.sourceAddress })
        .pipe(
          Scope.extend(scope),
          Effect.map((socket) => new Wire(socket, this.host, this.port, o.limits))
        )
    }
    return openTunnel({
      transport: this.transport,
      scope,
      proxyHost: this.host,
      proxyPort: this.port,
      targetHost: tunnel.host,
      targetPort: tunnel.port,
      headers: tunnel.headers,
      secure: this.secure,
      tls: o.tls,
      timeout,
      timeoutMs: this.timeoutMs,
      sourceAddress: o.sourceAddress,
      limits: o.limits,
      log: this.debugLevel > 0 ? (text) => this.log(text) : undefined
    })
  }

  setTunnel(
    host: string,
    port?: number,
    headers?: HeadersInput
  ): Effect.Effect<void, Http1Error> {
    return Effect.suspend((): Effect.Effect<void, Http1Error> => {
      if (this.current !== undefined) {
        return Effect.fail(new CannotSendRequest({ state: "connected (set the tunnel before connecting)", ...this.ctx() }))
      }
      const hp = parseHostPort(host, port, this.defaultPort)
      if (hp instanceof InvalidURL) return Effect.fail(hp)
      const pairs = Headers.from(headers).pairs()
      for (const [k, v] of pairs) {
        const bad = validateHeader(k, v)
        if (bad !== undefined) return Effect.fail(bad)
      }
      this.tunnel = { host: hp.host, port: hp.port, headers: pairs }
      return Effect.void
    })
  }

  setDebugLevel(level: number): Effect.Effect<void> {
    return Effect.sync(() => {
      this.debugLevel = level
    })
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.state = "Idle"
      this.buffer = []
      this.earlyHead = undefined
      const response = this.response
      this.response = undefined
      const current = this.current
      this.current = undefined
      const closeResponse = response !== undefined ? response.close : Effect.void
      return Effect.zipRight(closeResponse, current !== undefined ? this.closeWire(current) : Effect.void)
    })
  }

  putRequest(method: string, url: string, options?: PutRequestOptions): Effect.Effect<void, Http1Error> {
    return Effect.suspend((): Effect.Effect<void, Http1Error> => {
      if (this.response !== undefined && this.response.isClosed()) this.response = undefined
      if (this.state !== "Idle") return Effect.fail(new CannotSendRequest({ state: this.state, ...this.ctx() }))
      const badMethod = validateMethod(method)
      if (badMethod !== undefined) return Effect.fail(badMethod)
      const target = url === "" ? "/" : url
      const badTarget = validateTarget(target)
      if (badTarget !== undefined) return Effect.fail(badTarget)
      this.state = "Request-started"
      this.method = method
      this.buffer = [`${method} ${target} HTTP/1.1`]
      if (options?.skipHost !== true) {
        let host: string | InvalidURL
        if (target.startsWith("http")) {
          // An absolute-form target (proxy request) names its own host.
          let parsed: URL | undefined
          try {
            parsed = new URL(target)
          } catch {
            parsed = undefined
          }
          host = parsed !== undefined && parsed.host !== "" ? parsed.host : this.hostHeaderValue()
        } else {
          host = this.hostHeaderValue()
        }
        if (host instanceof InvalidURL) {
          this.state = "Idle"
          return Effect.fail(host)
        }
        this.buffer.push(`Host: ${host}`)
      }
      if (options?.skipAcceptEncoding !== true) this.buffer.push("Accept-Encoding: identity")
      return Effect.void
    })
  }

  private hostHeaderValue(): string | InvalidURL {
    if (this.tunnel !== undefined) return hostHeader(this.tunnel.host, this.tunnel.port, this.defaultPort)
    return hostHeader(this.host, this.port, this.defaultPort)
  }

  putHeader(name: string, ...values: ReadonlyArray<string | number>): Effect.Effect<void, Http1Error> {
    return Effect.suspend((): Effect.Effect<void, Http1Error> => {
      if (this.state !== "Request-started") return Effect.fail(new CannotSendHeader({ state: this.state, ...this.ctx() }))
      const strings = values.map((v) => (typeof v === "number" ? String(v) : v))
      for (const v of strings) {
        const bad = validateHeader(name, v)
        if (bad !== undefined) return Effect.fail(bad)
      }
      if (strings.length === 0) {
        const bad = validateHeader(name, "")
        if (bad !== undefined) return Effect.fail(bad)
      }
      this.buffer.push(`${name}: ${strings.join("\r\n\t")}`)
      return Effect.void
    })
  }

  endHeaders<E = never, R = never>(
    body?: Body<E, R>,
    options?: { readonly encodeChunked?: boolean | undefined }
  ): Effect.Effect<void, Http1Error | E, R> {
    return Effect.suspend(() => {
      if (this.state !== "Request-started") return Effect.fail(new CannotSendHeader({ state: this.state, ...this.ctx() }))
      this.state = "Request-sent"
      return this.sendOutput(body, options?.encodeChunked === true, false, undefined)
    })
  }

  /** The wire to write on: the current one if it can carry another exchange, else a new one. */
  private get wireForRequest(): Effect.Effect<Wire, Http1Error> {
    return Effect.suspend(() => {
      const current = this.current
      if (current !== undefined) {
        const wire = current
        // A kept-alive socket that the server closed (or wrote to) while idle is not reused.
        if (wire.broken || !wire.socket.isOpen() || (wire.parser.state === "idle" && this.response === undefined && !wire.reusable())) {
          return this.open
        }
        return Effect.succeed(wire)
      }
      if (this.options.autoOpen === false) return Effect.fail(new NotConnected({ reason: "auto-open is off; call connect first", ...this.ctx() }))
      return this.open
    })
  }

  private sendOutput<E, R>(
    body: Body<E, R> | undefined,
    encodeChunked: boolean,
    expectContinue: boolean,
    continueTimeout: Duration.DurationInput | undefined
  ): Effect.Effect<void, Http1Error | E, R> {
    const lines = this.buffer
    this.buffer = []
    lines.push("", "")
    const head = lines.join("\r\n")
    const method = this.method ?? "GET"
    return Effect.gen(this, function* () {
      // Nothing was written when no socket could be had (NotConnected, ConnectError, ...): the
      // connection stays usable for the next request.
      const wire = yield* Effect.tapError(this.wireForRequest, () => Effect.sync(() => (this.state = "Idle")))
      wire.begin(method)
      this.interimSeen = []
      this.earlyHead = undefined
      if (this.debugLevel > 0) yield* this.log(`send: ${JSON.stringify(head)}`)
      const small = body === undefined ? undefined : typeof body === "string" ? toBytes(body) : body instanceof Uint8Array ? body : undefined
      if (!expectContinue && small !== undefined && !encodeChunked && small.length <= 65_536) {
        // Head and a small body in one write: one packet, one syscall.
        const headBytes = Buffer.from(head, "latin1")
        const joined = Buffer.allocUnsafe(headBytes.length + small.length)
        headBytes.copy(joined, 0)
        joined.set(small, headBytes.length)
        return yield* wire.write(joined)
      }
      yield* wire.write(head)
      if (body === undefined) {
        if (encodeChunked) yield* wire.write(LAST_CHUNK)
        return
      }
      if (expectContinue) {
        const proceed = yield* this.awaitContinue(wire, continueTimeout)
        if (!proceed) return
      }
      yield* this.writeBody(wire, body, encodeChunked)
    })
  }

  /**
   * After an `Expect: 100-continue` head: true when the body should be sent (100 came, or the
   * wait ran out), false when a final response came first (it is kept for `getResponse`).
   */
  private awaitContinue(wire: Wire, continueTimeout: Duration.DurationInput | undefined): Effect.Effect<boolean, Http1Error> {
    const ms = millisOf(continueTimeout) ?? 1000
    const wait = readTimeout(ms, "headers")
    const loop: Effect.Effect<boolean, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(wire.next(wait), (ev) => {
        if (ev._tag !== "Head") return Effect.succeed(true)
        const interim = { status: ev.status, reason: ev.reason, headers: Headers.fromRaw(ev.headers) }
        if (ev.interim) {
          this.interimSeen.push(interim)
          return ev.status === 100 ? Effect.succeed(true) : loop
        }
        this.earlyHead = { head: ev, interim: this.interimSeen, wire }
        return Effect.succeed(false)
      })
    )
    return Effect.catchIf(
      loop,
      // The wait ran out: send the body anyway. `fill` marked the wire broken on the timeout;
      // the socket itself is fine, so undo that.
      (e) => e._tag === "TimeoutError" && e.phase === "headers" && wire.socket.isOpen(),
      () =>
        Effect.sync(() => {
          wire.broken = false
          return true
        })
    )
  }

  private writeBody<E, R>(wire: Wire, body: Body<E, R>, encodeChunked: boolean): Effect.Effect<void, Http1Error | E, R> {
    return writeBody(wire, body, encodeChunked, this.blockSize)
  }

  send<E = never, R = never>(data: Body<E, R>): Effect.Effect<void, Http1Error | E, R> {
    return Effect.flatMap(this.wireForSend, (wire) => this.writeBody(wire, data, false))
  }

  private get wireForSend(): Effect.Effect<Wire, Http1Error> {
    return Effect.suspend(() => {
      if (this.current !== undefined) return Effect.succeed(this.current)
      if (this.options.autoOpen === false) return Effect.fail(new NotConnected({ reason: "auto-open is off; call connect first", ...this.ctx() }))
      return this.open
    })
  }

  request<E = never, R = never>(
    method: string,
    url: string,
    options?: RequestOptions<E, R>
  ): Effect.Effect<void, Http1Error | E, R> {
    return Effect.suspend(() => {
      const pairs = Headers.from(options?.headers).pairs()
      let hasHost = false
      let hasAcceptEncoding = false
      let hasExpect = false
      for (const [k] of pairs) {
        switch (k.toLowerCase()) {
          case "host":
            hasHost = true
            break
          case "accept-encoding":
            hasAcceptEncoding = true
            break
          case "expect":
            hasExpect = true
            break
        }
      }
      const body = options?.body
      return Effect.gen(this, function* () {
        yield* this.putRequest(method, url, { skipHost: hasHost, skipAcceptEncoding: hasAcceptEncoding })
        // Python's framing choice (Content-Length, chunked, or the caller's own), shared with the pool.
        const framing = chooseFraming({ method, body: bodyKindOf(body), headers: pairs, encodeChunked: options?.encodeChunked })
        for (const [k, v] of framing.addHeaders) yield* this.putHeader(k, v)
        const encodeChunked = framing.chunked
        for (const [k, v] of pairs) yield* this.putHeader(k, v)
        const expectContinue = options?.expectContinue === true && body !== undefined
        if (expectContinue && !hasExpect) yield* this.putHeader("Expect", "100-continue")
        if (this.state !== "Request-started") {
          return yield* Effect.fail(new CannotSendHeader({ state: this.state, ...this.ctx() }))
        }
        this.state = "Request-sent"
        yield* this.sendOutput(body, encodeChunked, expectContinue, options?.continueTimeout)
      }).pipe(
        // A failure before the request went out leaves the connection usable for the next one.
        Effect.tapError(() =>
          Effect.sync(() => {
            if (this.state === "Request-started") {
              this.state = "Idle"
              this.buffer = []
            }
          })
        )
      )
    })
  }

  /** Reads heads until a final one, collecting interim responses. */
  private readFinalHead(wire: Wire, interim: Array<InterimResponse>): Effect.Effect<HeadEvent, Http1Error> {
    const wait = readTimeout(this.timeoutMs, "headers")
    return wire.finalHead(interim, () => wait)
  }

  get getResponse(): Effect.Effect<HttpResponse, Http1Error> {
    return Effect.suspend(() => {
      if (this.response !== undefined && this.response.isClosed()) this.response = undefined
      if (this.state !== "Request-sent" || this.response !== undefined) {
        return Effect.fail(new ResponseNotReady({ state: this.state, ...this.ctx() }))
      }
      const method = this.method ?? "GET"
      const early = this.earlyHead
      this.earlyHead = undefined
      const current = this.current
      if (early === undefined && current === undefined) {
        return Effect.fail(new ResponseNotReady({ state: "no request was sent", ...this.ctx() }))
      }
      const wire = early?.wire ?? current!
      const interim = early?.interim ?? this.interimSeen
      const headEffect = early !== undefined ? Effect.succeed(early.head) : this.readFinalHead(wire, interim)
      return Effect.gen(this, function* () {
        const head = yield* headEffect.pipe(
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Effect.zipRight(this.closeWire(wire), Effect.sync(() => (this.state = "Idle")))))
        )
        if (this.debugLevel > 0) {
          yield* this.log(`reply: 'HTTP/1.${head.version === 10 ? 0 : 1} ${head.status} ${head.reason}'`)
          for (let i = 0; i < head.headers.length; i += 2) yield* this.log(`header: ${head.headers[i]}: ${head.headers[i + 1]}`)
        }
        // The body was not sent after an early final answer: the server may still wait for it.
        const forceClose = early !== undefined
        const response = new HttpResponseImpl(wire, head, method, interim, this.owner, this.timeoutMs, forceClose)
        this.state = "Idle"
        if (response.willClose) {
          // The socket now belongs to the response (closed when its body ends or it is closed);
          // the next request opens a new one.
          if (this.current === wire) this.current = undefined
        } else {
          this.response = response
        }
        yield* response.settleIfBodiless(head.framing)
        return response
      })
    })
  }
}
