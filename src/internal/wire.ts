/**
 * The I/O driver of one socket: it runs the sans-IO {@link ClientConnection} over a `Socket`.
 *
 * It writes what the core frames, feeds the core what it reads (only when the core needs bytes),
 * waits for an exchange's turn when requests are pipelined, bounds every read and blocked write
 * with a timeout, and adds the connection's context (method, host, port, reuse) to every error.
 * It decides nothing about framing or reuse: the core does. Nothing outside writes its fields.
 * @internal
 */
import { Duration, Effect } from "effect"
import {
  ConnectionReset,
  IncompleteRead,
  RemoteDisconnected,
  type ContentLengthMismatch,
  type Http1Error,
  type InvalidRequestFraming,
  TimeoutError,
  type TimeoutPhase
} from "../Http1Error.js"
import { Headers } from "../Headers.js"
import { withFields } from "./errors.js"
import { ClientConnection, type ConnectionEvent, type Exchange } from "../protocol/ClientConnection.js"
import type { DataEvent, EndEvent, HeadEvent, InterimResponse, ParseError, ParserLimits } from "../protocol/events.js"
import type { PreparedRequest } from "../protocol/RequestEncoder.js"
import type { ReadResult, ReadTimeout, Socket } from "../transport/types.js"

/** Events the wire hands out: everything but NeedData / Error / Lost / NotYourTurn, which it handles itself. */
export type WireEvent = HeadEvent | DataEvent | EndEvent

const readTimeouts: Record<TimeoutPhase, Map<number, ReadTimeout>> = {
  connect: new Map(),
  write: new Map(),
  headers: new Map(),
  body: new Map(),
  total: new Map()
}
/** Shared, frozen ReadTimeout objects, so a read does not allocate one (nor build a key string). */
export const readTimeout = (ms: number | undefined, phase: TimeoutPhase): ReadTimeout | undefined => {
  if (ms === undefined) return undefined
  const byMs = readTimeouts[phase]
  let t = byMs.get(ms)
  if (t === undefined) {
    t = Object.freeze({ ms, phase })
    if (byMs.size < 256) byMs.set(ms, t)
  }
  return t
}

/** The context added to errors raised on a connection. */
export interface WireContext {
  readonly method: string | undefined
  readonly host: string
  readonly port: number
  readonly reusedConnection: boolean
}

/** {@link Wire.bodyWith}'s result when its consumer asked to stop. */
export const STOP: unique symbol = Symbol.for("effect-http1/Wire/STOP")

export class Wire {
  readonly conn: ClientConnection
  /** Readers waiting for their turn (pipelining), woken when the exchange ahead of them ends. */
  private readonly turnWaiters = new Map<Exchange, () => void>()

  constructor(
    readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    limits?: Partial<ParserLimits>,
    /** Bound on a write that waits for the peer to read (`TimeoutError` phase `write`). */
    private readonly writeTimeout?: ReadTimeout | undefined
  ) {
    this.conn = new ClientConnection({ limits })
  }

  /** The context of an exchange (or of the connection), added to errors. */
  context(ex?: Exchange): WireContext {
    return { method: ex?.method, host: this.host, port: this.port, reusedConnection: ex?.reusedConnection ?? this.conn.served > 0 }
  }

  /** Adds the connection's context to an error. */
  contextualize<E extends Http1Error>(error: E, ex?: Exchange): E {
    return withFields(error, this.context(ex))
  }

  /** Whether a new request may be written now (the core's rule, with the socket's unread bytes). */
  canSend(pipelined: boolean): boolean {
    return this.socket.isOpen() && this.conn.canSend(pipelined, this.unsolicitedInput())
  }

  /** With nothing in flight, any byte (or EOF) the socket holds was sent to nobody. */
  private unsolicitedInput(): boolean {
    return this.conn.idle && this.socket.hasPendingInput()
  }

  /** Whether the socket may sit idle for another exchange later. */
  get reusable(): boolean {
    return this.conn.idle && this.canSend(false)
  }

  /**
   * Registers `request` with the core, right before its head is written (the check for waiting
   * bytes is made now). `undefined` when the connection cannot take it.
   */
  start(request: PreparedRequest, pipelined: boolean): Exchange | undefined {
    if (!this.socket.isOpen()) return undefined
    return this.conn.send(request, pipelined, this.unsolicitedInput())
  }

  /** Writes bytes; a failure poisons the connection and carries context. */
  write(data: Uint8Array | string, ex?: Exchange): Effect.Effect<void, ConnectionReset | TimeoutError> {
    if (typeof data !== "string" && data.length === 0) return Effect.void
    return Effect.catchAll(this.socket.write(data, this.writeTimeout), (e): Effect.Effect<never, ConnectionReset | TimeoutError> => {
      this.poison("a write failed")
      if (e._tag === "TimeoutError") return Effect.fail(this.contextualize(e, ex))
      return Effect.fail(withFields(e, { ...this.context(ex), beforeResponse: ex === undefined || !ex.sawResponseByte }))
    })
  }

  /** Writes one piece of `ex`'s body, framed by the core. */
  writeBody(ex: Exchange, data: Uint8Array): Effect.Effect<void, Http1Error> {
    const framed = this.conn.frameBody(ex, data)
    if (framed instanceof Uint8Array) return this.write(framed, ex)
    this.wakeAll()
    return Effect.fail(this.contextualize<ContentLengthMismatch | InvalidRequestFraming>(framed, ex))
  }

  /** Ends `ex`'s body (the last chunk, or a check that the Content-Length was reached). */
  endBody(ex: Exchange): Effect.Effect<void, Http1Error> {
    const end = this.conn.endBody(ex)
    if (end instanceof Uint8Array) return this.write(end, ex)
    this.wakeAll()
    return Effect.fail(this.contextualize(end, ex))
  }

  /** The connection must be closed: every reader waiting for its turn learns it. */
  poison(reason: string): void {
    this.conn.poison(reason)
    this.wakeAll()
  }

  /** `ex`'s caller gave up; whether others still wait on this connection (else close it). */
  abandon(ex: Exchange): boolean {
    const others = this.conn.abandon(ex)
    this.wakeTurn()
    return others
  }

  /** A failed read poisons the connection; the error the exchange reports, with context. */
  private readFailure(e: ConnectionReset | TimeoutError, ex: Exchange): ConnectionReset | RemoteDisconnected | TimeoutError {
    this.poison(e._tag === "TimeoutError" ? "a read timed out" : "the connection was reset")
    if (e._tag === "TimeoutError") return withFields(e, { ...this.context(ex), bytesReceived: this.conn.bufferedLength })
    // A reset before any byte of the response is the server closing without a response.
    if (!ex.sawResponseByte) return new RemoteDisconnected({ ...this.context(ex), code: e.code, cause: e.cause })
    return withFields(e, { ...this.context(ex), beforeResponse: false })
  }

  /** Reads one chunk from the socket into the core. */
  fill(ex: Exchange, timeout: ReadTimeout | undefined): Effect.Effect<void, ConnectionReset | RemoteDisconnected | TimeoutError> {
    return Effect.matchEffect(this.socket.read(timeout), {
      onFailure: (e) => Effect.fail(this.readFailure(e, ex)),
      onSuccess: (chunk) => {
        if (chunk === undefined) this.conn.receiveEof()
        else this.conn.receiveData(chunk)
        return Effect.void
      }
    })
  }

  /**
   * Writes `ex`'s whole request (`bytes`) and reads up to its final head, as {@link write} then
   * {@link finalHead}. When the socket offers the callback-level fast path and the bytes fit its
   * write buffer, this is one suspension of the fiber: the write is synchronous and every read
   * until the head is a callback, not an Effect step.
   */
  roundTrip(
    ex: Exchange,
    bytes: Uint8Array,
    interim: Array<InterimResponse> | undefined,
    wait: () => ReadTimeout | undefined
  ): Effect.Effect<HeadEvent, Http1Error> {
    const socket = this.socket
    if (socket.readWith === undefined || socket.tryWrite === undefined || !socket.tryWrite(bytes)) {
      return Effect.zipRight(this.write(bytes, ex), this.finalHead(ex, interim, wait))
    }
    return this.headWith(ex, interim, wait)
  }

  /** Whether the socket offers callback-level reads ({@link bodyWith}). */
  get fastReads(): boolean {
    return this.socket.readWith !== undefined
  }

  /**
   * Pulls `ex`'s events on callback-level reads, in one `Effect.async`: a read is started for
   * each NeedData; every other event goes to `onEvent`, which returns the effect to resume with,
   * or `undefined` to go on. A failed read fails as {@link fill} does. `wait` gives each read's
   * timeout when it starts.
   */
  private pumpWith<A, E>(
    ex: Exchange,
    wait: () => ReadTimeout | undefined,
    onEvent: (ev: Exclude<ConnectionEvent, { readonly _tag: "NeedData" }>) => Effect.Effect<A, E> | undefined
  ): Effect.Effect<A, E | ConnectionReset | RemoteDisconnected | TimeoutError> {
    return Effect.async((resume) => {
      const readWith = this.socket.readWith!
      let cancel: (() => void) | undefined
      // While `readWith` runs, a synchronous result is kept here and handled by the loop.
      let inside = false
      let early: ReadResult | null = null
      const take = (r: ReadResult): boolean => {
        if (r === undefined) this.conn.receiveEof()
        else if (r instanceof Uint8Array) this.conn.receiveData(r)
        else {
          resume(Effect.fail(this.readFailure(r, ex)))
          return false
        }
        return true
      }
      const onRead = (r: ReadResult): void => {
        if (inside) {
          early = r
          return
        }
        cancel = undefined
        if (take(r)) step()
      }
      const step = (): void => {
        for (;;) {
          const ev = this.poll(ex)
          if (ev._tag !== "NeedData") {
            const done = onEvent(ev)
            if (done !== undefined) return resume(done)
            continue
          }
          inside = true
          early = null
          const c = readWith(wait(), onRead)
          inside = false
          if (c !== undefined) {
            cancel = c
            return
          }
          const r = early as ReadResult | null
          early = null
          if (r === null || !take(r)) return
        }
      }
      step()
      return Effect.sync(() => {
        const c = cancel
        cancel = undefined
        c?.()
      })
    })
  }

  /**
   * Reads `ex`'s body on callback-level reads ({@link pumpWith}): each Data event's bytes go to
   * `onData`, which returns whether it wants more. Resolves with {@link STOP} when `onData` said
   * no, or with the event that ended the loop (End, or an error-like event for the caller to
   * report).
   */
  bodyWith(
    ex: Exchange,
    wait: () => ReadTimeout | undefined,
    onData: (bytes: Uint8Array) => boolean
  ): Effect.Effect<typeof STOP | Exclude<ConnectionEvent, DataEvent | { readonly _tag: "NeedData" }>, ConnectionReset | RemoteDisconnected | TimeoutError> {
    return this.pumpWith<typeof STOP | Exclude<ConnectionEvent, DataEvent | { readonly _tag: "NeedData" }>, never>(ex, wait, (ev) =>
      ev._tag === "Data" ? (onData(ev.bytes) ? undefined : Effect.succeed(STOP)) : Effect.succeed(ev))
  }

  /** {@link finalHead} on callback-level reads ({@link pumpWith}): one `Effect.async` until the final head. */
  private headWith(
    ex: Exchange,
    interim: Array<InterimResponse> | undefined,
    wait: () => ReadTimeout | undefined
  ): Effect.Effect<HeadEvent, Http1Error> {
    return this.pumpWith<HeadEvent, Http1Error>(ex, wait, (ev) => {
      switch (ev._tag) {
        case "Head":
          if (!ev.interim) return Effect.succeed(ev)
          interim?.push({ status: ev.status, reason: ev.reason, headers: Headers.fromRaw(ev.headers) })
          return undefined
        case "NotYourTurn":
          // Pipelined behind a response still being read: the Effect-level path waits its turn.
          return this.finalHeadSteps(ex, interim, wait)
        case "Error":
          return Effect.fail(this.parseError(ev.error, ex))
        case "Lost":
          return Effect.fail(this.lost(ex, ev.reason))
        default:
          return undefined
      }
    })
  }

  /**
   * Waits until every exchange ahead of `ex` is over or abandoned (or the connection is lost),
   * bounded by the read timeout it would have had (a reader ahead may be slow to read its body).
   */
  private awaitTurn(ex: Exchange, timeout: ReadTimeout | undefined): Effect.Effect<void, TimeoutError> {
    const turn = Effect.async<void>((resume) => {
      if (this.conn.isTurn(ex) || this.conn.reuse._tag === "Poisoned") return resume(Effect.void)
      this.turnWaiters.set(ex, () => resume(Effect.void))
      return Effect.sync(() => {
        this.turnWaiters.delete(ex)
      })
    })
    if (timeout === undefined) return turn
    return Effect.timeoutFail(turn, {
      duration: Duration.millis(timeout.ms),
      onTimeout: () => new TimeoutError({ phase: timeout.phase, timeoutMs: timeout.ms, detail: "pipelined behind responses still being read", ...this.context(ex) })
    })
  }

  /** Wakes the reader whose turn it now is. */
  private wakeTurn(): void {
    if (this.turnWaiters.size === 0) return
    const poisoned = this.conn.reuse._tag === "Poisoned"
    for (const [ex, wake] of this.turnWaiters) {
      if (poisoned || this.conn.isTurn(ex)) {
        this.turnWaiters.delete(ex)
        wake()
      }
    }
  }

  private wakeAll(): void {
    if (this.turnWaiters.size === 0) return
    const ws = [...this.turnWaiters.values()]
    this.turnWaiters.clear()
    for (const wake of ws) wake()
  }

  /**
   * The core's next event for `ex`, without I/O; readers waiting for their turn are woken when a
   * response ends (or the connection is lost). Every read of a response goes through here.
   */
  poll(ex: Exchange): ConnectionEvent {
    const ev = this.conn.next(ex)
    if (this.turnWaiters.size > 0) {
      if (ev._tag === "End") this.wakeTurn()
      else if (ev._tag === "Error" || ev._tag === "Lost") this.wakeAll()
    }
    return ev
  }

  /**
   * The next event of `ex`'s response, reading (and waiting for its turn) as needed. `wait` gives
   * each read's timeout when it starts: a deadline shrinks read by read, so trickled bytes never
   * extend it.
   */
  next(ex: Exchange, wait: () => ReadTimeout | undefined): Effect.Effect<WireEvent, Http1Error> {
    const ev = this.poll(ex)
    switch (ev._tag) {
      case "NeedData":
        return Effect.flatMap(this.fill(ex, wait()), () => this.next(ex, wait))
      case "NotYourTurn":
        return Effect.flatMap(this.awaitTurn(ex, wait()), () => this.next(ex, wait))
      case "Error":
        return Effect.fail(this.parseError(ev.error, ex))
      case "Lost":
        return Effect.fail(this.lost(ex, ev.reason))
      default:
        return Effect.succeed(ev)
    }
  }

  /** The error for an exchange whose response the connection can no longer deliver. */
  lost(ex: Exchange | undefined, reason: string): Http1Error {
    if (ex === undefined || !ex.sawResponseByte) return new RemoteDisconnected({ ...this.context(ex), cause: new Error(reason) })
    return new ConnectionReset({ ...this.context(ex), cause: new Error(reason), beforeResponse: false })
  }

  /**
   * Reads heads until the final one, recording 1xx interim responses in `interim` when given.
   * `wait` gives each read's timeout (it may shrink towards a deadline).
   */
  finalHead(
    ex: Exchange,
    interim: Array<InterimResponse> | undefined,
    wait: () => ReadTimeout | undefined
  ): Effect.Effect<HeadEvent, Http1Error> {
    return this.socket.readWith !== undefined ? this.headWith(ex, interim, wait) : this.finalHeadSteps(ex, interim, wait)
  }

  /** {@link finalHead} in Effect steps (sockets without callback-level reads; a pipelined turn). */
  private finalHeadSteps(
    ex: Exchange,
    interim: Array<InterimResponse> | undefined,
    wait: () => ReadTimeout | undefined
  ): Effect.Effect<HeadEvent, Http1Error> {
    const loop: Effect.Effect<HeadEvent, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.next(ex, wait), (ev) => {
        if (ev._tag !== "Head") return loop
        if (!ev.interim) return Effect.succeed(ev)
        interim?.push({ status: ev.status, reason: ev.reason, headers: Headers.fromRaw(ev.headers) })
        return loop
      })
    )
    return loop
  }

  /** Turns a parser error into the error users see. */
  parseError(error: ParseError, ex: Exchange): Http1Error {
    if (error._tag === "RemoteDisconnected") return new RemoteDisconnected(this.context(ex))
    return this.contextualize(error, ex)
  }

  /** An IncompleteRead carrying the bytes read by the failing call. */
  incomplete(error: IncompleteRead, partial: Uint8Array, ex: Exchange): IncompleteRead {
    return withFields(error, { ...this.context(ex), partial })
  }
}
