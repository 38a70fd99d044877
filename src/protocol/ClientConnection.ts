/**
 * One HTTP/1.1 client connection as a sans-IO state machine, in the style of h11's `Connection`:
 * bytes and prepared requests in, bytes to write and response events out. No sockets, no timers,
 * no Effect runtime.
 *
 * It alone decides, for one socket:
 * - **what may be written**: a request only while the connection is reusable and nothing is being
 *   written; with nothing in flight only when no byte is waiting (a byte then is unsolicited and
 *   poisons the connection); body bytes framed by the request's framing (chunk framing done here,
 *   a `Content-Length` counted, a mismatch poisons);
 * - **whose response is next**: the queue of requests in flight (pipelining), answered in order; a
 *   request whose caller gave up is skipped by the next reader (bounded), never read as another's;
 * - **whether the socket can carry another exchange**: {@link ReuseState}, a one-way street
 *   `Reusable` → `MustClose` (finish what is in flight, then close) → `Poisoned` (close now).
 *
 * Drivers (`HttpConnection`, the pool) do the I/O: write what it returns, feed it what they read,
 * and close the socket when it says so.
 *
 * @example
 * ```ts
 * const conn = new ClientConnection()
 * const req = prepareRequest({ method: "GET", target: "/", host: "example.com" })
 * const ex = conn.send(req)          // write req.head
 * conn.receiveData(bytesFromSocket)
 * conn.next(ex)                      // Head, Data..., End; NeedData when more bytes are needed
 * ```
 * @since 0.2.0
 */
import { ContentLengthMismatch, InvalidRequestFraming } from "../Http1Error.js"
import type { DataEvent, EndEvent, ErrorEvent, HeadEvent, NeedDataEvent, ParserLimits } from "./events.js"
import { encodeChunk, LAST_CHUNK, type PreparedRequest, type RequestFraming } from "./RequestEncoder.js"
import { ResponseParser } from "./ResponseParser.js"

/** Whether the connection can carry another exchange. Moves only forward: Reusable → MustClose → Poisoned. */
export type ReuseState =
  | { readonly _tag: "Reusable" }
  /** Finish the responses in flight (they are intact), then close: no new request. */
  | { readonly _tag: "MustClose"; readonly reason: string }
  /** Close now: what is on the wire cannot be trusted (or nothing more can be read). */
  | { readonly _tag: "Poisoned"; readonly reason: string }

const REUSABLE: ReuseState = { _tag: "Reusable" }

/** Bytes of abandoned responses the next reader skips before the connection is given up. Default 64 KiB. */
export const DEFAULT_MAX_DISCARD = 65_536

/** Where one exchange's response stands. */
export type ResponsePhase = "waiting" | "body" | "done"

/** One request on the connection, from its head to the end of its response. */
export class Exchange {
  /** Body bytes still owed under a Content-Length. */
  remaining: number
  /** The request (head and body) is completely written, or will never be. */
  requestDone: boolean
  response: ResponsePhase = "waiting"
  /** Its caller gave up: its response is skipped by the next reader. */
  abandoned = false
  /** A byte of its response was received (a failure after that is not safe to retry). */
  sawResponseByte = false
  /** Its final head, once read. */
  head: HeadEvent | undefined = undefined

  constructor(
    /** Position on the connection: 0 for the first request. */
    readonly index: number,
    readonly method: string,
    readonly framing: RequestFraming,
    /** The connection had completed a response before this request was written. */
    readonly reusedConnection: boolean
  ) {
    this.remaining = framing._tag === "length" ? framing.length : 0
    this.requestDone = framing._tag === "none" || (framing._tag === "length" && framing.length === 0)
  }
}

/** The connection cannot deliver this exchange's response (it was poisoned before or while it came). */
export interface LostEvent {
  readonly _tag: "Lost"
  readonly reason: string
}

/** Responses ahead of this exchange's are still being read by their own callers. */
export interface NotYourTurnEvent {
  readonly _tag: "NotYourTurn"
}

/** What {@link ClientConnection.next} returns for an exchange. */
export type ConnectionEvent = HeadEvent | DataEvent | EndEvent | NeedDataEvent | ErrorEvent | LostEvent | NotYourTurnEvent

const NOT_YOUR_TURN: NotYourTurnEvent = { _tag: "NotYourTurn" }
const NEED_DATA: NeedDataEvent = { _tag: "NeedData" }
const EMPTY = new Uint8Array(0)

/** Options of {@link ClientConnection}. */
export interface ClientConnectionOptions {
  readonly limits?: Partial<ParserLimits> | undefined
  /** Bytes of abandoned responses skipped before giving up the connection. Default {@link DEFAULT_MAX_DISCARD}. */
  readonly maxDiscard?: number | undefined
}

/** Whether a 204/304 head announces a body (a non-zero Content-Length or any Transfer-Encoding). */
const announcesBody = (headers: ReadonlyArray<string>): boolean => {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (name.length === 17 && name.toLowerCase() === "transfer-encoding") return true
    if (name.length === 14 && name.toLowerCase() === "content-length" && headers[i + 1]!.trim() !== "0") return true
  }
  return false
}

/** The sans-IO state of one client connection. See the module doc. */
export class ClientConnection {
  private readonly parser: ResponseParser
  private readonly maxDiscard: number
  /** Requests written (or being written) whose responses are not over, in wire order. */
  private readonly queue: Array<Exchange> = []
  /** The request whose body is being written. */
  private sending: Exchange | undefined = undefined
  private discarded = 0
  private sent = 0
  /** Responses completed on this connection. */
  served = 0
  reuse: ReuseState = REUSABLE

  constructor(options?: ClientConnectionOptions) {
    this.parser = new ResponseParser(options?.limits)
    this.maxDiscard = options?.maxDiscard ?? DEFAULT_MAX_DISCARD
  }

  // --- state ----------------------------------------------------------------------------------

  /** Nothing in flight and nothing being written. */
  get idle(): boolean {
    return this.queue.length === 0 && this.sending === undefined
  }

  /** Requests in flight whose callers still wait for them. */
  get activeCount(): number {
    let n = 0
    for (const ex of this.queue) if (!ex.abandoned) n++
    return n
  }

  /** Requests written whose responses are not over (abandoned ones included). */
  get inFlight(): number {
    return this.queue.length
  }

  /** Bytes received and not consumed yet. */
  get bufferedLength(): number {
    return this.parser.bufferedLength
  }

  /**
   * Whether a new request may be written now. `pipelined`: it may join requests in flight. With
   * nothing in flight, `pendingInput` (bytes the driver has not fed yet) or buffered bytes forbid
   * it: whatever arrives between two exchanges is unsolicited.
   */
  canSend(pipelined: boolean, pendingInput: boolean): boolean {
    if (this.reuse._tag !== "Reusable" || this.sending !== undefined) return false
    if (this.queue.length === 0) return !pendingInput && this.parser.bufferedLength === 0 && this.parser.state === "idle"
    return pipelined
  }

  /** Forward-only transition to `MustClose` (no effect on a poisoned connection). */
  mustClose(reason: string): void {
    if (this.reuse._tag === "Reusable") this.reuse = { _tag: "MustClose", reason }
  }

  /** The connection must be closed now; every exchange still in flight is lost. */
  poison(reason: string): void {
    if (this.reuse._tag !== "Poisoned") this.reuse = { _tag: "Poisoned", reason }
  }

  // --- sending --------------------------------------------------------------------------------

  /**
   * Registers a request whose head the driver writes next. `undefined` when {@link canSend} says
   * no (the driver then uses another connection).
   */
  send(request: PreparedRequest, pipelined = false, pendingInput = false): Exchange | undefined {
    if (!this.canSend(pipelined, pendingInput)) return undefined
    const ex = new Exchange(this.sent++, request.method, request.framing, this.served > 0)
    this.parser.expect(request.method)
    this.queue.push(ex)
    if (!ex.requestDone) this.sending = ex
    // The first response byte may already be buffered when a pipelined request becomes front.
    return ex
  }

  /**
   * One piece of the body as it goes on the wire: chunk-framed under `chunked`, counted under a
   * Content-Length (running over poisons). Empty input gives empty output (an empty chunk would
   * end a chunked body early).
   */
  frameBody(ex: Exchange, data: Uint8Array): Uint8Array | ContentLengthMismatch | InvalidRequestFraming {
    if (data.length === 0) return EMPTY
    if (ex.requestDone || this.sending !== ex) {
      this.poison("body bytes after the request was complete")
      return new InvalidRequestFraming({ reason: "body bytes after the request body was complete (the head declared its length, or none)" })
    }
    switch (ex.framing._tag) {
      case "chunked":
        return encodeChunk(data)
      case "length": {
        if (data.length > ex.remaining) {
          const declared = ex.framing.length
          this.poison("request body ran over its Content-Length")
          return new ContentLengthMismatch({ declared, actual: declared - ex.remaining + data.length, when: "while-sending" })
        }
        ex.remaining -= data.length
        return data
      }
      default:
        this.poison("body bytes after a head that declares none")
        return new InvalidRequestFraming({ reason: "body bytes after a head that declares no body" })
    }
  }

  /** The end of the body: the last chunk, or nothing; a Content-Length not reached poisons. */
  endBody(ex: Exchange): Uint8Array | ContentLengthMismatch {
    if (ex.requestDone) return EMPTY
    ex.requestDone = true
    if (this.sending === ex) this.sending = undefined
    if (ex.framing._tag === "chunked") return LAST_CHUNK
    if (ex.remaining > 0) {
      const declared = ex.framing._tag === "length" ? ex.framing.length : 0
      this.poison("request body ended short of its Content-Length")
      return new ContentLengthMismatch({ declared, actual: declared - ex.remaining, when: "while-sending" })
    }
    return EMPTY
  }

  /** The body will not be sent (a final response came while waiting for `100 Continue`). */
  skipBody(ex: Exchange): void {
    if (ex.requestDone) return
    ex.requestDone = true
    if (this.sending === ex) this.sending = undefined
    // The server may still wait for the body it was promised: the connection cannot be reused.
    this.mustClose("the request body was not sent after an early response")
  }

  // --- receiving ------------------------------------------------------------------------------

  /** Bytes read from the socket. Bytes nobody asked for poison the connection (and are dropped). */
  receiveData(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    const front = this.queue[0]
    if (front === undefined && this.parser.state !== "upgraded") {
      this.poison("bytes arrived with no request in flight")
      return
    }
    if (front !== undefined) front.sawResponseByte = true
    this.parser.feed(bytes)
  }

  /** The peer closed its side. */
  receiveEof(): void {
    this.parser.feedEof()
    if (this.queue.length === 0) this.poison("the peer closed the connection")
    else this.mustClose("the peer closed the connection")
  }

  /** Whether every exchange ahead of `ex` was abandoned (its reader may go on now). */
  isTurn(ex: Exchange): boolean {
    for (const e of this.queue) {
      if (e === ex) return true
      if (!e.abandoned) return false
    }
    return true
  }

  /**
   * The next event of `ex`'s response. Responses of abandoned exchanges ahead of it are skipped
   * (at most `maxDiscard` bytes, else the connection is poisoned and `ex` is `Lost`).
   */
  next(ex: Exchange): ConnectionEvent {
    for (;;) {
      if (ex.response === "done") return { _tag: "Lost", reason: "the response was already read" }
      const front = this.queue[0]
      // A poisoned connection still lets the response being read run to its end (or its error);
      // nothing else is read from it.
      if (this.reuse._tag === "Poisoned" && !(front === ex && ex.response === "body")) {
        return { _tag: "Lost", reason: this.reuse.reason }
      }
      if (front === undefined) return { _tag: "Lost", reason: "no such request in flight" }
      if (front !== ex) {
        if (!front.abandoned) return NOT_YOUR_TURN
        const skipped = this.skip(front)
        if (skipped !== undefined) return skipped
        continue
      }
      const ev = this.parser.next()
      switch (ev._tag) {
        case "Head":
          if (!ev.interim) this.onFinalHead(ex, ev)
          return ev
        case "End":
          this.finish(ex)
          return ev
        case "Error":
          this.poison(`the response could not be parsed: ${ev.error._tag}`)
          ex.response = "done"
          this.queue.shift()
          return ev
        default:
          return ev
      }
    }
  }

  /** Skips one event of an abandoned exchange's response; an event to return instead, or undefined to go on. */
  private skip(front: Exchange): ConnectionEvent | undefined {
    const ev = this.parser.next()
    switch (ev._tag) {
      case "NeedData":
        return NEED_DATA
      case "Head":
        if (!ev.interim) this.onFinalHead(front, ev)
        return undefined
      case "Data":
        this.discarded += ev.bytes.length
        if (this.discarded > this.maxDiscard) {
          this.poison(`more than ${this.maxDiscard} bytes of an abandoned response to skip`)
          return { _tag: "Lost", reason: this.reuse._tag === "Poisoned" ? this.reuse.reason : "" }
        }
        return undefined
      case "End":
        this.finish(front)
        return undefined
      default:
        this.poison(`an abandoned response could not be parsed: ${ev.error._tag}`)
        return { _tag: "Lost", reason: `an earlier pipelined response could not be parsed (${ev.error._tag})` }
    }
  }

  private onFinalHead(ex: Exchange, head: HeadEvent): void {
    ex.head = head
    ex.response = "body"
    if (head.upgrade) this.mustClose("the connection switched protocols")
    else if (!head.keepAlive) this.mustClose("the response closes the connection")
    else if ((head.status === 204 || head.status === 304) && announcesBody(head.headers)) {
      // RFC 9110 §15.3.5 / §15.4.5: no body, yet one is announced; bytes may follow that belong to nobody.
      this.mustClose(`a ${head.status} response announced a body`)
    }
  }

  private finish(ex: Exchange): void {
    ex.response = "done"
    this.queue.shift()
    this.served++
    this.discarded = 0
    const next = this.queue[0]
    if (next !== undefined) {
      if (this.parser.bufferedLength > 0) next.sawResponseByte = true
    } else if (this.parser.bufferedLength > 0 && this.parser.state !== "upgraded") {
      this.poison("bytes after the last response in flight")
    }
  }

  /**
   * The caller of `ex` gave up. A request not completely written poisons the connection; a
   * response in flight is skipped by the next reader, or — when nobody else waits on this
   * connection — the connection must close. Returns whether other exchanges still wait on it.
   */
  abandon(ex: Exchange): boolean {
    if (ex.response === "done") return this.activeCount > 0
    ex.abandoned = true
    if (!ex.requestDone) {
      this.poison("a request was abandoned while being written")
      return false
    }
    const others = this.activeCount > 0
    if (!others) this.mustClose("a response was abandoned before its end")
    return others
  }

  /** After an upgrade (CONNECT 2xx, 101): the bytes that belong to the new protocol. */
  takeBuffered(): Uint8Array {
    return this.parser.takeBuffered()
  }
}
