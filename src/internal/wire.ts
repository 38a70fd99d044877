/**
 * One open socket and its response parser: the I/O edge of the sans-IO core.
 *
 * `Wire` pulls parser events, reading from the socket only when the parser needs data, and adds
 * the connection's context (method, host, port, reuse) to every error. `HttpConnection` and the
 * pooled client both run exchanges over a `Wire`.
 * @internal
 */
import { type Deferred, Effect, type Scope } from "effect"
import {
  ConnectionReset,
  IncompleteRead,
  RemoteDisconnected,
  type Http1Error,
  type TimeoutError,
  type TimeoutPhase
} from "../Http1Error.js"
import { Headers } from "../Headers.js"
import type { InterimResponse } from "../HttpResponse.js"
import type { DataEvent, EndEvent, HeadEvent, ParseError, ParserLimits } from "../protocol/events.js"
import { ResponseParser } from "../protocol/ResponseParser.js"
import type { ReadTimeout, Socket } from "../transport/types.js"

/** Events the wire hands out: everything but NeedData / Error, which it handles itself. */
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

export class Wire {
  readonly parser: ResponseParser
  /** Exchanges completed on this socket (a failure with `served > 0` is on a reused connection). */
  served = 0
  /** Method of the exchange under way, for error messages. */
  method: string | undefined = undefined
  /** Whether any byte of the current response arrived. */
  sawResponseByte = false
  /** Set when the socket cannot carry another exchange (error, interruption mid-message). */
  broken = false
  /** When the socket was opened (ms since epoch), for max lifetime. */
  readonly openedAt = Date.now()
  /** When the last exchange finished, for idle time. */
  idleSince = Date.now()
  /** Idle time allowed by the server's `Keep-Alive: timeout=` hint, when it gave one. */
  keepAliveMs: number | undefined = undefined
  /** The scope that owns the socket; closing it closes the socket. */
  scope: Scope.CloseableScope | undefined = undefined

  constructor(
    public socket: Socket,
    readonly host: string,
    readonly port: number,
    limits?: Partial<ParserLimits>
  ) {
    this.parser = new ResponseParser(limits)
  }

  /** Exchanges written and not yet finished (more than one only when pipelining). */
  inFlight = 0
  /** Resolves when the last queued exchange's response is over (pipelining turn order). */
  tail: Deferred.Deferred<void, void> | undefined = undefined
  /** Carries an exchange that others must not be pipelined behind. */
  exclusive = false
  /** Closed by its pool; a second release of it is ignored. */
  retired = false

  /** Starts an exchange: the next response answers `method`. */
  begin(method: string): void {
    this.parser.expect(method)
    this.startReading(method)
  }

  /** Queues a pipelined request's method; its reader calls `startReading` on its turn. */
  enqueue(method: string): void {
    this.parser.expect(method)
  }

  /** The exchange for `method` is next to read its response. */
  startReading(method: string): void {
    this.method = method
    this.sawResponseByte = this.parser.bufferedLength > 0
  }

  /** The connection's context, added to errors. */
  context(): { method: string | undefined; host: string; port: number; reusedConnection: boolean } {
    return { method: this.method, host: this.host, port: this.port, reusedConnection: this.served > 0 }
  }

  /** Adds the connection's context to a parser or transport error. */
  contextualize<E extends Http1Error>(error: E): E {
    const ctx = this.context()
    const Ctor = error.constructor as new (args: object) => E
    if (error._tag === "ConnectionReset") {
      return new Ctor({ ...error, ...ctx, beforeResponse: !this.sawResponseByte })
    }
    if (error._tag === "TimeoutError") return new Ctor({ ...error, ...ctx, bytesReceived: this.parser.bufferedLength })
    return new Ctor({ ...error, ...ctx })
  }

  /** Reads one chunk from the socket into the parser. */
  fill(timeout: ReadTimeout | undefined): Effect.Effect<void, ConnectionReset | TimeoutError> {
    return Effect.matchEffect(this.socket.read(timeout), {
      onFailure: (e) => {
        this.broken = true
        return Effect.fail(this.contextualize(e))
      },
      onSuccess: (chunk) => {
        if (chunk === undefined) this.parser.feedEof()
        else if (chunk.length > 0) {
          this.sawResponseByte = true
          this.parser.feed(chunk)
        }
        return Effect.void
      }
    })
  }

  /** The next event of the current response, reading as needed. */
  next(timeout: ReadTimeout | undefined): Effect.Effect<WireEvent, Http1Error> {
    const ev = this.parser.next()
    switch (ev._tag) {
      case "NeedData":
        return Effect.flatMap(this.fill(timeout), () => this.next(timeout))
      case "Error":
        this.broken = true
        return Effect.fail(this.parseError(ev.error))
      default:
        return Effect.succeed(ev)
    }
  }

  /**
   * Reads heads until the final one, recording 1xx interim responses in `interim` when given.
   * `wait` gives each read's timeout (it may shrink towards a deadline).
   */
  finalHead(
    interim: Array<InterimResponse> | undefined,
    wait: () => ReadTimeout | undefined
  ): Effect.Effect<HeadEvent, Http1Error> {
    const loop: Effect.Effect<HeadEvent, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.next(wait()), (ev) => {
        if (ev._tag !== "Head") return loop
        if (!ev.interim) return Effect.succeed(ev)
        interim?.push({ status: ev.status, reason: ev.reason, headers: Headers.fromRaw(ev.headers) })
        return loop
      })
    )
    return loop
  }

  /** Turns a parser error into the error users see. */
  parseError(error: ParseError): Http1Error {
    if (error._tag === "RemoteDisconnected") return new RemoteDisconnected(this.context())
    return this.contextualize(error)
  }

  /** An IncompleteRead carrying the bytes read by the failing call. */
  incomplete(error: IncompleteRead, partial: Uint8Array): IncompleteRead {
    return new IncompleteRead({ ...error, ...this.context(), partial })
  }

  /** Marks the end of a completed exchange. */
  finish(): void {
    this.served++
    this.method = undefined
    this.idleSince = Date.now()
  }

  /** Bound on a write that waits for the peer to read (`TimeoutError` phase `write`). */
  writeTimeout: ReadTimeout | undefined = undefined

  /** Writes bytes; a failure marks the wire broken and carries context. */
  write(data: Uint8Array | string): Effect.Effect<void, ConnectionReset | TimeoutError> {
    return Effect.catchAll(this.socket.write(data, this.writeTimeout), (e): Effect.Effect<never, ConnectionReset | TimeoutError> => {
      this.broken = true
      if (e._tag === "TimeoutError") return Effect.fail(this.contextualize(e))
      return Effect.fail(this.contextualize(new ConnectionReset({ ...e, beforeResponse: !this.sawResponseByte })))
    })
  }

  /** Whether the socket may carry another exchange right now (idle-socket poisoning check included). */
  reusable(): boolean {
    return !this.broken && this.parser.state === "idle" && this.parser.bufferedLength === 0 && !this.socket.hasPendingInput() && this.socket.isOpen()
  }
}
