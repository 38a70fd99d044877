/**
 * Request bodies: what callers may give, and the loop that sends one through a wire. Bytes and
 * strings (UTF-8) go as they are; chunk sources (iterables, async iterables, `Stream`s) one chunk
 * at a time. Framing (chunks, Content-Length counting) is the connection core's; a failure of the
 * caller's iterator is a typed `RequestBodyError`, never a defect.
 * @internal
 */
import { Chunk, Effect, Stream } from "effect"
import { RequestBodyError, type Http1Error } from "../Http1Error.js"
import type { Exchange } from "../protocol/ClientConnection.js"
import type { Wire } from "./wire.js"

/** A chunk of a request body. Strings are sent as UTF-8. */
export type BodyChunk = Uint8Array | string

/**
 * A request body: bytes, a string (UTF-8), or chunks from an iterable, an async iterable or a
 * `Stream`. Bytes and strings get a Content-Length; chunk sources are sent chunked unless the
 * caller gives a Content-Length (then exactly that many bytes must come).
 */
export type Body<E = never, R = never> =
  | string
  | Uint8Array
  | ArrayBufferView
  | ArrayBuffer
  | Iterable<BodyChunk>
  | AsyncIterable<BodyChunk>
  | Stream.Stream<BodyChunk, E, R>

const encoder = new TextEncoder()

/** A body chunk as bytes: strings as UTF-8; anything else a plain-JS caller may pass is refused. */
export const toBytes = (chunk: BodyChunk): Uint8Array => (typeof chunk === "string" ? encoder.encode(chunk) : chunk)

const chunkBytes = (chunk: unknown): Uint8Array | RequestBodyError => {
  if (typeof chunk === "string") return encoder.encode(chunk)
  if (chunk instanceof Uint8Array) return chunk
  return new RequestBodyError({ cause: new TypeError(`a body chunk must be a string or a Uint8Array, got ${describe(chunk)}`) })
}

/** A short description of a value a caller passed, for error messages. */
export const describe = (u: unknown): string =>
  u === null ? "null" : typeof u === "object" ? (u.constructor?.name ?? "object") : typeof u

/** Whether `u` is an Effect `Stream`. */
export const isStream = (u: unknown): u is Stream.Stream<BodyChunk, unknown, unknown> =>
  typeof u === "object" && u !== null && Stream.StreamTypeId in u

/**
 * A body of known length as bytes (strings as UTF-8; other `ArrayBufferView`s and `ArrayBuffer`s
 * viewed as bytes, not copied), or `undefined` for a chunk source.
 */
export const knownBytes = (body: unknown): Uint8Array | undefined => {
  if (typeof body === "string") return encoder.encode(body)
  if (body instanceof Uint8Array) return body
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  return undefined
}

/**
 * Writes `body` for `ex` and ends it. Chunks from a chunk source larger than `blockSize` are
 * written in pieces of `blockSize` (Python's `blocksize`).
 */
export const writeBody = <E, R>(
  wire: Wire,
  ex: Exchange,
  body: Body<E, R> | undefined,
  blockSize = Number.POSITIVE_INFINITY,
  /** End the body after it (false: more may follow through `HttpConnection.send`). */
  andEnd = true
): Effect.Effect<void, Http1Error | E, R> =>
  // A body cut short (its source failed, or the caller was interrupted) leaves the server
  // waiting for the rest: the connection can carry nothing more.
  Effect.onError(sendBody(wire, ex, body, blockSize, andEnd), () =>
    Effect.sync(() => {
      if (!ex.requestDone) wire.poison("the request body was not sent to its end")
    })
  )

const sendBody = <E, R>(
  wire: Wire,
  ex: Exchange,
  body: Body<E, R> | undefined,
  blockSize: number,
  andEnd: boolean
): Effect.Effect<void, Http1Error | E, R> => {
  const end = andEnd ? Effect.suspend(() => wire.endBody(ex)) : Effect.void
  if (body === undefined) return end
  const bytes = knownBytes(body)
  if (bytes !== undefined) return Effect.zipRight(wire.writeBody(ex, bytes), end)
  const frame = (chunk: unknown): Effect.Effect<void, Http1Error> => {
    const data = chunkBytes(chunk)
    if (data instanceof RequestBodyError) return Effect.fail(data)
    if (data.length <= blockSize) return wire.writeBody(ex, data)
    return Effect.suspend(() => {
      const pieces: Array<Uint8Array> = []
      for (let off = 0; off < data.length; off += blockSize) pieces.push(data.subarray(off, off + blockSize))
      return Effect.forEach(pieces, (p) => wire.writeBody(ex, p), { discard: true })
    })
  }
  if (isStream(body)) {
    const stream = body as Stream.Stream<BodyChunk, E, R>
    return Effect.zipRight(
      Stream.runForEachChunk(stream, (chunk) => Effect.forEach(Chunk.toReadonlyArray(chunk), frame, { discard: true })),
      end
    )
  }
  if (typeof body === "object" && body !== null && Symbol.asyncIterator in body) {
    const iterable = body as AsyncIterable<BodyChunk>
    return Effect.gen(function* () {
      const it = yield* Effect.try({ try: () => iterable[Symbol.asyncIterator](), catch: (cause) => new RequestBodyError({ cause }) })
      while (true) {
        const step = yield* Effect.tryPromise({ try: () => it.next(), catch: (cause) => new RequestBodyError({ cause }) })
        if (step.done === true) break
        yield* frame(step.value)
      }
      yield* end
    })
  }
  const iterable = body as Iterable<BodyChunk>
  return Effect.gen(function* () {
    const it = yield* Effect.try({ try: () => iterable[Symbol.iterator](), catch: (cause) => new RequestBodyError({ cause }) })
    while (true) {
      const step = yield* Effect.try({ try: () => it.next(), catch: (cause) => new RequestBodyError({ cause }) })
      if (step.done === true) break
      yield* frame(step.value)
    }
    yield* end
  })
}
