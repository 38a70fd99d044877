/**
 * The implementation of {@link HttpResponse}: a response whose body is pulled through the wire of
 * its exchange. Shared by `HttpConnection` and the pooled client.
 * @internal
 */
import { Buffer, constants as bufferConstants } from "node:buffer"
import { Chunk, Effect, Option, Stream } from "effect"
import { Headers } from "../Headers.js"
import { BadStatusLine, BodyTooLarge, type ConnectionContext, type TimeoutError, type Http1Error, type IncompleteRead, type TimeoutPhase } from "../Http1Error.js"
import type { HttpResponse } from "../HttpResponse.js"
import type { ConnectionEvent, Exchange } from "../protocol/ClientConnection.js"
import type { DataEvent, EndEvent, HeadEvent, InterimResponse } from "../protocol/events.js"
import type { ReadTimeout } from "../transport/types.js"
import { concatBytes } from "./bytes.js"
import { withFields } from "./errors.js"
import { parseJson } from "./schema.js"
import { readTimeout, STOP, type Wire } from "./wire.js"

/** How a response hands its connection back. */
export interface ResponseOwner {
  /** Called once when the body ended cleanly; the connection's core says whether it can be reused. */
  readonly release: (wire: Wire) => Effect.Effect<void>
  /** Called once when reading failed or was given up: `ex` is abandoned on `wire`. */
  readonly discard: (wire: Wire, ex: Exchange) => Effect.Effect<void>
}

/** A deadline: epoch ms (from Effect's `Clock`) and the limit it came from. */
export interface Deadline {
  readonly at: number
  readonly ms: number
}

/** Bounds on what reads may collect. */
export interface BodyLimits {
  /** Reads that buffer the whole body. */
  readonly maxBodySize: number
  /** `stream` (and `drain`); unbounded by default. */
  readonly maxStreamedBodySize: number
}

/** Default of `maxBodySize`: 128 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 128 * 1024 * 1024

export const defaultBodyLimits: BodyLimits = { maxBodySize: DEFAULT_MAX_BODY_SIZE, maxStreamedBodySize: Number.POSITIVE_INFINITY }

/** The largest buffer `read()` can return, and the longest string `text` can build, in this Node. */
const NODE_MAX_BUFFER = bufferConstants.MAX_LENGTH
const NODE_MAX_STRING = bufferConstants.MAX_STRING_LENGTH

const EMPTY = new Uint8Array(0)

type ErrorLikeEvent = Exclude<ConnectionEvent, DataEvent | EndEvent | { readonly _tag: "NeedData" }>

/**
 * The wait for one read: `ms` of `phase`, or what is left until `deadline` when that is sooner
 * (then the phase is `deadlinePhase`, `total` by default). One timer per socket does the waiting.
 */
export const waitFor = (
  ms: number | undefined,
  phase: TimeoutPhase,
  deadline: Deadline | undefined,
  now: number,
  deadlinePhase: TimeoutPhase = "total"
): ReadTimeout | undefined => {
  if (deadline === undefined) return readTimeout(ms, phase)
  const left = Math.max(1, deadline.at - now)
  if (ms !== undefined && ms <= left) return readTimeout(ms, phase)
  return { ms: left, phase: deadlinePhase }
}

/** A timeout against a deadline reports the deadline's whole limit, not what was left of it. */
export const deadlineTimeout = <E extends Http1Error>(e: E, deadline: Deadline | undefined, phase: TimeoutPhase = "total"): E | TimeoutError =>
  deadline !== undefined && e._tag === "TimeoutError" && e.phase === phase ? withFields(e, { timeoutMs: deadline.ms }) : e

export class HttpResponseImpl implements HttpResponse {
  readonly status: number
  readonly reason: string
  readonly version: 10 | 11
  readonly headers: Headers
  willClose: boolean
  trailers: Headers | undefined = undefined
  length: number | undefined
  private pending: Uint8Array | undefined = undefined
  private done = false
  private settled = false
  /** Body bytes handed out so far (for `maxStreamedBodySize`). */
  private delivered = 0

  constructor(
    private readonly wire: Wire,
    private readonly ex: Exchange,
    head: HeadEvent,
    readonly method: string,
    readonly interim: ReadonlyArray<InterimResponse>,
    private readonly owner: ResponseOwner,
    private readonly bodyTimeoutMs: number | undefined,
    forceClose: boolean,
    /** Deadline of the whole exchange, for the `total` timeout. */
    private readonly deadline?: Deadline | undefined,
    private readonly limits: BodyLimits = defaultBodyLimits,
    /** Epoch ms now (Effect's `Clock`), for reads against the deadline. */
    private readonly now: () => number = Date.now
  ) {
    this.status = head.status
    this.reason = head.reason
    this.version = head.version
    this.headers = Headers.fromRaw(head.headers)
    this.willClose = forceClose || !head.keepAlive
    this.length = head.framing === "length" ? head.contentLength : head.framing === "none" ? 0 : undefined
  }

  /**
   * Consumes the End event of a bodiless response right away, so the connection is free before
   * anybody reads.
   */
  settleIfBodiless(framing: HeadEvent["framing"]): Effect.Effect<void> {
    if (framing !== "none") return Effect.void
    const ev = this.wire.poll(this.ex)
    if (ev._tag === "End") return this.finish(ev.trailers)
    return Effect.void
  }

  getHeader(name: string): string | undefined
  getHeader(name: string, defaultValue: string): string
  getHeader(name: string, defaultValue?: string): string | undefined {
    return this.headers.get(name) ?? defaultValue
  }

  getHeaders(): Array<[string, string]> {
    return this.headers.pairs()
  }

  isClosed(): boolean {
    return this.done
  }

  private finish(trailers: Array<string>): Effect.Effect<void> {
    this.done = true
    this.length = 0
    this.trailers = trailers.length === 0 ? Headers.empty : Headers.fromRaw(trailers)
    if (this.settled) return Effect.void
    this.settled = true
    return this.owner.release(this.wire)
  }

  private fail(error: Http1Error): Effect.Effect<never, Http1Error> {
    return Effect.zipRight(this.abandon(), Effect.fail(error))
  }

  /** Gives up the body: the exchange is abandoned (the socket closed unless others wait on it). */
  private abandon(): Effect.Effect<void> {
    this.done = true
    this.pending = undefined
    if (this.settled) return Effect.void
    this.settled = true
    return this.owner.discard(this.wire, this.ex)
  }

  /** The wait for the next body bytes: the body timeout, or what is left of the total one. */
  private bodyWait(): ReadTimeout | undefined {
    return waitFor(this.bodyTimeoutMs, "body", this.deadline, this.deadline === undefined ? 0 : this.now())
  }

  /** Next body slice of at most `max` bytes, or undefined at the end. */
  private nextSlice(max: number): Effect.Effect<Uint8Array | undefined, Http1Error> {
    const p = this.pending
    if (p !== undefined) {
      if (p.length <= max) {
        this.pending = undefined
        return Effect.succeed(p)
      }
      this.pending = p.subarray(max)
      return Effect.succeed(p.subarray(0, max))
    }
    if (this.done) return Effect.succeed(undefined)
    return this.pull(max)
  }

  private pull(max: number): Effect.Effect<Uint8Array | undefined, Http1Error> {
    // Synchronous fast path: the core may already hold the bytes.
    const ev = this.wire.poll(this.ex)
    switch (ev._tag) {
      case "Data": {
        const b = ev.bytes
        if (this.length !== undefined) this.length -= b.length
        if (b.length <= max) return Effect.succeed(b)
        this.pending = b.subarray(max)
        return Effect.succeed(b.subarray(0, max))
      }
      case "End":
        return Effect.as(this.finish(ev.trailers), undefined)
      case "Error":
      case "Lost":
      case "Head":
      case "NotYourTurn":
        return this.failEvent(ev)
      default:
        return Effect.matchEffect(this.wire.fill(this.ex, this.bodyWait()), {
          onFailure: (e) => this.fail(deadlineTimeout(e, this.deadline)),
          onSuccess: () => this.pull(max)
        })
    }
  }

  /** The failure an unexpected event of the core stands for; the exchange is given up. */
  private failEvent(ev: ErrorLikeEvent): Effect.Effect<never, Http1Error> {
    switch (ev._tag) {
      case "Error":
        return this.fail(this.wire.parseError(ev.error, this.ex))
      case "Lost":
        return this.fail(this.wire.lost(this.ex, ev.reason))
      case "NotYourTurn":
        return this.fail(this.wire.lost(this.ex, "the response was read out of turn"))
      default:
        // The core never starts a new head before End; treat it as a broken message anyway.
        return this.fail(new BadStatusLine({ line: `${ev.status} ${ev.reason}`, ...this.wire.context(this.ex) }))
    }
  }

  private withIncomplete<A>(effect: Effect.Effect<A, Http1Error>, partial: () => Uint8Array): Effect.Effect<A, Http1Error> {
    return Effect.catchIf(
      effect,
      (e): e is IncompleteRead => e._tag === "IncompleteRead",
      (e) => Effect.fail(this.wire.incomplete(e, partial(), this.ex))
    )
  }

  private guard<A>(effect: Effect.Effect<A, Http1Error>): Effect.Effect<A, Http1Error> {
    return Effect.onInterrupt(effect, () => this.abandon())
  }

  /** `BodyTooLarge` for a buffering read that reached `received` bytes; the connection is given up. */
  private tooLarge(received: number, limit: number): Effect.Effect<never, Http1Error> {
    const what = limit === this.limits.maxBodySize ? "maxBodySize" : "node buffer limit"
    return this.fail(new BodyTooLarge({ limit, received, what, ...this.wire.context(this.ex) }))
  }

  read(amt?: number): Effect.Effect<Uint8Array, Http1Error> {
    if (amt !== undefined && (!Number.isInteger(amt) || amt < 0)) amt = 0
    if (amt === 0) return Effect.succeed(EMPTY)
    // Reading everything is bounded by maxBodySize (and Node's largest Buffer); `read(n)` by `n`.
    const cap = amt === undefined ? Math.min(this.limits.maxBodySize, NODE_MAX_BUFFER) : amt
    const limit = amt ?? Number.POSITIVE_INFINITY
    // Fast path: a small body is usually parsed already; take it without the Effect loop.
    return Effect.suspend(() => {
      if (this.done && this.pending === undefined) return Effect.succeed(EMPTY)
      if (amt === undefined && this.length !== undefined && this.length > cap) return this.tooLarge(0, cap)
      const parts: Array<Uint8Array> = []
      let total = 0
      const p = this.pending
      if (p !== undefined) {
        if (p.length > limit) return this.readSlow(limit, cap, parts, total)
        this.pending = undefined
        parts.push(p)
        total += p.length
      }
      while (total < limit) {
        const ev = this.wire.poll(this.ex)
        if (ev._tag === "Data") {
          const b = ev.bytes
          if (this.length !== undefined) this.length -= b.length
          if (total + b.length > limit) {
            parts.push(b.subarray(0, limit - total))
            this.pending = b.subarray(limit - total)
            total = limit
            break
          }
          parts.push(b)
          total += b.length
          if (total > cap) return this.tooLarge(total, cap)
          continue
        }
        if (ev._tag === "End") return Effect.as(this.finish(ev.trailers), concatBytes(parts, total))
        if (ev._tag === "NeedData") return this.readSlow(limit, cap, parts, total)
        return this.withIncomplete(this.failEvent(ev), () => concatBytes(parts, total))
      }
      return Effect.succeed(concatBytes(parts, total))
    })
  }

  /** Reads on from the socket until `limit` bytes or the end, after `parts` (`total` bytes). */
  private readSlow(limit: number, cap: number, parts: Array<Uint8Array>, total: number): Effect.Effect<Uint8Array, Http1Error> {
    if (this.pending === undefined && !this.done && this.wire.fastReads) {
      // Callback-level reads: one suspension for the whole body, not Effect steps per chunk.
      const body = this.wire.bodyWith(this.ex, () => this.bodyWait(), (b) => {
        if (this.length !== undefined) this.length -= b.length
        if (total + b.length > limit) {
          parts.push(b.subarray(0, limit - total))
          this.pending = b.subarray(limit - total)
          total = limit
          return false
        }
        parts.push(b)
        total += b.length
        return total <= cap && total < limit
      })
      const done: Effect.Effect<Uint8Array, Http1Error> = Effect.matchEffect(body, {
        onFailure: (e) => this.fail(deadlineTimeout(e, this.deadline)),
        onSuccess: (ev) => {
          if (ev === STOP) return total > cap ? this.tooLarge(total, cap) : Effect.succeed(concatBytes(parts, total))
          if (ev._tag === "End") return Effect.as(this.finish(ev.trailers), concatBytes(parts, total))
          return this.failEvent(ev)
        }
      })
      return this.guard(this.withIncomplete(done, () => concatBytes(parts, total)))
    }
    const loop: Effect.Effect<Uint8Array, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.nextSlice(limit - total), (slice) => {
        if (slice === undefined) return Effect.succeed(concatBytes(parts, total))
        parts.push(slice)
        total += slice.length
        if (total > cap) return this.tooLarge(total, cap)
        if (total >= limit) return Effect.succeed(concatBytes(parts, total))
        return loop
      })
    )
    return this.guard(this.withIncomplete(loop, () => concatBytes(parts, total)))
  }

  readInto(buffer: Uint8Array): Effect.Effect<number, Http1Error> {
    return Effect.map(this.read(buffer.length), (bytes) => {
      buffer.set(bytes, 0)
      return bytes.length
    })
  }

  /** One slice for `stream` / `drain`, counted against `maxStreamedBodySize`. */
  private streamSlice(): Effect.Effect<Uint8Array | undefined, Http1Error> {
    return Effect.flatMap(
      Effect.suspend(() => this.nextSlice(Number.POSITIVE_INFINITY)),
      (slice) => {
        if (slice === undefined) return Effect.succeed(slice)
        this.delivered += slice.length
        const max = this.limits.maxStreamedBodySize
        if (this.delivered > max) {
          return this.fail(new BodyTooLarge({ limit: max, received: this.delivered, what: "maxStreamedBodySize", ...this.wire.context(this.ex) }))
        }
        return Effect.succeed(slice)
      }
    )
  }

  get stream(): Stream.Stream<Uint8Array, Http1Error> {
    const pull = Effect.flatMap(
      Effect.mapError(this.guard(this.withIncomplete(this.streamSlice(), () => EMPTY)), Option.some),
      (slice) => (slice === undefined ? Effect.fail(Option.none()) : Effect.succeed(Chunk.of(slice)))
    )
    return Stream.ensuring(
      Stream.repeatEffectChunkOption(pull),
      // A stream dropped before its end (take, interruption) leaves the socket mid-body: give it up.
      Effect.suspend(() => (this.done ? Effect.void : this.abandon()))
    )
  }

  get drain(): Effect.Effect<void, Http1Error> {
    const loop: Effect.Effect<void, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.streamSlice(), (slice) => (slice === undefined ? Effect.void : loop))
    )
    return this.guard(this.withIncomplete(loop, () => EMPTY))
  }

  get text(): Effect.Effect<string, Http1Error> {
    return Effect.flatMap(this.read(), (b) => {
      // A UTF-8 decode gives at most one UTF-16 unit per byte: past Node's string limit, fail typed.
      if (b.length > NODE_MAX_STRING) {
        return Effect.fail(new BodyTooLarge({ limit: NODE_MAX_STRING, received: b.length, what: "node string limit", ...this.wire.context(this.ex) }))
      }
      return Effect.succeed(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8"))
    })
  }

  /**
   * The next slice of the body as it arrives (undefined at its end), counted against no bound:
   * what a decoder reads (the bounds apply to what it decodes). A failure or an interruption
   * gives the body up.
   */
  rawSlice(): Effect.Effect<Uint8Array | undefined, Http1Error> {
    return this.guard(this.withIncomplete(Effect.suspend(() => this.nextSlice(Number.POSITIVE_INFINITY)), () => EMPTY))
  }

  /** Where this response came from, for errors raised on its body. */
  context(): ConnectionContext {
    return this.wire.context(this.ex)
  }

  /** The bounds its reads apply. */
  get bodyLimits(): BodyLimits {
    return this.limits
  }

  get bytes(): Effect.Effect<Uint8Array, Http1Error> {
    return this.read()
  }

  get json(): Effect.Effect<unknown, Http1Error> {
    return Effect.flatMap(this.text, parseJson)
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.done) return Effect.void
      // Python closes the socket when a response is closed before its end.
      return this.abandon()
    })
  }
}
