/**
 * Sends a request body over a wire: bytes and strings (UTF-8) as they are, chunk sources
 * (iterables, async iterables, `Stream`s) one chunk at a time, chunk-encoded when asked. A
 * failure of the caller's iterator is a typed `RequestBodyError`, never a defect; empty chunks
 * are skipped (a zero-size chunk would end a chunked body early).
 * @internal
 */
import { Chunk, Effect, Stream } from "effect"
import { RequestBodyError, type Http1Error } from "../Http1Error.js"
import type { Body, BodyChunk } from "../HttpConnection.js"
import { encodeChunk, LAST_CHUNK } from "../protocol/RequestEncoder.js"
import type { Wire } from "./wire.js"

const encoder = new TextEncoder()

/** A body chunk as bytes: strings as UTF-8. */
export const toBytes = (chunk: BodyChunk): Uint8Array => (typeof chunk === "string" ? encoder.encode(chunk) : chunk)

/** Whether `u` is an Effect `Stream`. */
export const isStream = (u: unknown): u is Stream.Stream<BodyChunk, unknown, unknown> =>
  typeof u === "object" && u !== null && Stream.StreamTypeId in u

/**
 * Writes `body`, chunk-encoded (and ended with the last chunk) when `chunked`. Chunks from a chunk
 * source larger than `blockSize` are written in pieces of `blockSize` (Python's `blocksize`).
 */
export const writeBody = <E, R>(
  wire: Wire,
  body: Body<E, R>,
  chunked: boolean,
  blockSize = Number.POSITIVE_INFINITY
): Effect.Effect<void, Http1Error | E, R> => {
  const one = (chunk: Uint8Array): Effect.Effect<void, Http1Error> => wire.write(chunked ? encodeChunk(chunk) : chunk)
  const end = chunked ? wire.write(LAST_CHUNK) : Effect.void
  if (typeof body === "string" || body instanceof Uint8Array) {
    const bytes = toBytes(body)
    return bytes.length === 0 ? end : Effect.zipRight(one(bytes), end)
  }
  const frame = (chunk: Uint8Array): Effect.Effect<void, Http1Error> => {
    if (chunk.length === 0) return Effect.void
    if (chunk.length <= blockSize) return one(chunk)
    return Effect.suspend(() => {
      const pieces: Array<Uint8Array> = []
      for (let off = 0; off < chunk.length; off += blockSize) pieces.push(chunk.subarray(off, off + blockSize))
      return Effect.forEach(pieces, one, { discard: true })
    })
  }
  if (isStream(body)) {
    const stream = body as Stream.Stream<BodyChunk, E, R>
    return Effect.zipRight(
      Stream.runForEachChunk(stream, (chunk) => Effect.forEach(Chunk.toReadonlyArray(chunk), (c) => frame(toBytes(c)), { discard: true })),
      end
    )
  }
  if (Symbol.asyncIterator in (body as object)) {
    const iterable = body as AsyncIterable<BodyChunk>
    return Effect.gen(function* () {
      const it = yield* Effect.try({ try: () => iterable[Symbol.asyncIterator](), catch: (cause) => new RequestBodyError({ cause }) })
      while (true) {
        const step = yield* Effect.tryPromise({ try: () => it.next(), catch: (cause) => new RequestBodyError({ cause }) })
        if (step.done === true) break
        yield* frame(toBytes(step.value))
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
      yield* frame(toBytes(step.value))
    }
    yield* end
  })
}
