/**
 * An in-memory peer for tests: no sockets. `replies[i]` answers the i-th request on any connection;
 * everything the client writes is recorded and exposed by the {@link MockPeer} service.
 *
 * Timing (reply delays, read timeouts) runs on Effect's `Clock`, so tests may drive it with
 * `TestClock` as well as with real time.
 * @since 0.1.0
 */
import { STATUS_CODES } from "node:http"
import { Clock, Context, Duration, Effect, Either, type Scope } from "effect"
import { ConnectError, ConnectionReset, type InvalidTlsOptions, TimeoutError, TlsError } from "../Http1Error.js"
import { RequestFramer, toLatin1 } from "./mockFraming.js"
import { validateTlsOptions } from "./tlsOptions.js"
import type { ConnectOptions, ReadTimeout, Socket, TransportService } from "./types.js"

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

/** Bytes of a reply: a Latin-1 string or bytes.
 * @since 0.1.0
 */
export type MockBytes = string | Uint8Array

/** How a {@link MockReply} step is delivered.
 * @since 0.1.0
 */
export interface MockReplyOptions {
  /** Byte offsets at which the reply is cut into separately readable pieces. */
  readonly splitAt?: ReadonlyArray<number> | undefined
  /** Cut the reply into pieces of this many bytes (`1`: one byte per read). */
  readonly splitEvery?: number | undefined
  /** Wait before each piece becomes readable (the first one: after the request is complete). */
  readonly delay?: Duration.DurationInput | undefined
  /** Close the connection after this reply (the client then reads EOF). */
  readonly closeAfter?: boolean | undefined
  /**
   * Answer as soon as the request head is complete instead of the whole request, e.g. a
   * `100 Continue` (or a final status) for `Expect: 100-continue`. The completed request then
   * takes the next step as usual (unless this reply closed the connection).
   */
  readonly onHead?: boolean | undefined
}

/**
 * A reply: fixed bytes, or a function of the request bytes (the head only for `onHead` replies).
 * @since 0.1.0
 */
export interface MockReply extends MockReplyOptions {
  readonly _tag: "Reply"
  readonly body: MockBytes | ((request: Uint8Array) => MockBytes)
}

/** Closes the connection instead of answering: the client reads EOF before any status line.
 * @since 0.1.0
 */
export interface MockClose {
  readonly _tag: "Close"
}

/** Never answers this request (nor any later one on this connection): lets timeouts fire.
 * @since 0.1.0
 */
export interface MockStall {
  readonly _tag: "Stall"
}

/** Fails the client's next read with `ConnectionReset` (code `ECONNRESET`).
 * @since 0.1.0
 */
export interface MockReset {
  readonly _tag: "Reset"
}

/** A step of the mock peer's script.
 * @since 0.1.0
 */
export type MockStep = MockReply | MockClose | MockStall | MockReset

/**
 * What `replies[i]` may be: bytes, a function of the request bytes returning bytes or a step, or a
 * step built with {@link reply}, {@link close}, {@link stall} or {@link reset}.
 * @example
 * ```ts
 * const replies: Array<MockReplyInput> = ["HTTP/1.1 204 No Content\r\n\r\n", (req) => close]
 * ```
 * @since 0.1.0
 */
export type MockReplyInput = MockBytes | MockStep | ((request: Uint8Array) => MockBytes | MockStep)

/**
 * A reply with delivery options.
 *
 * @example
 * ```ts
 * import { Transport } from "effect-http1"
 *
 * Transport.layerMock([
 *   Transport.mock.reply("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", { splitEvery: 1, delay: "10 millis" })
 * ])
 * ```
 * @since 0.1.0
 */
export const reply = (body: MockBytes | ((request: Uint8Array) => MockBytes), options?: MockReplyOptions): MockReply => ({
  _tag: "Reply",
  body,
  ...options
})

/** Header fields of a {@link json} / {@link text} reply: `[name, value]` pairs or a record. */
export type MockHeaders = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>


/**
 * A whole response built from a status, header fields and a body (UTF-8): the status line with
 * node's reason phrase, the fields as given, `Content-Type: contentType` unless a field sets one,
 * and `Content-Length` in bytes unless a field sets `Content-Length` or `Transfer-Encoding`.
 */
const whole = (status: number, contentType: string, body: string, headers: MockHeaders | undefined, options: MockReplyOptions | undefined): MockReply => {
  const pairs: ReadonlyArray<readonly [string, string]> = headers === undefined ? [] : Array.isArray(headers) ? headers : Object.entries(headers)
  const has = (name: string) => pairs.some(([k]) => k.toLowerCase() === name)
  const bytes = Buffer.from(body, "utf8")
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n`
  if (!has("content-type")) head += `Content-Type: ${contentType}\r\n`
  for (const [k, v] of pairs) head += `${k}: ${v}\r\n`
  if (!has("content-length") && !has("transfer-encoding")) head += `Content-Length: ${bytes.length}\r\n`
  const headBytes = Buffer.from(head + "\r\n", "latin1")
  const out = new Uint8Array(headBytes.length + bytes.length)
  out.set(headBytes, 0)
  out.set(bytes, headBytes.length)
  return reply(out, options)
}

/**
 * A JSON reply: `JSON.stringify(body)` as UTF-8, `Content-Type: application/json`,
 * `Content-Length` counted in bytes. `headers` are added as given (a `Content-Type` or
 * `Content-Length` among them wins); `options` as {@link reply}'s.
 *
 * @example
 * ```ts
 * Transport.layerMock([
 *   Transport.mock.json(200, { id: 1, name: "café" }),
 *   Transport.mock.json(404, { error: "not found" }, { "x-request-id": "42" })
 * ])
 * ```
 * @since 0.1.0
 */
export const json = (status: number, body: unknown, headers?: MockHeaders, options?: MockReplyOptions): MockReply =>
  whole(status, "application/json", JSON.stringify(body) ?? "null", headers, options)

/**
 * A text reply: `body` as UTF-8, `Content-Type: text/plain; charset=utf-8`, `Content-Length`
 * counted in bytes. `headers` and `options` as {@link json}'s.
 *
 * @example
 * ```ts
 * Transport.layerMock([Transport.mock.text(503, "try later", [["Retry-After", "1"]])])
 * ```
 * @since 0.1.0
 */
export const text = (status: number, body: string, headers?: MockHeaders, options?: MockReplyOptions): MockReply =>
  whole(status, "text/plain; charset=utf-8", body, headers, options)

/**
 * Close the connection instead of answering.
 *
 * @example
 * ```ts
 * Transport.layerMock([Transport.mock.close]) // client sees RemoteDisconnected
 * ```
 * @since 0.1.0
 */
export const close: MockClose = { _tag: "Close" }

/**
 * Never answer.
 *
 * @example
 * ```ts
 * Transport.layerMock([Transport.mock.stall]) // a headers timeout fires
 * ```
 * @since 0.1.0
 */
export const stall: MockStall = { _tag: "Stall" }

/**
 * Fail the read with `ConnectionReset`.
 *
 * @example
 * ```ts
 * Transport.layerMock([Transport.mock.reset])
 * ```
 * @since 0.1.0
 */
export const reset: MockReset = { _tag: "Reset" }

/** Options of the mock layer.
 * @since 0.1.0
 */
export interface MockOptions {
  /** Refuse connections (`ConnectError`, `ECONNREFUSED`): always, or for the attempts (counted from 1) where it returns true. */
  readonly connectError?: boolean | ((attempt: number) => boolean) | undefined
  /** Keep the connection open after the last reply (by default it closes, ending a close-delimited body). */
  readonly keepOpen?: boolean | undefined
}

// ---------------------------------------------------------------------------------------------
// The recording service
// ---------------------------------------------------------------------------------------------

/** What the mock peer saw.
 * @since 0.1.0
 */
export interface MockPeerService {
  /** Each complete request's bytes, in the order they completed (all connections). */
  readonly requests: () => ReadonlyArray<Uint8Array>
  /** {@link MockPeerService.requests} as Latin-1 strings. */
  readonly requestsText: () => ReadonlyArray<string>
  /** All bytes written, one entry per connection, in the order connections were opened. */
  readonly written: () => ReadonlyArray<Uint8Array>
  /** Connections opened so far (refused attempts not counted). */
  readonly connections: () => number
  /** Connections currently open (not yet closed by the client or its scope): 0 means no leak. */
  readonly openConnections: () => number
  /** The options of every `connect` call, refused ones included (`socketPath`, `autoSelectFamily`, ... as given). */
  readonly connectOptions: () => ReadonlyArray<ConnectOptions>
  /** How many steps of `replies` have been used. */
  readonly repliesUsed: () => number
}

/**
 * The recording side of `Transport.layerMock`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Transport } from "effect-http1"
 *
 * const check = Effect.gen(function* () {
 *   const peer = yield* Transport.MockPeer
 *   peer.requestsText() // ["GET / HTTP/1.1\r\nHost: ...\r\n\r\n"]
 *   peer.openConnections() // 0 after every scope closed
 * })
 * ```
 * @since 0.1.0
 */
export class MockPeer extends Context.Tag("effect-http1/MockPeer")<MockPeer, MockPeerService>() {}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

type Piece =
  | { readonly kind: "data"; readonly bytes: Uint8Array; readonly readyAt: number }
  | { readonly kind: "eof"; readonly readyAt: number }
  | { readonly kind: "reset"; readonly readyAt: number }

const encoder = (s: string): Uint8Array => Buffer.from(s, "latin1")

const closedError = (host: string, port: number) => {
  const err = new Error("socket closed")
  ;(err as Error & { code: string }).code = "ERR_SOCKET_CLOSED"
  return new ConnectionReset({ cause: err, code: "ERR_SOCKET_CLOSED", beforeResponse: false, host, port })
}

const resetError = (host: string, port: number) => {
  const err = new Error("read ECONNRESET (mock)")
  ;(err as Error & { code: string }).code = "ECONNRESET"
  return new ConnectionReset({ cause: err, code: "ECONNRESET", beforeResponse: false, host, port })
}

let nextMockId = 1

interface PeerState {
  readonly replies: ReadonlyArray<MockReplyInput>
  readonly options: MockOptions
  next: number
  readonly requests: Array<Uint8Array>
  readonly connections: Array<MockConnection>
  readonly connects: Array<ConnectOptions>
  open: number
}

class MockConnection {
  readonly id = nextMockId++
  readonly framer = new RequestFramer()
  readonly written: Array<Uint8Array> = []
  private queue: Array<Piece> = []
  private lastReadyAt = 0
  private waiter: (() => void) | null = null
  /** No more answers on this connection (closed by a step, or stalled). */
  private answered = false
  closed = false

  constructor(
    readonly peer: PeerState,
    readonly clock: Clock.Clock,
    readonly host: string,
    readonly port: number
  ) {}

  // --- script -------------------------------------------------------------------------------

  private now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  private enqueue(piece: Piece): void {
    this.queue.push(piece)
    this.lastReadyAt = piece.readyAt
    this.wake()
  }

  private wake(): void {
    const w = this.waiter
    if (w !== null) {
      this.waiter = null
      w()
    }
  }

  /** Takes the next step of the script, if any; `head` selects `onHead` replies only. */
  private takeStep(request: Uint8Array, head: boolean): void {
    if (this.answered) return
    const peer = this.peer
    const input = peer.replies[peer.next]
    if (input === undefined) {
      if (!head) this.endWith("eof", this.now())
      return
    }
    const isOnHead = typeof input === "object" && !(input instanceof Uint8Array) && input._tag === "Reply" && input.onHead === true
    if (head !== isOnHead) return
    const index = peer.next++
    const isLast = index === peer.replies.length - 1
    let step: MockStep
    if (typeof input === "string" || input instanceof Uint8Array) step = reply(input)
    else if (typeof input === "function") {
      const out = input(request)
      step = typeof out === "string" || out instanceof Uint8Array ? reply(out) : out
    } else step = input
    this.apply(step, request, isLast)
  }

  private apply(step: MockStep, request: Uint8Array, isLast: boolean): void {
    const now = Math.max(this.now(), this.lastReadyAt)
    switch (step._tag) {
      case "Close":
        return this.endWith("eof", now)
      case "Reset":
        return this.endWith("reset", now)
      case "Stall":
        this.answered = true
        return
      case "Reply": {
        const raw = typeof step.body === "function" ? step.body(request) : step.body
        const bytes = typeof raw === "string" ? encoder(raw) : raw
        const delay = step.delay === undefined ? 0 : Duration.toMillis(Duration.decode(step.delay))
        let at = now
        for (const piece of split(bytes, step)) {
          at += delay
          this.enqueue({ kind: "data", bytes: piece, readyAt: at })
        }
        if (bytes.length === 0) at += delay
        if (step.closeAfter === true || (isLast && this.peer.options.keepOpen !== true)) this.endWith("eof", at)
        return
      }
    }
  }

  private endWith(kind: "eof" | "reset", at: number): void {
    this.answered = true
    this.enqueue({ kind, readyAt: at })
  }

  // --- socket operations --------------------------------------------------------------------

  write(data: Uint8Array | string): Effect.Effect<void, ConnectionReset> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(closedError(this.host, this.port))
      const ready = this.readyEnd()
      if (ready === "reset") return Effect.fail(resetError(this.host, this.port))
      const bytes = typeof data === "string" ? encoder(data) : Uint8Array.from(data)
      this.written.push(bytes)
      for (const ev of this.framer.push(bytes)) {
        if (ev._tag === "Head") {
          this.takeStep(ev.head, true)
        } else {
          this.peer.requests.push(ev.bytes)
          this.takeStep(ev.bytes, false)
        }
      }
      return Effect.void
    })
  }

  /** The end piece (eof / reset) if it is due and nothing precedes it. */
  private readyEnd(): "eof" | "reset" | undefined {
    const head = this.queue[0]
    if (head === undefined || head.kind === "data" || head.readyAt > this.now()) return undefined
    return head.kind
  }

  private readonly readOnce: Effect.Effect<Uint8Array | undefined, ConnectionReset> = Effect.suspend(() => {
    if (this.closed) return Effect.fail(closedError(this.host, this.port))
    const head = this.queue[0]
    if (head === undefined) {
      return Effect.async<Uint8Array | undefined, ConnectionReset>((resume) => {
        const waiter = () => resume(this.readOnce)
        this.waiter = waiter
        return Effect.sync(() => {
          if (this.waiter === waiter) this.waiter = null
        })
      })
    }
    const wait = head.readyAt - this.now()
    if (wait > 0) return Effect.zipRight(Effect.sleep(Duration.millis(wait)), this.readOnce)
    switch (head.kind) {
      case "data":
        this.queue.shift()
        return Effect.succeed(head.bytes)
      case "eof":
        return Effect.succeed(undefined)
      case "reset":
        return Effect.fail(resetError(this.host, this.port))
    }
  })

  read(timeout?: ReadTimeout): Effect.Effect<Uint8Array | undefined, ConnectionReset | TimeoutError> {
    if (timeout === undefined) return this.readOnce
    return Effect.timeoutFail(this.readOnce, {
      duration: Duration.millis(timeout.ms),
      onTimeout: () => new TimeoutError({ phase: timeout.phase, timeoutMs: timeout.ms, host: this.host, port: this.port })
    })
  }

  hasPendingInput(): boolean {
    const head = this.queue[0]
    return head !== undefined && head.readyAt <= this.now()
  }

  isOpen(): boolean {
    return !this.closed && this.readyEnd() === undefined
  }

  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.peer.open--
    this.wake()
  }
}

const split = (bytes: Uint8Array, options: MockReplyOptions): Array<Uint8Array> => {
  const cuts = new Set<number>()
  for (const at of options.splitAt ?? []) if (at > 0 && at < bytes.length) cuts.add(Math.floor(at))
  const every = options.splitEvery
  if (every !== undefined && every > 0) for (let at = every; at < bytes.length; at += every) cuts.add(at)
  if (cuts.size === 0) return bytes.length === 0 ? [] : [bytes]
  const sorted = [...cuts].sort((a, b) => a - b)
  const pieces: Array<Uint8Array> = []
  let start = 0
  for (const at of sorted) {
    pieces.push(bytes.subarray(start, at))
    start = at
  }
  pieces.push(bytes.subarray(start))
  return pieces
}

const socketOf = (conn: MockConnection, secure: boolean): Socket => {
  const socket: Socket = {
    id: conn.id,
    host: conn.host,
    port: conn.port,
    secure,
    read: (timeout) => conn.read(timeout),
    // Mock writes never block, so a write timeout never fires.
    write: (data) => conn.write(data),
    hasPendingInput: () => conn.hasPendingInput(),
    isOpen: () => conn.isOpen(),
    close: Effect.sync(() => conn.destroy()),
    startTls: (options) =>
      Effect.suspend((): Effect.Effect<Socket, TlsError | InvalidTlsOptions, Scope.Scope> => {
        // Same checks as the node transport: invalid TLS options fail before the "handshake".
        const checked = validateTlsOptions(options.tls)
        if (Either.isLeft(checked)) return Effect.fail(checked.left)
        return conn.closed
          ? Effect.fail(new TlsError({ host: conn.host, port: conn.port, reason: "socket closed before TLS could start", code: "ERR_SOCKET_CLOSED" }))
          : Effect.acquireRelease(Effect.succeed(socketOf(conn, true)), (s) => s.close)
      })
  }
  return socket
}

/**
 * Builds a mock transport and its recorder (fresh state per call).
 * @example
 * ```ts
 * const { transport, peer } = makeMock(["HTTP/1.1 204 No Content\r\n\r\n"])
 * ```
 * @since 0.1.0
 */
export const makeMock = (
  replies: ReadonlyArray<MockReplyInput>,
  options: MockOptions = {}
): { readonly transport: TransportService; readonly peer: MockPeerService } => {
  const state: PeerState = { replies, options, next: 0, requests: [], connections: [], connects: [], open: 0 }
  const transport: TransportService = {
    connect: (connectOptions) =>
      Effect.acquireRelease(
        Effect.clockWith((clock): Effect.Effect<Socket, ConnectError | InvalidTlsOptions> => {
          state.connects.push(connectOptions)
          const attempt = state.connects.length
          if (connectOptions.secure === true) {
            // Same checks as the node transport: invalid TLS options open no connection.
            const checked = validateTlsOptions(connectOptions.tls)
            if (Either.isLeft(checked)) return Effect.fail(checked.left)
          }
          const refuse = typeof options.connectError === "function" ? options.connectError(attempt) : options.connectError === true
          if (refuse) {
            const err = new Error(`connect ECONNREFUSED ${connectOptions.host}:${connectOptions.port} (mock)`)
            ;(err as Error & { code: string }).code = "ECONNREFUSED"
            return Effect.fail(
              new ConnectError({ host: connectOptions.host, port: connectOptions.port, cause: err, code: "ECONNREFUSED", socketPath: connectOptions.socketPath })
            )
          }
          const conn = new MockConnection(state, clock, connectOptions.host, connectOptions.port)
          state.connections.push(conn)
          state.open++
          return Effect.succeed(socketOf(conn, connectOptions.secure === true))
        }),
        (socket) => socket.close
      )
  }
  const peer: MockPeerService = {
    requests: () => state.requests.slice(),
    requestsText: () => state.requests.map(toLatin1),
    written: () => state.connections.map((c) => Buffer.concat(c.written)),
    connections: () => state.connections.length,
    openConnections: () => state.open,
    connectOptions: () => state.connects.slice(),
    repliesUsed: () => state.next
  }
  return { transport, peer }
}
