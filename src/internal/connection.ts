/**
 * The implementation of `HttpConnection` / `HttpsConnection`: Python's `HTTPConnection` state
 * machine over the connection core (one `Wire` per socket). The public types live here too and
 * are re-exported by `HttpConnection.ts`.
 * @internal
 */
import { domainToASCII } from "node:url"
import { Duration, Effect, Either, ExecutionStrategy, Exit, Scope } from "effect"
import {
  CannotSendHeader,
  CannotSendRequest,
  InvalidURL,
  type InvalidTlsOptions,
  NotConnected,
  type RequestAborted,
  ResponseNotReady,
  type Http1Error
} from "../Http1Error.js"
import type { HttpResponse } from "../HttpResponse.js"
import type { HeadersInput } from "../Headers.js"
import { Headers } from "../Headers.js"
import type { Exchange } from "../protocol/ClientConnection.js"
import type { HeadEvent, InterimResponse, ParserLimits } from "../protocol/events.js"
import {
  prepareRequest,
  streamBody,
  putRequest as startRequestHead,
  validateHeader,
  type PreparedRequest,
  type RequestHead
} from "../protocol/RequestEncoder.js"
import { parseHostPort } from "../protocol/url.js"
import { knownBytes, writeBody, type Body } from "./body.js"
import { millisOf } from "./bytes.js"
import { withFields } from "./errors.js"
import { callerBody, callerHeaders } from "./callerInput.js"
import { AbortableResponse, abortedError, raceSignal } from "./decompress.js"
import { defaultBodyLimits, HttpResponseImpl, type BodyLimits, type ResponseOwner } from "./response.js"
import { openTunnel } from "./tunnel.js"
import { readTimeout, Wire } from "./wire.js"
import { Transport, type Socket, type TlsOptions } from "../Transport.js"
import { checkTlsContext, validateTlsOptions } from "../transport/tlsOptions.js"

export type { Body, BodyChunk } from "./body.js"

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
  /**
   * Connect to this Unix domain socket instead of `host:port` over TCP (e.g.
   * `"/var/run/docker.sock"`). `host` (and `port`) still make the `Host` header, the TLS server
   * name of an `HttpsConnection`, and what errors name. With `setTunnel`, the proxy is at the socket.
   */
  readonly socketPath?: string | undefined
  /** The largest piece written at once from a chunk source (iterable, async iterable, Stream); Python's `blocksize`. Default 8192. */
  readonly blockSize?: number | undefined
  /** TLS options (used by `HttpsConnection`, and inside a tunnel). */
  readonly tls?: TlsOptions | undefined
  /** Parser limits (line length, header count, ...). */
  readonly limits?: Partial<ParserLimits> | undefined
  /** Open the socket on first use (Python's `auto_open`). Default true. */
  readonly autoOpen?: boolean | undefined
  /** The most a read of the whole body (`read()`, `text`) may collect; past it `BodyTooLarge`. Default 128 MiB. */
  readonly maxBodySize?: number | undefined
  /** The most `stream` / `drain` may deliver. Default unbounded. */
  readonly maxStreamedBodySize?: number | undefined
}

/** Options of `request`. */
export interface RequestOptions<E = never, R = never> {
  /** Header fields, in order; as pairs or a record. */
  readonly headers?: HeadersInput | undefined
  readonly body?: Body<E, R> | undefined
  /**
   * Python's `encode_chunked`. Accepted for compatibility and ignored: under
   * `Transfer-Encoding: chunked` the connection always does the chunk framing itself, so a
   * caller's bytes can never be read as framing.
   */
  readonly encodeChunked?: boolean | undefined
  /**
   * Send `Expect: 100-continue`, then the head, and send the body only after a `100 Continue`
   * (or when `continueTimeout` passes without an answer). A final status instead means the body
   * is not sent and the connection closes after that response.
   */
  readonly expectContinue?: boolean | undefined
  /** How long to wait for `100 Continue` before sending the body anyway. Default 1 second. */
  readonly continueTimeout?: Duration.DurationInput | undefined
  /**
   * Aborts this exchange: an already-aborted signal fails with `RequestAborted` before anything
   * is sent (or connected); an abort while sending, in `getResponse` or while the body is read
   * fails with `RequestAborted` and closes the connection (the next request opens a new one).
   */
  readonly signal?: AbortSignal | undefined
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
  /**
   * Sends body data after `endHeaders`, framed by the head: chunk-encoded under
   * `Transfer-Encoding: chunked`, counted against a `Content-Length` (`ContentLengthMismatch` past
   * it); refused (`InvalidRequestFraming`) after a head that declares no body. `getResponse` ends
   * the body (the last chunk, or a check that the Content-Length was reached).
   */
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
/** Head and body in one write when the body is at most this many bytes: one packet, one syscall. */
const COALESCE_LIMIT = 65_536

/** Makes a connection; `secure`: TLS (HttpsConnection). Shared by HttpConnection and HttpsConnection. */
export const makeWith = (
  options: Options,
  secure: boolean
): Effect.Effect<HttpConnection, InvalidURL | InvalidTlsOptions, Transport | Scope.Scope> =>
  Effect.gen(function* () {
    const defaultPort = secure ? 443 : 80
    const hp = parseHostPort(options.host, options.port, defaultPort)
    if (hp instanceof InvalidURL) return yield* Effect.fail(hp)
    // TLS options are checked once, here: a key we would drop is refused.
    const tls = options.tls === undefined ? undefined : yield* Either.flatMap(validateTlsOptions(options.tls), checkTlsContext)
    if (tls !== undefined) options = { ...options, tls }
    const transport = yield* Transport
    const scope = yield* Effect.scope
    return new HttpConnectionImpl(transport, scope, hp.host, hp.port, defaultPort, secure, options)
  })

interface Tunnel {
  readonly host: string
  readonly port: number
  readonly headers: ReadonlyArray<readonly [string, string]>
}

/** A socket of this connection: its wire and the scope that owns it. */
interface Held {
  readonly wire: Wire
  readonly scope: Scope.CloseableScope
}

/** The request under way: its exchange on a wire. */
interface Current {
  readonly held: Held
  readonly ex: Exchange
}

class HttpConnectionImpl implements HttpConnection {
  state: ConnectionState = "Idle"
  private held: Held | undefined = undefined
  /** The exchange of the request sent and not yet answered by `getResponse`. */
  private current: Current | undefined = undefined
  /** The last response whose body may still be unread (Python's `__response`). */
  private response: HttpResponseImpl | undefined = undefined
  /** The head being built by `putRequest` / `putHeader`. */
  private head: RequestHead | undefined = undefined
  private method: string | undefined = undefined
  private tunnel: Tunnel | undefined = undefined
  private debugLevel = 0
  /** A final response that arrived while we waited for `100 Continue`. */
  private earlyHead: HeadEvent | undefined = undefined
  private interimSeen: Array<InterimResponse> = []
  /** The `signal` of the request under way, for `getResponse` and its body. */
  private signal: AbortSignal | undefined = undefined
  private readonly timeoutMs: number | undefined
  private readonly blockSize: number
  private readonly limits: BodyLimits
  private readonly owners = new WeakMap<Held, ResponseOwner>()

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
    this.limits = {
      maxBodySize: options.maxBodySize ?? defaultBodyLimits.maxBodySize,
      maxStreamedBodySize: options.maxStreamedBodySize ?? defaultBodyLimits.maxStreamedBodySize
    }
  }

  get socket(): Socket | undefined {
    return this.held?.wire.socket
  }

  isConnected(): boolean {
    return this.held !== undefined && this.held.wire.socket.isOpen()
  }

  private ctx() {
    return { method: this.method, host: this.host, port: this.port }
  }

  /** Adds this connection's host and port to an error raised before a socket was involved. */
  private located<E extends Http1Error>(error: E): E {
    return withFields(error, this.ctx())
  }

  private log(text: string): Effect.Effect<void> {
    return this.debugLevel > 0 ? Effect.log(text) : Effect.void
  }

  /** How responses on `held` give it back: kept when the core says it is reusable, else closed. */
  private ownerOf(held: Held): ResponseOwner {
    let owner = this.owners.get(held)
    if (owner === undefined) {
      owner = {
        release: (wire) => {
          if (wire.conn.reuse._tag === "Poisoned") return this.closeHeld(held)
          // A request sent while this response was read (Python allows it) is still in flight.
          if (!wire.conn.idle) return Effect.void
          return wire.reusable ? Effect.void : this.closeHeld(held)
        },
        discard: (wire, ex) => {
          const others = wire.abandon(ex)
          return others && wire.conn.reuse._tag !== "Poisoned" ? Effect.void : this.closeHeld(held)
        }
      }
      this.owners.set(held, owner)
    }
    return owner
  }

  /** Closes one socket; forgets it if it is the current one. */
  private closeHeld(held: Held): Effect.Effect<void> {
    return Effect.suspend(() => {
      held.wire.poison("closed")
      if (this.held === held) this.held = undefined
      return Scope.close(held.scope, Exit.void)
    })
  }

  get connect(): Effect.Effect<void, Http1Error> {
    return Effect.asVoid(this.open)
  }

  /** Opens a socket (through the tunnel if set) and makes it current. */
  private get open(): Effect.Effect<Held, Http1Error> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.gen(this, function* () {
        if (this.held !== undefined) yield* this.closeHeld(this.held)
        // Each socket lives in its own child scope: closed on its own, or with the connection's.
        const child = yield* Scope.fork(this.scope, ExecutionStrategy.sequential)
        const wire = yield* restore(this.establish(child)).pipe(
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(child, exit)))
        )
        const held: Held = { wire, scope: child }
        this.held = held
        return held
      })
    )
  }

  private establish(scope: Scope.Scope): Effect.Effect<Wire, Http1Error> {
    const o = this.options
    const tunnel = this.tunnel
    const timeout = o.timeout
    const writeTimeout = readTimeout(this.timeoutMs, "write")
    if (tunnel === undefined) {
      return this.transport
        .connect({ host: this.host, port: this.port, secure: this.secure, tls: o.tls, timeout, sourceAddress: o.sourceAddress, socketPath: o.socketPath })
        .pipe(
          Scope.extend(scope),
          Effect.map((socket) => new Wire(socket, this.host, this.port, o.limits, writeTimeout))
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
      socketPath: o.socketPath,
      limits: o.limits,
      writeTimeout,
      log: this.debugLevel > 0 ? (text) => this.log(text) : undefined
    })
  }

  setTunnel(host: string, port?: number, headers?: HeadersInput): Effect.Effect<void, Http1Error> {
    return Effect.suspend((): Effect.Effect<void, Http1Error> => {
      if (this.held !== undefined) {
        return Effect.fail(new CannotSendRequest({ state: "connected (set the tunnel before connecting)", ...this.ctx() }))
      }
      // Python sends the tunnel host in its IDNA form; an ASCII host is left as it is.
      // eslint-disable-next-line no-control-regex
      const ascii = idnaHost(host, port)
      if (ascii === undefined) return Effect.fail(this.located(new InvalidURL({ url: host, reason: "the tunnel host is not a valid domain name" })))
      const hp = parseHostPort(ascii, port, this.defaultPort)
      if (hp instanceof InvalidURL) return Effect.fail(this.located(hp))
      const pairs = callerHeaders(headers)
      if (!Array.isArray(pairs)) return Effect.fail(this.located(pairs))
      for (const [k, v] of pairs) {
        const bad = validateHeader(k, v)
        if (bad !== undefined) return Effect.fail(this.located(bad))
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
      this.head = undefined
      this.earlyHead = undefined
      this.current = undefined
      const response = this.response
      this.response = undefined
      const held = this.held
      this.held = undefined
      const closeResponse = response !== undefined ? response.close : Effect.void
      return Effect.zipRight(closeResponse, held !== undefined ? this.closeHeld(held) : Effect.void)
    })
  }

  /** The `Host` authority Python's `putrequest` uses: the tunnel's target, else this connection's. */
  private hostFor(): { host: string; port: number; defaultPort: number } {
    if (this.tunnel !== undefined) return { host: this.tunnel.host, port: this.tunnel.port, defaultPort: this.defaultPort }
    return { host: this.host, port: this.port, defaultPort: this.defaultPort }
  }

  /** Python's "state" check shared by `putRequest` and `request`. */
  private checkIdle(): CannotSendRequest | undefined {
    if (this.response !== undefined && this.response.isClosed()) this.response = undefined
    if (this.state !== "Idle") return new CannotSendRequest({ state: this.state, ...this.ctx() })
    return undefined
  }

  putRequest(method: string, url: string, options?: PutRequestOptions): Effect.Effect<void, Http1Error> {
    return Effect.suspend((): Effect.Effect<void, Http1Error> => {
      const busy = this.checkIdle()
      if (busy !== undefined) return Effect.fail(busy)
      this.signal = undefined
      const started = startRequestHead(method, url, {
        ...this.hostFor(),
        skipHost: options?.skipHost === true,
        skipAcceptEncoding: options?.skipAcceptEncoding === true
      })
      if (Either.isLeft(started)) return Effect.fail(this.located(started.left))
      const head = started.right
      this.state = "Request-started"
      this.method = method
      this.head = head
      return Effect.void
    })
  }

  putHeader(name: string, ...values: ReadonlyArray<string | number>): Effect.Effect<void, Http1Error> {
    return Effect.suspend((): Effect.Effect<void, Http1Error> => {
      const head = this.head
      if (this.state !== "Request-started" || head === undefined) {
        return Effect.fail(new CannotSendHeader({ state: this.state, ...this.ctx() }))
      }
      const bad = head.tryPutHeader(name, values)
      return bad === undefined ? Effect.void : Effect.fail(this.located(bad))
    })
  }

  endHeaders<E = never, R = never>(
    body?: Body<E, R>,
    _options?: { readonly encodeChunked?: boolean | undefined }
  ): Effect.Effect<void, Http1Error | E, R> {
    return Effect.suspend(() => {
      const head = this.head
      if (this.state !== "Request-started" || head === undefined) {
        return Effect.fail(new CannotSendHeader({ state: this.state, ...this.ctx() }))
      }
      const kind = callerBody(body)
      if (kind._tag === "RequestBodyError") return this.refuse(kind)
      // Whatever body is given here is the start of it: more may follow through `send`
      // (counted and framed by the head's framing); getResponse ends it.
      const declares = head.contentLength.length > 0 || head.transferEncoding.length > 0
      const prepared = head.prepare(declares ? streamBody : kind)
      if (!("head" in prepared)) return this.refuse(prepared)
      this.head = undefined
      this.state = "Request-sent"
      return this.sendPrepared(prepared, body, false, undefined, false)
    })
  }

  /** A request refused before a byte was written: the connection stays usable for the next one. */
  private refuse(error: Http1Error): Effect.Effect<never, Http1Error> {
    this.state = "Idle"
    this.head = undefined
    return Effect.fail(this.located(error))
  }

  /** The wire to write on: the current one if it can carry another exchange, else a new one. */
  private get heldForRequest(): Effect.Effect<Held, Http1Error> {
    return Effect.suspend(() => {
      const held = this.held
      if (held !== undefined) {
        // A kept-alive socket that the server closed (or wrote to) while idle is not reused. While
        // a response is still being read, Python lets the next request go out on the same socket.
        if (held.wire.canSend(this.response !== undefined)) return Effect.succeed(held)
        return Effect.zipRight(this.closeHeld(held), this.openOrFail)
      }
      return this.openOrFail
    })
  }

  private get openOrFail(): Effect.Effect<Held, Http1Error> {
    if (this.options.autoOpen === false) {
      return Effect.fail(new NotConnected({ reason: "auto-open is off; call connect first", ...this.ctx() }))
    }
    return this.open
  }

  private sendPrepared<E, R>(
    prepared: PreparedRequest,
    body: Body<E, R> | undefined,
    expectContinue: boolean,
    continueTimeout: Duration.DurationInput | undefined,
    /** End the body after `body` (false for `endHeaders`: `send` may add more). */
    andEnd = true
  ): Effect.Effect<void, Http1Error | E, R> {
    return Effect.gen(this, function* () {
      // Nothing was written when no socket could be had (NotConnected, ConnectError, ...): the
      // connection stays usable for the next request.
      const held = yield* Effect.tapError(this.heldForRequest, () => Effect.sync(() => (this.state = "Idle")))
      const wire = held.wire
      const ex = wire.start(prepared, this.response !== undefined)
      if (ex === undefined) {
        this.state = "Idle"
        return yield* Effect.fail(wire.lost(undefined, "a fresh connection could not take the request"))
      }
      this.current = { held, ex }
      this.interimSeen = []
      this.earlyHead = undefined
      if (this.debugLevel > 0) yield* this.log(`send: ${JSON.stringify(Buffer.from(prepared.head).toString("latin1"))}`)
      const small = body === undefined ? undefined : knownBytes(body)
      if (!expectContinue && small !== undefined && small.length <= COALESCE_LIMIT) {
        // Head and a small body in one write: one packet, one syscall.
        const framed = wire.conn.frameBody(ex, small)
        if (!(framed instanceof Uint8Array)) return yield* Effect.fail(wire.contextualize(framed, ex))
        const end = andEnd ? wire.conn.endBody(ex) : EMPTY
        if (!(end instanceof Uint8Array)) return yield* Effect.fail(wire.contextualize(end, ex))
        return yield* wire.write(Buffer.concat([prepared.head, framed, end]), ex)
      }
      yield* wire.write(prepared.head, ex)
      if (body === undefined) return andEnd ? yield* wire.endBody(ex) : undefined
      if (expectContinue) {
        const proceed = yield* this.awaitContinue(wire, ex, continueTimeout)
        if (!proceed) return
      }
      yield* writeBody(wire, ex, body, this.blockSize, andEnd)
    })
  }

  /**
   * After an `Expect: 100-continue` head: true when the body should be sent (100 came, or the
   * wait ran out), false when a final response came first (it is kept for `getResponse`).
   */
  private awaitContinue(wire: Wire, ex: Exchange, continueTimeout: Duration.DurationInput | undefined): Effect.Effect<boolean, Http1Error> {
    const ms = millisOf(continueTimeout) ?? 1000
    const wait = readTimeout(ms, "headers")
    const loop: Effect.Effect<boolean, Http1Error> = Effect.suspend(() => {
      const ev = wire.conn.next(ex)
      switch (ev._tag) {
        case "Head": {
          if (ev.interim) {
            this.interimSeen.push({ status: ev.status, reason: ev.reason, headers: Headers.fromRaw(ev.headers) })
            return ev.status === 100 ? Effect.succeed(true) : loop
          }
          this.earlyHead = ev
          wire.conn.skipBody(ex)
          return Effect.succeed(false)
        }
        case "NeedData":
          // The wait for `100 Continue` running out is not an error: the body goes anyway.
          return Effect.matchEffect(wire.socket.read(wait), {
            onFailure: (e) => {
              if (e._tag === "TimeoutError" && wire.socket.isOpen()) return Effect.succeed(true)
              wire.poison("the connection failed while waiting for 100 Continue")
              return Effect.fail(wire.lost(ex, "the connection failed while waiting for 100 Continue"))
            },
            onSuccess: (chunk) => {
              if (chunk === undefined) wire.conn.receiveEof()
              else wire.conn.receiveData(chunk)
              return loop
            }
          })
        default:
          // Data/End cannot come before a head; an error is reported by getResponse.
          return Effect.succeed(true)
      }
    })
    return loop
  }

  send<E = never, R = never>(data: Body<E, R>): Effect.Effect<void, Http1Error | E, R> {
    return Effect.suspend(() => {
      const current = this.current
      if (current === undefined || current.ex.requestDone || this.state !== "Request-sent") {
        if (this.held === undefined && this.options.autoOpen === false) {
          return Effect.fail(new NotConnected({ reason: "auto-open is off; call connect first", ...this.ctx() }))
        }
        return Effect.fail(new CannotSendRequest({ state: `${this.state} (send body data after endHeaders, before getResponse)`, ...this.ctx() }))
      }
      const kind = callerBody(data)
      if (kind._tag === "RequestBodyError") return Effect.fail(this.located(kind))
      return sendMore(current.held.wire, current.ex, data, this.blockSize)
    })
  }

  request<E = never, R = never>(
    method: string,
    url: string,
    options?: RequestOptions<E, R>
  ): Effect.Effect<void, Http1Error | E, R> {
    return Effect.suspend(() => {
      const busy = this.checkIdle()
      if (busy !== undefined) return Effect.fail(busy)
      const pairs = callerHeaders(options?.headers)
      if (!Array.isArray(pairs)) return Effect.fail(this.located(pairs))
      const body = options?.body
      const kind = callerBody(body)
      if (kind._tag === "RequestBodyError") return Effect.fail(this.located(kind))
      const expectContinue = options?.expectContinue === true && body !== undefined
      const hasExpect = expectContinue && pairs.some(([k]) => k.toLowerCase() === "expect")
      const prepared = prepareRequest({
        method,
        target: url,
        headers: pairs,
        ...this.hostFor(),
        body: kind,
        extraHeaders: expectContinue && !hasExpect ? EXPECT_CONTINUE : undefined
      })
      if (!("head" in prepared)) return Effect.fail(this.located(prepared))
      const signal = options?.signal
      if (signal?.aborted === true) return Effect.fail(abortedError(signal, { ...this.ctx(), method }))
      this.method = method
      this.state = "Request-sent"
      this.signal = signal
      const send = this.sendPrepared(prepared, body, expectContinue, options?.continueTimeout)
      return signal === undefined ? send : this.bound(send, signal)
    })
  }

  /** `effect` failed with `RequestAborted` when `signal` aborts first; the connection is then closed. */
  private bound<A, E, R>(effect: Effect.Effect<A, E, R>, signal: AbortSignal): Effect.Effect<A, E | RequestAborted, R> {
    return Effect.tapErrorTag(
      raceSignal(effect, signal, this.ctx()),
      "RequestAborted",
      () => this.close
    ) as Effect.Effect<A, E | RequestAborted, R>
  }

  get getResponse(): Effect.Effect<HttpResponse, Http1Error> {
    return Effect.suspend(() => {
      const signal = this.signal
      if (signal === undefined) return this.readResponse
      this.signal = undefined
      return Effect.map(this.bound(this.readResponse, signal), (res) => new AbortableResponse(res, signal, this.ctx()))
    })
  }

  private get readResponse(): Effect.Effect<HttpResponse, Http1Error> {
    return Effect.suspend(() => {
      if (this.response !== undefined && this.response.isClosed()) this.response = undefined
      if (this.state !== "Request-sent" || this.response !== undefined) {
        return Effect.fail(new ResponseNotReady({ state: this.state, ...this.ctx() }))
      }
      const current = this.current
      if (current === undefined) return Effect.fail(new ResponseNotReady({ state: "no request was sent", ...this.ctx() }))
      const { held, ex } = current
      const wire = held.wire
      const method = ex.method
      const early = this.earlyHead
      this.earlyHead = undefined
      const interim = this.interimSeen
      // A body given through `send` ends here (the last chunk, or the Content-Length check).
      const endBody = ex.requestDone ? Effect.void : wire.endBody(ex)
      const wait = readTimeout(this.timeoutMs, "headers")
      const headEffect = early !== undefined ? Effect.succeed(early) : Effect.zipRight(endBody, wire.finalHead(ex, interim, () => wait))
      return Effect.gen(this, function* () {
        const head = yield* headEffect.pipe(
          Effect.onExit((exit) =>
            Exit.isSuccess(exit)
              ? Effect.void
              : Effect.zipRight(
                  this.closeHeld(held),
                  Effect.sync(() => {
                    this.state = "Idle"
                    this.current = undefined
                  })
                )
          )
        )
        if (this.debugLevel > 0) {
          yield* this.log(`reply: 'HTTP/1.${head.version === 10 ? 0 : 1} ${head.status} ${head.reason}'`)
          for (let i = 0; i < head.headers.length; i += 2) yield* this.log(`header: ${head.headers[i]}: ${head.headers[i + 1]}`)
        }
        // The body was not sent after an early final answer: the server may still wait for it.
        const forceClose = early !== undefined
        const response = new HttpResponseImpl(wire, ex, head, method, interim, this.ownerOf(held), this.timeoutMs, forceClose, undefined, this.limits)
        this.state = "Idle"
        this.current = undefined
        if (response.willClose) {
          // The socket now belongs to the response (closed when its body ends or it is closed);
          // the next request opens a new one.
          if (this.held === held) this.held = undefined
        } else {
          this.response = response
        }
        yield* response.settleIfBodiless(head.framing)
        return response
      })
    })
  }
}

const EMPTY = new Uint8Array(0)

/**
 * A tunnel host in its IDNA form (Python encodes it with "idna"), a `:port` in it kept as it is;
 * ASCII hosts unchanged; `undefined` when it is no valid domain name.
 */
const idnaHost = (host: string, port: number | undefined): string | undefined => {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(host)) return host
  const colon = host.lastIndexOf(":")
  const hasPort = port === undefined && colon > 0 && host.indexOf(":") === colon
  const name = hasPort ? host.slice(0, colon) : host
  const ascii = domainToASCII(name)
  if (ascii === "") return undefined
  return hasPort ? ascii + host.slice(colon) : ascii
}

const EXPECT_CONTINUE: ReadonlyArray<readonly [string, string]> = [["Expect", "100-continue"]]

/** Body data given through `send`: framed by the core, not ended (getResponse ends it). */
const sendMore = <E, R>(wire: Wire, ex: Exchange, data: Body<E, R>, blockSize: number): Effect.Effect<void, Http1Error | E, R> => {
  const bytes = knownBytes(data)
  if (bytes !== undefined) return wire.writeBody(ex, bytes)
  return writeBody(wire, ex, data, blockSize, false)
}
