/**
 * The node:net / node:tls implementation of {@link TransportService}.
 *
 * Reads are pulled: the node socket stays in paused mode with one permanent `'readable'` listener,
 * and `read` takes whatever the stream has buffered (`socket.read()`). Node stops reading from the
 * kernel once its buffer reaches the high-water mark, so a consumer that stops reading leaves the
 * rest of a large body in the kernel and, beyond that, on the server.
 *
 * Read timeouts use one timer per socket, re-armed with `timer.refresh()`; there is no
 * `Effect.timeout` on the hot path.
 * @since 0.1.0
 */
import { Duration, Effect, Either, Scope } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import { ConnectError, ConnectionReset, type InvalidTlsOptions, TimeoutError, TlsError } from "../Http1Error.js"
import { millisOf } from "../internal/bytes.js"
import { safeCheckServerIdentity, validateTlsOptions } from "./tlsOptions.js"
import type { ConnectOptions, NetOptions, ReadResult, ReadTimeout, Socket, TlsOptions, TransportService } from "./types.js"

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/**
 * `"[::1]"` → `"::1"`; other hosts unchanged.
 * @example
 * ```ts
 * stripBrackets("[::1]") // "::1"
 * ```
 * @since 0.1.0
 */
export const stripBrackets = (host: string): string =>
  host.length > 1 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d ? host.slice(1, -1) : host

const errorCode = (err: unknown): string | undefined => {
  if (typeof err !== "object" || err === null) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === "string") return code
  // autoSelectFamily reports an AggregateError; its first attempt carries the code.
  const errors = (err as { errors?: unknown }).errors
  if (Array.isArray(errors)) {
    for (const e of errors) {
      const c = errorCode(e)
      if (c !== undefined) return c
    }
  }
  return undefined
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err))

const tlsCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "HOSTNAME_MISMATCH",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED"
])
const isTlsCode = (code: string | undefined): boolean =>
  code !== undefined && (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code.startsWith("ERR_OSSL_") || tlsCodes.has(code))

/**
 * Merges TLS options, later ones winning; keys set to `undefined` do not erase earlier values.
 * @example
 * ```ts
 * mergeTls({ ca }, { servername: "api.test", ca: undefined }) // { ca, servername: "api.test" }
 * ```
 * @since 0.1.0
 */
export const mergeTls = (base: TlsOptions | undefined, over: TlsOptions | undefined): TlsOptions => {
  if (over === undefined) return base ?? {}
  if (base === undefined) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = v
  return out as TlsOptions
}

const DEFAULT_ALPN: ReadonlyArray<string> = ["http/1.1"]

type Checked = Either.Either<TlsOptions, InvalidTlsOptions>

const NO_TLS: Checked = Either.right({})

/**
 * The TLS options of one connect: `over` (validated on its own, as a plain-JS caller may pass
 * anything) merged over the transport's, the result validated again for the checks across keys
 * (`minVersion` above `maxVersion`, `secureContext` with context options).
 */
const effectiveTls = (base: Checked, over: unknown): Checked => {
  if (over === undefined) return base
  return Either.flatMap(validateTlsOptions(over), (o) => Either.flatMap(base, (b) => validateTlsOptions(mergeTls(b, o))))
}

const acceptAll = (): undefined => undefined

const copyList = <A>(v: A | ReadonlyArray<A>): A | Array<A> => (Array.isArray(v) ? [...(v as ReadonlyArray<A>)] : (v as A))

/** The node:tls options for a connection to `host` (already unbracketed), from validated options. */
const tlsConnectOptions = (host: string, opts: TlsOptions): tls.ConnectionOptions => {
  const o: tls.ConnectionOptions = {
    host,
    rejectUnauthorized: opts.rejectUnauthorized !== false,
    ALPNProtocols: [...(opts.ALPNProtocols ?? DEFAULT_ALPN)]
  }
  const servername = opts.servername ?? (net.isIP(host) === 0 ? host : undefined)
  if (servername !== undefined && servername !== "") o.servername = servername
  // Only keys that are set: node spreads these over its defaults, so an `undefined` would erase
  // its default cipher list or hostname check.
  if (opts.secureContext !== undefined) o.secureContext = opts.secureContext
  if (opts.ca !== undefined) o.ca = copyList(opts.ca)
  if (opts.cert !== undefined) o.cert = copyList(opts.cert)
  if (opts.key !== undefined) o.key = copyList(opts.key)
  if (opts.passphrase !== undefined) o.passphrase = opts.passphrase
  if (opts.pfx !== undefined) o.pfx = copyList(opts.pfx) as tls.ConnectionOptions["pfx"]
  if (opts.crl !== undefined) o.crl = copyList(opts.crl)
  if (opts.minVersion !== undefined) o.minVersion = opts.minVersion
  if (opts.maxVersion !== undefined) o.maxVersion = opts.maxVersion
  if (opts.ciphers !== undefined) o.ciphers = opts.ciphers
  if (opts.ecdhCurve !== undefined) o.ecdhCurve = opts.ecdhCurve
  if (opts.sigalgs !== undefined) o.sigalgs = opts.sigalgs
  if (opts.minDHSize !== undefined) o.minDHSize = opts.minDHSize
  if (opts.checkServerIdentity !== undefined) {
    // With rejectUnauthorized false node calls it but ignores its verdict (and skips it when the
    // chain fails): then `identityRejection` runs it after the handshake instead.
    o.checkServerIdentity = opts.rejectUnauthorized === false ? acceptAll : safeCheckServerIdentity(opts.checkServerIdentity)
  }
  return o
}

/**
 * After `secureConnect`: the caller's `checkServerIdentity` when node did not enforce it
 * (`rejectUnauthorized: false`); the error to fail the connect with, if it rejects.
 */
const identityRejection = (sock: tls.TLSSocket, host: string, opts: TlsOptions): Error | undefined => {
  if (opts.checkServerIdentity === undefined || opts.rejectUnauthorized !== false) return undefined
  const name = opts.servername !== undefined && opts.servername !== "" ? opts.servername : host
  return safeCheckServerIdentity(opts.checkServerIdentity)(name, sock.getPeerCertificate(true))
}

let nextId = 1

/** Bytes a socket buffers before Node stops reading from the kernel (backpressure). */
const READ_HIGH_WATER_MARK = 256 * 1024

// ---------------------------------------------------------------------------------------------
// The socket
// ---------------------------------------------------------------------------------------------

type Resume<A, E> = (effect: Effect.Effect<A, E>) => void

const VOID = Effect.void
const EOF = Effect.succeed(undefined)

/** A read's outcome as an Effect (for the Effect-level `read`). */
const resultEffect = (r: ReadResult): Effect.Effect<Uint8Array | undefined, ConnectionReset | TimeoutError> =>
  r === undefined ? EOF : r instanceof Uint8Array ? Effect.succeed(r) : Effect.fail(r)

const underlyingSockets = new WeakMap<Socket, net.Socket>()

/**
 * The node socket behind a {@link Socket} opened by this module (for tests and diagnostics:
 * `bytesRead`, `readableLength`, addresses). `undefined` for other implementations.
 * @example
 * ```ts
 * underlying(socket)?.bytesRead
 * ```
 * @since 0.1.0
 * @internal
 */
export const underlying = (socket: Socket): net.Socket | undefined => underlyingSockets.get(socket)

class NodeSocket implements Socket {
  readonly id = nextId++
  /** The reader waiting for the next event (callback level; the Effect-level `read` wraps its resume). */
  private waiter: ((result: ReadResult) => void) | null = null
  private readTimeout: ReadTimeout | undefined = undefined
  private timer: NodeJS.Timeout | undefined = undefined
  private timerMs = -1
  private drainWaiters: Array<Resume<void, ConnectionReset>> = []
  private error: ConnectionReset | undefined = undefined
  private eof = false
  private closed = false
  private detached = false
  /** Sockets (or wrappers) to destroy together with this one. */
  private owned: Array<NodeSocket> = []

  constructor(
    readonly sock: net.Socket,
    readonly host: string,
    readonly port: number,
    readonly secure: boolean,
    /** The transport's TLS options, under a later `startTls`'s own. */
    private readonly baseTls: Checked = NO_TLS
  ) {
    sock.on("readable", this.onReadable)
    sock.on("end", this.onEnd)
    sock.on("error", this.onError)
    sock.on("close", this.onClose)
    sock.on("drain", this.onDrain)
    underlyingSockets.set(this, sock)
  }

  // --- events -------------------------------------------------------------------------------

  private readonly onReadable = (): void => {
    if (this.waiter === null) {
      // Nothing buffered yet 'readable' fired: the peer has closed. Reading null lets the stream
      // emit 'end' (which flags EOF); with data buffered, 'end' waits for the data to be read.
      if (this.sock.readableLength === 0) this.sock.read()
      return
    }
    const chunk: Buffer | null = this.sock.read()
    if (chunk !== null) this.deliver(chunk)
    // null: the stream has ended; 'end' follows and delivers EOF.
  }

  private readonly onEnd = (): void => {
    this.eof = true
    if (this.waiter !== null) this.deliver(undefined)
  }

  private readonly onError = (err: Error): void => {
    if (this.error === undefined) {
      this.error = new ConnectionReset({ cause: err, code: errorCode(err), beforeResponse: false, host: this.host, port: this.port })
    }
    this.failAll(this.error)
  }

  private readonly onClose = (): void => {
    this.clearTimer()
    if (this.waiter !== null || this.drainWaiters.length > 0) {
      const error = this.error ?? this.closedError()
      if (this.waiter !== null) {
        if (this.eof) this.deliver(undefined)
        else this.deliver(error)
      }
      this.failDrain(error)
    }
  }

  private readonly onDrain = (): void => {
    const ws = this.drainWaiters
    if (ws.length === 0) return
    this.drainWaiters = []
    for (const w of ws) w(VOID)
  }

  private readonly onTimer = (): void => {
    const t = this.readTimeout
    if (this.waiter === null || t === undefined) return
    this.deliver(new TimeoutError({ phase: t.phase, timeoutMs: t.ms, host: this.host, port: this.port }))
  }

  private readonly onWritten = (err?: Error | null): void => {
    if (err && this.error === undefined) {
      this.error = new ConnectionReset({ cause: err, code: errorCode(err), beforeResponse: false, host: this.host, port: this.port })
      this.failAll(this.error)
    }
  }

  private concurrentReadError(): ConnectionReset {
    const err = new Error("concurrent reads on one socket")
    ;(err as Error & { code: string }).code = "ERR_CONCURRENT_READ"
    return new ConnectionReset({ cause: err, code: "ERR_CONCURRENT_READ", beforeResponse: false, host: this.host, port: this.port })
  }

  private closedError(): ConnectionReset {
    const err = new Error("socket closed")
    ;(err as Error & { code: string }).code = "ERR_SOCKET_CLOSED"
    return new ConnectionReset({ cause: err, code: "ERR_SOCKET_CLOSED", beforeResponse: false, host: this.host, port: this.port })
  }

  private deliver(result: ReadResult): void {
    const w = this.waiter!
    this.waiter = null
    this.readTimeout = undefined
    w(result)
  }

  private failDrain(error: ConnectionReset): void {
    const ws = this.drainWaiters
    if (ws.length === 0) return
    this.drainWaiters = []
    const f = Effect.fail(error)
    for (const w of ws) w(f)
  }

  private failAll(error: ConnectionReset): void {
    if (this.waiter !== null) this.deliver(error)
    this.failDrain(error)
  }

  private armTimer(t: ReadTimeout): void {
    this.readTimeout = t
    if (this.timer !== undefined && this.timerMs === t.ms) {
      this.timer.refresh()
      return
    }
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerMs = t.ms
    this.timer = setTimeout(this.onTimer, t.ms)
    this.timer.unref()
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
      this.timerMs = -1
    }
  }

  // --- Socket -------------------------------------------------------------------------------

  private readonly cancelRead = Effect.sync(() => {
    this.waiter = null
    this.readTimeout = undefined
  })

  /** The timeout of the read about to wait (set just before {@link wait} registers). */
  private nextTimeout: ReadTimeout | undefined = undefined

  /** Waits for the next 'readable' / 'end' / error; one shared effect per socket. */
  private readonly wait: Effect.Effect<Uint8Array | undefined, ConnectionReset | TimeoutError> = Effect.async<
    Uint8Array | undefined,
    ConnectionReset | TimeoutError
  >((resume) => {
    const timeout = this.nextTimeout
    this.nextTimeout = undefined
    // A second reader while one waits is a caller's mistake: a typed failure, not a defect.
    if (this.waiter !== null) return resume(Effect.fail(this.concurrentReadError()))
    this.waiter = (r) => resume(resultEffect(r))
    if (timeout !== undefined) this.armTimer(timeout)
    return this.cancelRead
  })

  /** Cancels a callback-level wait (see {@link readWith}). */
  private readonly cancelWith = (): void => {
    this.waiter = null
    this.readTimeout = undefined
  }

  /** The outcome of a read known now, or `null` when the read has to wait. */
  private readNow(timeout: ReadTimeout | undefined): ReadResult | null {
    const chunk: Buffer | null = this.detached ? null : this.sock.read()
    if (chunk !== null) return chunk
    if (this.eof) return undefined
    if (this.error !== undefined) return this.error
    if (this.detached || this.closed || this.sock.destroyed) return this.closedError()
    if (timeout !== undefined && timeout.ms <= 0) return new TimeoutError({ phase: timeout.phase, timeoutMs: timeout.ms, host: this.host, port: this.port })
    if (this.waiter !== null) return this.concurrentReadError()
    return null
  }

  readonly readWith = (timeout: ReadTimeout | undefined, callback: (result: ReadResult) => void): (() => void) | undefined => {
    const now = this.readNow(timeout)
    if (now !== null) {
      callback(now)
      return undefined
    }
    this.waiter = callback
    if (timeout !== undefined) this.armTimer(timeout)
    return this.cancelWith
  }

  readonly tryWrite = (data: Uint8Array): boolean => {
    const sock = this.sock
    if (this.error !== undefined || this.closed || this.detached || sock.destroyed || sock.writableEnded) return false
    if (sock.writableLength + data.length >= sock.writableHighWaterMark) return false
    sock.write(data, this.onWritten)
    return true
  }

  readonly read = (timeout?: ReadTimeout): Effect.Effect<Uint8Array | undefined, ConnectionReset | TimeoutError> =>
    Effect.suspend(() => {
      // Fast path: bytes already buffered (no Effect.async, no timer).
      const chunk: Buffer | null = this.detached ? null : this.sock.read()
      if (chunk !== null) return Effect.succeed(chunk)
      if (this.eof) return EOF
      if (this.error !== undefined) return Effect.fail(this.error)
      if (this.detached || this.closed || this.sock.destroyed) return Effect.fail(this.closedError())
      if (timeout !== undefined && timeout.ms <= 0) {
        return Effect.fail(new TimeoutError({ phase: timeout.phase, timeoutMs: timeout.ms, host: this.host, port: this.port }))
      }
      this.nextTimeout = timeout
      return this.wait
    })

  /** Waits for 'drain' (or a failure). */
  private readonly waitDrain: Effect.Effect<void, ConnectionReset> = Effect.async<void, ConnectionReset>((resume) => {
    if (this.error !== undefined) return resume(Effect.fail(this.error))
    if (!this.sock.writableNeedDrain) return resume(VOID)
    this.drainWaiters.push(resume)
    return Effect.sync(() => {
      const i = this.drainWaiters.indexOf(resume)
      if (i >= 0) this.drainWaiters.splice(i, 1)
    })
  })

  readonly write = (data: Uint8Array | string, timeout?: ReadTimeout): Effect.Effect<void, ConnectionReset | TimeoutError> =>
    Effect.suspend(() => {
      if (this.error !== undefined) return Effect.fail(this.error)
      if (this.closed || this.detached || this.sock.destroyed || this.sock.writableEnded) return Effect.fail(this.closedError())
      // Resolve at once when the data fits under the high-water mark (handed to the OS or queued
      // in node's small buffer); otherwise wait for 'drain'. Errors surface on the next op.
      const ok = typeof data === "string" ? this.sock.write(data, "latin1", this.onWritten) : this.sock.write(data, this.onWritten)
      if (ok) return VOID
      return timeout === undefined ? this.waitDrain : this.waitDrainFor(timeout)
    })

  /** Waits for 'drain' at most `t.ms` (a timer only for writes that block, which are rare). */
  private waitDrainFor(t: ReadTimeout): Effect.Effect<void, ConnectionReset | TimeoutError> {
    return Effect.async<void, ConnectionReset | TimeoutError>((resume) => {
      if (this.error !== undefined) return resume(Effect.fail(this.error))
      if (!this.sock.writableNeedDrain) return resume(VOID)
      let done = false
      const waiter: Resume<void, ConnectionReset> = (e) => {
        if (done) return
        done = true
        clearTimeout(timer)
        resume(e)
      }
      const timer = setTimeout(() => {
        if (done) return
        done = true
        const i = this.drainWaiters.indexOf(waiter)
        if (i >= 0) this.drainWaiters.splice(i, 1)
        resume(Effect.fail(new TimeoutError({ phase: t.phase, timeoutMs: t.ms, host: this.host, port: this.port })))
      }, t.ms)
      this.drainWaiters.push(waiter)
      return Effect.sync(() => {
        done = true
        clearTimeout(timer)
        const i = this.drainWaiters.indexOf(waiter)
        if (i >= 0) this.drainWaiters.splice(i, 1)
      })
    })
  }

  readonly hasPendingInput = (): boolean =>
    this.sock.readableLength > 0 || this.eof || this.error !== undefined || this.sock.readableEnded

  readonly isOpen = (): boolean =>
    !this.closed && !this.detached && !this.eof && this.error === undefined && !this.sock.destroyed && !this.sock.readableEnded

  /** Destroys now (idempotent). */
  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.clearTimer()
    this.sock.destroy()
    for (const o of this.owned) o.destroy()
    if (this.waiter !== null || this.drainWaiters.length > 0) this.failAll(this.closedError())
  }

  readonly close: Effect.Effect<void> = Effect.sync(() => this.destroy())

  /** Stops listening to the node socket (it is about to be wrapped by TLS). */
  detach(): void {
    this.detached = true
    this.clearTimer()
    this.sock.off("readable", this.onReadable)
    this.sock.off("end", this.onEnd)
    this.sock.off("drain", this.onDrain)
  }

  /** `other` is destroyed with this socket. */
  own(other: NodeSocket): void {
    this.owned.push(other)
  }

  readonly startTls = (options: {
    readonly host: string
    readonly port: number
    readonly tls?: TlsOptions | undefined
    readonly timeout?: Duration.DurationInput | undefined
  }): Effect.Effect<Socket, TlsError | TimeoutError | InvalidTlsOptions, Scope.Scope> => {
    const checked = effectiveTls(this.baseTls, options.tls)
    if (Either.isLeft(checked)) return Effect.fail(checked.left)
    return scopedSocket(upgrade(this, options.host, options.port, checked.right, millisOf(options.timeout), this.baseTls))
  }
}

// ---------------------------------------------------------------------------------------------
// Opening sockets
// ---------------------------------------------------------------------------------------------

const connectErrorOf = (host: string, port: number, err: unknown, socketPath: string | undefined) =>
  new ConnectError({ host, port, cause: err, code: errorCode(err), socketPath })

const tlsError = (host: string, port: number, err: unknown) =>
  new TlsError({ host, port, reason: errorMessage(err), code: errorCode(err), cause: err })

const timeoutError = (host: string, port: number, ms: number) =>
  new TimeoutError({ phase: "connect", timeoutMs: ms, host, port })

/** Node's bounds on `autoSelectFamilyAttemptTimeout` (it refuses 0 and raises values under 10 ms). */
const MIN_ATTEMPT_MS = 10
const MAX_ATTEMPT_MS = 2_147_483_647

/**
 * The socket-level options of one connect: a Unix domain socket `path`, or TCP to `host:port`
 * with the source address and Happy Eyeballs settings (the connect's over the transport's, node's
 * process-wide defaults when neither sets them).
 */
const socketOptions = (
  options: ConnectOptions,
  host: string,
  config: NodeTransportConfig
): (net.IpcNetConnectOpts | net.TcpNetConnectOpts) & { highWaterMark?: number } => {
  // A 256 KiB read buffer: Node's 16 KiB default stops and restarts the kernel reads every
  // 16 KiB (306 → 625 MB/s on a large body here); memory stays bounded by it per socket.
  if (options.socketPath !== undefined) return { path: options.socketPath, highWaterMark: READ_HIGH_WATER_MARK }
  const base: net.TcpNetConnectOpts & { highWaterMark?: number } = { host, port: options.port, highWaterMark: READ_HIGH_WATER_MARK }
  const source = options.sourceAddress
  if (source !== undefined) {
    if (source.host !== "") base.localAddress = stripBrackets(source.host)
    if (source.port !== undefined && source.port !== 0) base.localPort = source.port
  }
  const auto = options.autoSelectFamily ?? config.autoSelectFamily
  if (auto !== undefined) base.autoSelectFamily = auto
  const attempt = millisOf(options.autoSelectFamilyAttemptTimeout ?? config.autoSelectFamilyAttemptTimeout)
  if (attempt !== undefined) base.autoSelectFamilyAttemptTimeout = Math.min(MAX_ATTEMPT_MS, Math.max(MIN_ATTEMPT_MS, Math.ceil(attempt)))
  return base
}

/**
 * Opens one node socket (TCP or a Unix domain socket, then TLS when `secure`), resolving after
 * `connect` or `secureConnect`. Interruption and the timeout destroy it.
 */
const open = (
  options: ConnectOptions,
  secure: boolean,
  tlsOptions: TlsOptions,
  baseTls: Checked,
  config: NodeTransportConfig
): Effect.Effect<NodeSocket, ConnectError | TimeoutError | TlsError> =>
  Effect.async((resume) => {
    const host = stripBrackets(options.host)
    const port = options.port
    const socketPath = options.socketPath
    const timeoutMs = millisOf(options.timeout)
    const connectError = (err: unknown) => connectErrorOf(options.host, port, err, socketPath)
    let base: ReturnType<typeof socketOptions>
    try {
      base = socketOptions(options, host, config)
    } catch (err) {
      // A plain-JS caller's unreadable duration.
      return resume(Effect.fail(connectError(err)))
    }
    let sock: net.Socket
    try {
      // Over a Unix socket, TLS still names `host` (SNI and the certificate check).
      sock = secure ? tls.connect({ ...base, ...tlsConnectOptions(host, tlsOptions) }) : net.connect(base)
    } catch (err) {
      // When secure, what throws here is node:tls refusing an option (a bad PEM, passphrase or
      // cipher list, often without a code); net's own argument errors all carry an ERR_ code.
      const code = errorCode(err)
      const isTls = secure && (code === undefined || isTlsCode(code) || code.startsWith("ERR_CRYPTO_"))
      return resume(Effect.fail(isTls ? tlsError(options.host, port, err) : connectError(err)))
    }
    let tcpConnected = false
    let timer: NodeJS.Timeout | undefined
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer)
      sock.off("connect", onConnect)
      sock.off("secureConnect", onSecure)
      sock.off("error", onError)
      sock.off("close", onClose)
    }
    const fail = (e: ConnectError | TimeoutError | TlsError) => {
      cleanup()
      sock.destroy()
      resume(Effect.fail(e))
    }
    const done = () => {
      cleanup()
      sock.setNoDelay(true)
      sock.setKeepAlive(true, 60_000)
      resume(Effect.succeed(new NodeSocket(sock, options.host, port, secure, baseTls)))
    }
    const onConnect = () => {
      tcpConnected = true
      if (!secure) done()
    }
    const onSecure = () => {
      const rejected = identityRejection(sock as tls.TLSSocket, host, tlsOptions)
      if (rejected !== undefined) fail(tlsError(options.host, port, rejected))
      else done()
    }
    const onError = (err: Error) => {
      const code = errorCode(err)
      fail(secure && (tcpConnected || isTlsCode(code)) ? tlsError(options.host, port, err) : connectError(err))
    }
    const onClose = () => {
      const err = new Error(tcpConnected ? "connection closed during the TLS handshake" : "socket closed while connecting")
      ;(err as Error & { code: string }).code = "ECONNRESET"
      onError(err)
    }
    sock.on("connect", onConnect)
    if (secure) sock.on("secureConnect", onSecure)
    sock.on("error", onError)
    sock.on("close", onClose)
    if (timeoutMs !== undefined) timer = setTimeout(() => fail(timeoutError(options.host, port, timeoutMs)), timeoutMs)
    return Effect.sync(() => {
      cleanup()
      sock.destroy()
    })
  })

/**
 * Opens a socket (interruptibly) and closes it with the scope. Unlike `Effect.acquireRelease`,
 * the finalizer does not capture the opening fiber's context (its FiberRefs, spans, services):
 * a pooled socket outlives the request that opened it.
 */
const scopedSocket = <E>(acquire: Effect.Effect<NodeSocket, E>): Effect.Effect<NodeSocket, E, Scope.Scope> =>
  Effect.uninterruptible(
    Effect.flatMap(Effect.interruptible(acquire), (s) =>
      Effect.flatMap(Effect.scope, (scope) => Effect.as(Scope.addFinalizer(scope, s.close), s))
    )
  )

/** TLS over an open plain socket (CONNECT tunnels). */
const upgrade = (
  plain: NodeSocket,
  hostInput: string,
  port: number,
  tlsOptions: TlsOptions,
  timeoutMs: number | undefined,
  baseTls: Checked
): Effect.Effect<NodeSocket, TlsError | TimeoutError> =>
  Effect.async((resume) => {
    const host = stripBrackets(hostInput)
    if (!plain.isOpen()) {
      const err = new Error("cannot start TLS: the socket is closed")
      ;(err as Error & { code: string }).code = "ERR_SOCKET_CLOSED"
      return resume(Effect.fail(tlsError(hostInput, port, err)))
    }
    plain.detach()
    let sock: tls.TLSSocket
    try {
      sock = tls.connect({ ...tlsConnectOptions(host, tlsOptions), socket: plain.sock })
    } catch (err) {
      plain.destroy()
      return resume(Effect.fail(tlsError(hostInput, port, err)))
    }
    let timer: NodeJS.Timeout | undefined
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer)
      sock.off("secureConnect", onSecure)
      sock.off("error", onError)
      sock.off("close", onClose)
    }
    const fail = (e: TlsError | TimeoutError) => {
      cleanup()
      sock.destroy()
      plain.destroy()
      resume(Effect.fail(e))
    }
    const onSecure = () => {
      const rejected = identityRejection(sock, host, tlsOptions)
      if (rejected !== undefined) return fail(tlsError(hostInput, port, rejected))
      cleanup()
      const wrapped = new NodeSocket(sock, hostInput, port, true, baseTls)
      wrapped.own(plain)
      plain.own(wrapped)
      plain.sock.once("close", () => wrapped.destroy())
      resume(Effect.succeed(wrapped))
    }
    const onError = (err: Error) => fail(tlsError(hostInput, port, err))
    const onClose = () => {
      const err = new Error("connection closed during the TLS handshake")
      ;(err as Error & { code: string }).code = "ECONNRESET"
      onError(err)
    }
    sock.on("secureConnect", onSecure)
    sock.on("error", onError)
    sock.on("close", onClose)
    if (timeoutMs !== undefined) timer = setTimeout(() => fail(timeoutError(hostInput, port, timeoutMs)), timeoutMs)
    return Effect.sync(() => {
      cleanup()
      sock.destroy()
      plain.destroy()
    })
  })

/**
 * What a node transport does when `ConnectOptions.secure` is absent, and its TLS options.
 * @example
 * ```ts
 * const config: NodeTransportConfig = { secureByDefault: true, tls: { ca } }
 * ```
 * @since 0.1.0
 */
export interface NodeTransportConfig extends NetOptions {
  readonly secureByDefault: boolean
  readonly tls?: TlsOptions | undefined
}

/**
 * The node:net / node:tls transport. Every instance honours `secure` when given; `secureByDefault`
 * only decides when it is absent. Per-connect `tls` options (and a `startTls`'s) merge over the
 * configured ones. The configured options are validated once here; a secure connect (or a
 * `startTls`) whose options are invalid fails with `InvalidTlsOptions` before opening anything.
 * @example
 * ```ts
 * Layer.succeed(Transport, makeNodeTransport({ secureByDefault: false }))
 * ```
 * @since 0.1.0
 */
export const makeNodeTransport = (config: NodeTransportConfig): TransportService => {
  const base = config.tls === undefined ? NO_TLS : validateTlsOptions(config.tls)
  return {
    connect: (options) => {
      const secure = options.secure ?? config.secureByDefault
      if (!secure) return scopedSocket(open(options, false, {}, base, config))
      const checked = effectiveTls(base, options.tls)
      if (Either.isLeft(checked)) return Effect.fail(checked.left)
      return scopedSocket(open(options, true, checked.right, base, config))
    }
  }
}
