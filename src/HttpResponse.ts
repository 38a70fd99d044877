/**
 * A response being read: Python's `HTTPResponse` told in Effect.
 *
 * The head (status, reason, version, headers) is there when you get the response; the body is
 * pulled from the socket as you read it: `read()` for all of it, `read(n)` for at most `n` bytes,
 * `readInto(buffer)`, or `stream`. Once the body has been read to its end the connection can carry
 * the next request (unless `willClose`); an error or an interruption mid-body closes it.
 *
 * @example
 * ```ts
 * const res = yield* conn.getResponse
 * if (res.status === 200) {
 *   const body = yield* res.read()
 * }
 * ```
 * @since 0.1.0
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { Headers } from "./Headers.js"
import { BadStatusLine, TimeoutError, type Http1Error, type IncompleteRead, type TimeoutPhase } from "./Http1Error.js"
import type { ReadTimeout } from "./transport/types.js"
import type { HeadEvent } from "./protocol/events.js"
import { concatBytes } from "./internal/bytes.js"
import { readTimeout, type Wire } from "./internal/wire.js"

/** A 1xx interim response seen before the final one (100 Continue, 103 Early Hints, ...). */
export interface InterimResponse {
  readonly status: number
  readonly reason: string
  readonly headers: Headers
}

/** The public shape of a response. */
export interface HttpResponse {
  /** Status code, 100–999. */
  readonly status: number
  /** Reason phrase (Latin-1), possibly empty. */
  readonly reason: string
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  readonly version: 10 | 11
  /** Header fields in the order received. */
  readonly headers: Headers
  /** 1xx responses that came before this one. */
  readonly interim: ReadonlyArray<InterimResponse>
  /** Whether the connection is closed after this response (Python's `will_close`). */
  readonly willClose: boolean
  /** Body bytes still expected when the body has a Content-Length (Python's `length`), else undefined. */
  readonly length: number | undefined
  /** The request method this answers. */
  readonly method: string
  /** The header value, repeated fields joined with `", "`; `defaultValue` when absent. */
  getHeader(name: string): string | undefined
  getHeader(name: string, defaultValue: string): string
  /** `[name, value]` pairs in order (Python's `getheaders()`). */
  getHeaders(): Array<[string, string]>
  /**
   * Reads the body: with no argument all that remains; with `amt`, up to `amt` bytes (fewer only
   * at the end of the body). An empty array means the body is done.
   */
  read(amt?: number): Effect.Effect<Uint8Array, Http1Error>
  /** Reads up to `buffer.length` bytes into `buffer`; resolves with the count (0 at the end). */
  readInto(buffer: Uint8Array): Effect.Effect<number, Http1Error>
  /** The remaining body as a stream of chunks (slices as they arrive). */
  readonly stream: Stream.Stream<Uint8Array, Http1Error>
  /** Reads and discards the rest of the body, so the connection can be reused. */
  readonly drain: Effect.Effect<void, Http1Error>
  /** The whole body decoded as UTF-8. */
  readonly text: Effect.Effect<string, Http1Error>
  /** Trailer fields of a chunked body; `undefined` until the body has been read to its end. */
  readonly trailers: Headers | undefined
  /** Whether the body has been read to its end or the response was closed. */
  isClosed(): boolean
  /** Stops reading: the connection is closed unless the body was already read to its end. */
  readonly close: Effect.Effect<void>
}

/** How a response hands its connection back. */
export interface ResponseOwner {
  /** Called once when the body ended cleanly (`reusable`: the socket may carry another exchange). */
  readonly release: (wire: Wire, reusable: boolean) => Effect.Effect<void>
  /** Called once when reading failed or was abandoned: the socket must be closed. */
  readonly discard: (wire: Wire) => Effect.Effect<void>
}

const EMPTY = new Uint8Array(0)

/**
 * The wait for one read: `ms` of `phase`, or what is left until `deadline` when that is sooner
 * (then the phase is `total`). One timer per socket does the waiting; no `Effect.timeout` here.
 * @internal
 */
export const waitFor = (
  ms: number | undefined,
  phase: TimeoutPhase,
  deadline: { readonly at: number; readonly ms: number } | undefined
): ReadTimeout | undefined => {
  if (deadline === undefined) return readTimeout(ms, phase)
  const left = Math.max(1, deadline.at - Date.now())
  if (ms !== undefined && ms <= left) return readTimeout(ms, phase)
  return { ms: left, phase: "total" }
}

/** A `total` timeout reports the whole exchange's limit, not what was left of it. @internal */
export const totalTimeout = <E extends Http1Error>(e: E, deadline: { readonly ms: number } | undefined): E | TimeoutError =>
  deadline !== undefined && e._tag === "TimeoutError" && e.phase === "total" ? new TimeoutError({ ...e, timeoutMs: deadline.ms }) : e

/** @internal */
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

  constructor(
    private readonly wire: Wire,
    head: HeadEvent,
    readonly method: string,
    readonly interim: ReadonlyArray<InterimResponse>,
    private readonly owner: ResponseOwner,
    private readonly bodyTimeoutMs: number | undefined,
    forceClose: boolean,
    /** Deadline (epoch ms) of the whole exchange, and its length, for the `total` timeout. */
    private readonly deadline?: { readonly at: number; readonly ms: number } | undefined
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
   * anybody reads. Returns the release effect to run (or void).
   * @internal
   */
  settleIfBodiless(framing: HeadEvent["framing"]): Effect.Effect<void> {
    if (framing !== "none") return Effect.void
    const ev = this.wire.parser.next()
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
    this.wire.finish()
    return this.owner.release(this.wire, !this.willClose)
  }

  private fail(error: Http1Error): Effect.Effect<never, Http1Error> {
    this.done = true
    if (this.settled) return Effect.fail(error)
    this.settled = true
    this.wire.broken = true
    return Effect.zipRight(this.owner.discard(this.wire), Effect.fail(error))
  }

  /** Abandons the body: the socket is closed (used on interruption). */
  private abandon(): Effect.Effect<void> {
    this.done = true
    if (this.settled) return Effect.void
    this.settled = true
    this.wire.broken = true
    return this.owner.discard(this.wire)
  }

  /** The wait for the next body bytes: the body timeout, or what is left of the total one. */
  private bodyWait(): ReadTimeout | undefined {
    return waitFor(this.bodyTimeoutMs, "body", this.deadline)
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
    // Synchronous fast path: the parser may already hold the bytes.
    const ev = this.wire.parser.next()
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
        this.wire.broken = true
        return this.fail(this.wire.parseError(ev.error))
      case "Head":
        // The parser never starts a new head before End; treat it as a broken message anyway.
        return this.fail(new BadStatusLine({ line: `${ev.status} ${ev.reason}`, ...this.wire.context() }))
      default:
        return Effect.matchEffect(this.wire.fill(this.bodyWait()), {
          onFailure: (e) => this.fail(totalTimeout(e, this.deadline)),
          onSuccess: () => this.pull(max)
        })
    }
  }

  private withIncomplete<A>(effect: Effect.Effect<A, Http1Error>, partial: () => Uint8Array): Effect.Effect<A, Http1Error> {
    return Effect.catchIf(
      effect,
      (e): e is IncompleteRead => e._tag === "IncompleteRead",
      (e) => Effect.fail(this.wire.incomplete(e, partial()))
    )
  }

  private guard<A>(effect: Effect.Effect<A, Http1Error>): Effect.Effect<A, Http1Error> {
    return Effect.onInterrupt(effect, () => this.abandon())
  }

  read(amt?: number): Effect.Effect<Uint8Array, Http1Error> {
    if (amt !== undefined && (!Number.isInteger(amt) || amt < 0)) amt = 0
    if (amt === 0) return Effect.succeed(EMPTY)
    const limit = amt ?? Number.POSITIVE_INFINITY
    // Fast path: a small body is usually parsed already; take it without the Effect loop.
    return Effect.suspend(() => {
      if (this.done && this.pending === undefined) return Effect.succeed(EMPTY)
      const parts: Array<Uint8Array> = []
      let total = 0
      const p = this.pending
      if (p !== undefined) {
        if (p.length > limit) return this.readSlow(limit, parts, total)
        this.pending = undefined
        parts.push(p)
        total += p.length
      }
      while (total < limit) {
        const ev = this.wire.parser.next()
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
          continue
        }
        if (ev._tag === "End") return Effect.as(this.finish(ev.trailers), concatBytes(parts, total))
        // More bytes needed, or an error (or a head, which cannot happen) for the slow path to
        // report with its context.
        return this.readSlow(limit, parts, total)
      }
      return Effect.succeed(concatBytes(parts, total))
    })
  }

  /** Reads on from the socket until `limit` bytes or the end, after `parts` (`total` bytes). */
  private readSlow(limit: number, parts: Array<Uint8Array>, total: number): Effect.Effect<Uint8Array, Http1Error> {
    const loop: Effect.Effect<Uint8Array, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.nextSlice(limit - total), (slice) => {
        if (slice === undefined) return Effect.succeed(concatBytes(parts, total))
        parts.push(slice)
        total += slice.length
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

  get stream(): Stream.Stream<Uint8Array, Http1Error> {
    // Suspended: every pull must look at the state of the response when it runs.
    const next = Effect.suspend(() => this.nextSlice(Number.POSITIVE_INFINITY))
    const pull = Effect.flatMap(
      Effect.mapError(this.guard(this.withIncomplete(next, () => EMPTY)), Option.some),
      (slice) => (slice === undefined ? Effect.fail(Option.none()) : Effect.succeed(Chunk.of(slice)))
    )
    return Stream.ensuring(
      Stream.repeatEffectChunkOption(pull),
      // A stream dropped before its end (take, interruption) leaves the socket mid-body: close it.
      Effect.suspend(() => (this.done ? Effect.void : this.abandon()))
    )
  }

  get drain(): Effect.Effect<void, Http1Error> {
    const loop: Effect.Effect<void, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.nextSlice(Number.POSITIVE_INFINITY), (slice) => (slice === undefined ? Effect.void : loop))
    )
    return this.guard(this.withIncomplete(loop, () => EMPTY))
  }

  get text(): Effect.Effect<string, Http1Error> {
    return Effect.map(this.read(), (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8"))
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.done) return Effect.void
      // Python closes the socket when a response is closed before its end.
      this.pending = undefined
      return this.abandon()
    })
  }
}
