/**
 * Opt-in response decompression (`decompress: true` on the pooled client) and the `signal`
 * option's hold on a response body: both are views over a response ({@link HttpResponseImpl})
 * with the same read methods, so every reader (`bytes`, `text`, `json`, `stream`, `read(n)`,
 * `readInto`, the platform adapter) goes through them.
 *
 * Decoding is incremental, through node:zlib in paused mode: one compressed slice is written
 * only when the decoded bytes before it have been taken, so what is held at once is bounded by
 * zlib's buffers (16 KiB), whatever the ratio. The bounds (`maxBodySize`,
 * `maxStreamedBodySize`) count decoded bytes: a decompression bomb stops with `BodyTooLarge`.
 * The zlib object is destroyed on every exit: end, error, interruption, close.
 * @internal
 */
import { Buffer, constants as bufferConstants } from "node:buffer"
import * as zlib from "node:zlib"
import { Chunk, Effect, Option, Stream } from "effect"
import type { Headers } from "../Headers.js"
import { BodyTooLarge, DecompressionError, RequestAborted, type Http1Error } from "../Http1Error.js"
import type { HttpResponse, InterimResponse } from "../HttpResponse.js"
import { concatBytes } from "./bytes.js"
import type { BodyLimits, HttpResponseImpl } from "./response.js"
import { parseJson } from "./schema.js"

const EMPTY = new Uint8Array(0)
const NODE_MAX_BUFFER = bufferConstants.MAX_LENGTH
const NODE_MAX_STRING = bufferConstants.MAX_STRING_LENGTH

/** What `Accept-Encoding` says when decompression is on and the caller set none. */
export const ACCEPT_ENCODING = "gzip, deflate, br"

/** The content-codings decoded. */
export type Coding = "gzip" | "deflate" | "br"

/**
 * The coding to decode a response with, or undefined when its body is passed as it is: no body
 * (HEAD, 1xx, 204, 304), no or `identity` `Content-Encoding`, a coding we do not know (`zstd`,
 * `compress`), or several codings stacked (passed as they are, as the header says).
 */
export const codingOf = (method: string, status: number, headers: Headers): Coding | undefined => {
  if (status === 204 || status === 304 || status < 200 || method.toUpperCase() === "HEAD") return undefined
  const value = headers.get("content-encoding")
  if (value === undefined) return undefined
  const coding = value.trim().toLowerCase()
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return "gzip"
    case "deflate":
      return "deflate"
    case "br":
      return "br"
    default:
      return undefined
  }
}

/** A response whose head is another's; subclasses change how the body is read. */
abstract class ResponseView<R extends HttpResponse = HttpResponse> implements HttpResponse {
  constructor(protected readonly raw: R) {}
  get status(): number {
    return this.raw.status
  }
  get reason(): string {
    return this.raw.reason
  }
  get version(): 10 | 11 {
    return this.raw.version
  }
  get headers(): Headers {
    return this.raw.headers
  }
  get interim(): ReadonlyArray<InterimResponse> {
    return this.raw.interim
  }
  get willClose(): boolean {
    return this.raw.willClose
  }
  get method(): string {
    return this.raw.method
  }
  get trailers(): Headers | undefined {
    return this.raw.trailers
  }
  get length(): number | undefined {
    return this.raw.length
  }
  getHeader(name: string): string | undefined
  getHeader(name: string, defaultValue: string): string
  getHeader(name: string, defaultValue?: string): string | undefined {
    return this.raw.headers.get(name) ?? defaultValue
  }
  getHeaders(): Array<[string, string]> {
    return this.raw.getHeaders()
  }
  isClosed(): boolean {
    return this.raw.isClosed()
  }
  abstract read(amt?: number): Effect.Effect<Uint8Array, Http1Error>
  abstract readonly stream: Stream.Stream<Uint8Array, Http1Error>
  abstract readonly drain: Effect.Effect<void, Http1Error>
  abstract readonly text: Effect.Effect<string, Http1Error>
  abstract readonly close: Effect.Effect<void>
  readInto(buffer: Uint8Array): Effect.Effect<number, Http1Error> {
    return Effect.map(this.read(buffer.length), (bytes) => {
      buffer.set(bytes, 0)
      return bytes.length
    })
  }
  get bytes(): Effect.Effect<Uint8Array, Http1Error> {
    return this.read()
  }
  get json(): Effect.Effect<unknown, Http1Error> {
    return Effect.flatMap(this.text, parseJson)
  }
}

/**
 * A node:zlib decoder driven by pulls: `next` hands out decoded bytes as they come, and writes
 * the next compressed slice only when zlib has nothing more to give.
 */
class Inflater {
  private readonly z: zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress
  /** Bumped by every zlib event: a wait that saw an older value resumes at once. */
  private seq = 0
  private waiter: (() => void) | undefined = undefined
  private error: Error | undefined = undefined
  private ended = false
  private writing = false
  private inputEnded = false

  constructor(coding: Coding, first: Uint8Array) {
    // "deflate" is meant to be zlib-wrapped, but servers send raw deflate too: look at the first
    // byte (a zlib header's low nibble is 8, the deflate method), as undici and browsers do.
    this.z =
      coding === "gzip"
        ? zlib.createGunzip()
        : coding === "br"
          ? zlib.createBrotliDecompress()
          : (first[0]! & 0x0f) === 0x08
            ? zlib.createInflate()
            : zlib.createInflateRaw()
    this.z.on("error", (e: Error) => {
      this.error ??= e
      this.wake()
    })
    this.z.on("end", () => {
      this.ended = true
      this.wake()
    })
    this.z.on("readable", () => this.wake())
  }

  private wake(): void {
    this.seq++
    const w = this.waiter
    this.waiter = undefined
    if (w !== undefined) w()
  }

  /** Resumes when a zlib event came after `seen`. */
  private wait(seen: number): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.seq !== seen) return resume(Effect.void)
      this.waiter = () => resume(Effect.void)
      return Effect.sync(() => {
        this.waiter = undefined
      })
    })
  }

  /** The next decoded bytes, undefined at the end; `input` gives the compressed slices. */
  next<E>(input: Effect.Effect<Uint8Array | undefined, E>): Effect.Effect<Uint8Array | undefined, E | Error> {
    const step: Effect.Effect<Uint8Array | undefined, E | Error> = Effect.suspend(() => {
      const seen = this.seq
      if (this.error !== undefined) return Effect.fail(this.error)
      const out = this.z.read() as Buffer | null
      if (out !== null) return Effect.succeed(out)
      if (this.ended) return Effect.succeed(undefined)
      if (this.inputEnded || this.writing) return Effect.zipRight(this.wait(seen), step)
      return Effect.flatMap(input, (slice) => {
        this.feed(slice)
        return step
      })
    })
    return step
  }

  /** Writes a compressed slice (undefined: the end of the input); `next` waits for it to be taken. */
  feed(slice: Uint8Array | undefined): void {
    if (this.error !== undefined || this.z.destroyed) return
    if (slice === undefined) {
      this.inputEnded = true
      this.z.end()
      return
    }
    this.writing = true
    this.z.write(slice, () => {
      this.writing = false
      this.wake()
    })
  }

  /** Frees zlib's native memory; harmless twice. */
  destroy(): void {
    if (!this.z.destroyed) this.z.destroy()
  }
}

/**
 * A response whose body is decoded by its `Content-Encoding`. The head is the server's, untouched
 * (as fetch / undici: `Content-Encoding` and `Content-Length` say what was on the wire); `length`
 * is undefined (the decoded length is unknown until the end).
 */
export class DecodedResponse extends ResponseView<HttpResponseImpl> {
  private inflater: Inflater | undefined = undefined
  /** Decoded bytes taken from zlib but not yet handed out (`read(n)` returned fewer). */
  private pending: Uint8Array | undefined = undefined
  private finished = false
  /** Decoded bytes handed out by `stream` / `drain`. */
  private delivered = 0
  private readonly limits: BodyLimits

  constructor(raw: HttpResponseImpl, private readonly coding: Coding) {
    super(raw)
    this.limits = raw.bodyLimits
  }

  override get length(): number | undefined {
    return this.finished && this.pending === undefined ? 0 : undefined
  }

  override isClosed(): boolean {
    return this.finished && this.pending === undefined
  }

  /** Ends decoding: zlib freed; the raw body given up unless it was read to its end. */
  private stop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.finished = true
      this.pending = undefined
      if (this.inflater !== undefined) this.inflater.destroy()
      return this.raw.close
    })
  }

  private failWith(error: Http1Error): Effect.Effect<never, Http1Error> {
    return Effect.zipRight(this.stop(), Effect.fail(error))
  }

  /** The next decoded bytes (undefined at the end); failures and interruptions stop decoding. */
  private next(): Effect.Effect<Uint8Array | undefined, Http1Error> {
    const pull = Effect.suspend((): Effect.Effect<Uint8Array | undefined, Http1Error | Error> => {
      const p = this.pending
      if (p !== undefined) {
        this.pending = undefined
        return Effect.succeed(p)
      }
      if (this.finished) return Effect.succeed(undefined)
      if (this.inflater !== undefined) return this.inflater.next(this.raw.rawSlice())
      // The decoder is made with the first compressed bytes (deflate's flavour depends on them);
      // an empty body decodes to nothing.
      return Effect.flatMap(this.raw.rawSlice(), (first) => {
        if (first === undefined) return Effect.succeed(undefined)
        const inflater = new Inflater(this.coding, first)
        this.inflater = inflater
        inflater.feed(first)
        return inflater.next(this.raw.rawSlice())
      })
    })
    return Effect.onInterrupt(
      Effect.matchEffect(pull, {
        onFailure: (e) =>
          this.failWith(
            e instanceof Error && !("_tag" in e)
              ? new DecompressionError({ encoding: this.coding, reason: e.message, cause: e, ...this.raw.context() })
              : (e as Http1Error)
          ),
        onSuccess: (out) => {
          if (out !== undefined) return Effect.succeed<Uint8Array | undefined>(out)
          // Decoded to the end: zlib is freed (the raw body is at its end too).
          return Effect.as(this.stop(), undefined)
        }
      }),
      () => this.stop()
    )
  }

  private tooLarge(limit: number, received: number, what: BodyTooLarge["what"]): Effect.Effect<never, Http1Error> {
    return this.failWith(new BodyTooLarge({ limit, received, what, ...this.raw.context() }))
  }

  read(amt?: number): Effect.Effect<Uint8Array, Http1Error> {
    if (amt !== undefined && (!Number.isInteger(amt) || amt < 0)) amt = 0
    if (amt === 0) return Effect.succeed(EMPTY)
    const cap = amt === undefined ? Math.min(this.limits.maxBodySize, NODE_MAX_BUFFER) : amt
    const limit = amt ?? Number.POSITIVE_INFINITY
    const parts: Array<Uint8Array> = []
    let total = 0
    const loop: Effect.Effect<Uint8Array, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.next(), (out) => {
        if (out === undefined) return Effect.succeed(concatBytes(parts, total))
        if (total + out.length > limit) {
          parts.push(out.subarray(0, limit - total))
          this.pending = out.subarray(limit - total)
          total = limit
          return Effect.succeed(concatBytes(parts, total))
        }
        parts.push(out)
        total += out.length
        if (total > cap) {
          const what = cap === this.limits.maxBodySize ? "maxBodySize" : "node buffer limit"
          return this.tooLarge(cap, total, what)
        }
        if (total >= limit) return Effect.succeed(concatBytes(parts, total))
        return loop
      })
    )
    return loop
  }

  /** One decoded slice for `stream` / `drain`, counted against `maxStreamedBodySize`. */
  private streamSlice(): Effect.Effect<Uint8Array | undefined, Http1Error> {
    return Effect.flatMap(this.next(), (out) => {
      if (out === undefined) return Effect.succeed(out)
      this.delivered += out.length
      const max = this.limits.maxStreamedBodySize
      if (this.delivered > max) return this.tooLarge(max, this.delivered, "maxStreamedBodySize")
      return Effect.succeed(out)
    })
  }

  get stream(): Stream.Stream<Uint8Array, Http1Error> {
    const pull = Effect.flatMap(
      Effect.mapError(this.streamSlice(), Option.some),
      (out) => (out === undefined ? Effect.fail(Option.none()) : Effect.succeed(Chunk.of(out)))
    )
    // A stream dropped before its end (take, interruption) gives the body up and frees zlib.
    return Stream.ensuring(Stream.repeatEffectChunkOption(pull), Effect.suspend(() => (this.isClosed() ? Effect.void : this.stop())))
  }

  get drain(): Effect.Effect<void, Http1Error> {
    const loop: Effect.Effect<void, Http1Error> = Effect.suspend(() =>
      Effect.flatMap(this.streamSlice(), (out) => (out === undefined ? Effect.void : loop))
    )
    return loop
  }

  get text(): Effect.Effect<string, Http1Error> {
    return Effect.flatMap(this.read(), (b) => {
      if (b.length > NODE_MAX_STRING) return this.tooLarge(NODE_MAX_STRING, b.length, "node string limit")
      return Effect.succeed(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8"))
    })
  }

  get close(): Effect.Effect<void> {
    return this.stop()
  }
}

/** `RequestAborted` for an aborted signal. */
export const abortedError = (signal: AbortSignal, context: object): RequestAborted =>
  new RequestAborted({ reason: signal.reason as unknown, ...context })

/** Fails with `RequestAborted` once `signal` aborts (at once if it has); never succeeds. */
export const onAbort = (signal: AbortSignal, context: object): Effect.Effect<never, RequestAborted> =>
  Effect.async<never, RequestAborted>((resume) => {
    if (signal.aborted) return resume(Effect.fail(abortedError(signal, context)))
    const listener = () => resume(Effect.fail(abortedError(signal, context)))
    signal.addEventListener("abort", listener, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", listener))
  })

/** `effect`, interrupted and failed with `RequestAborted` when `signal` aborts first. */
export const raceSignal = <A, E, R>(effect: Effect.Effect<A, E, R>, signal: AbortSignal, context: object): Effect.Effect<A, E | RequestAborted, R> =>
  Effect.suspend(() => (signal.aborted ? Effect.fail(abortedError(signal, context)) : Effect.raceFirst(effect, onAbort(signal, context))))

/**
 * A response whose body reads fail with `RequestAborted` once the request's signal aborts: a read
 * in progress is interrupted (its socket is given up); a later read fails at once and closes the
 * connection. (Nothing is done at the moment of the abort itself when nobody reads: the socket
 * is then closed by the next read, `close`, or the request's scope.)
 */
export class AbortableResponse extends ResponseView {
  constructor(raw: HttpResponse, private readonly signal: AbortSignal, private readonly context: object) {
    super(raw)
  }

  private guard<A>(effect: Effect.Effect<A, Http1Error>): Effect.Effect<A, Http1Error> {
    return Effect.tapErrorTag(raceSignal(effect, this.signal, this.context), "RequestAborted", () => this.raw.close)
  }

  read(amt?: number): Effect.Effect<Uint8Array, Http1Error> {
    return this.guard(this.raw.read(amt))
  }
  get stream(): Stream.Stream<Uint8Array, Http1Error> {
    return Stream.interruptWhen(this.raw.stream, Effect.tapError(onAbort(this.signal, this.context), () => this.raw.close))
  }
  get drain(): Effect.Effect<void, Http1Error> {
    return this.guard(this.raw.drain)
  }
  get text(): Effect.Effect<string, Http1Error> {
    return this.guard(this.raw.text)
  }
  get close(): Effect.Effect<void> {
    return this.raw.close
  }
}
