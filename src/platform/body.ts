/**
 * The body of a `PlatformHttpClient` response, and the scopes that hold its pooled connection.
 *
 * Platform drops responses unread all the time — `filterStatusOk` fails with the response inside
 * the error, `retryTransient` re-executes, a caller ignores the result of `execute` — and nothing
 * tells the client that it happened; the only generic hooks are `withScope`'s `AbortSignal` and a
 * `FinalizationRegistry` for responses garbage-collected unread (which can be much later or never
 * under low memory pressure). So, like undici's body stream with its high-water mark, the body is
 * **read ahead**: as soon as the head is there, a daemon fiber reads up to
 * {@link READ_AHEAD_BYTES} of it into memory; it is started in place (it runs on the request's
 * call stack until it would wait), so a body that came with its head is read before the response
 * is handed out, with no scheduler hop.
 * A body that fits and arrives gives its connection back to the pool right away, whether or not
 * anybody ever reads it; reads then come from memory. A bigger or slower body keeps its connection
 * until it is read or **given up** (the request's scope, its abort signal), and giving it up
 * drains what is left if that may fit and arrives within {@link DROP_GRACE_MS}, else closes the
 * socket.
 *
 * Up to two scopes per response:
 * - `inner` (a root scope): our scoped `request` ran in it; it holds the connection and the
 *   read-ahead fiber. Closing it closes the socket unless the body was read to its end.
 * - `link`: a child of the caller's `Scope` when there is one, else a root scope made only when a
 *   response is handed out before its body is settled. Closing it is "giving the response up":
 *   its finalizer drains (bounded) and closes `inner`. It is closed when the body is settled (so
 *   it leaves the caller's scope at once), on abort, or with its parent. Without `link`, giving up
 *   runs the same drain once.
 *
 * Nothing registered here (scope finalizers, the abort listener, the read-ahead fiber) refers to
 * the platform response object, so it stays collectable and the `FinalizationRegistry` can fire.
 *
 * @internal
 * @since 0.1.0
 */
import { type Chunk, Data, Deferred, Effect, ExecutionStrategy, Exit, Fiber, FiberId, Option, Scope, Stream } from "effect"
import type { Http1Error } from "../Http1Error.js"
import type { ClientResponse as OurResponse } from "../HttpClient.js"
import { concatBytes } from "../internal/bytes.js"

/** Bytes of a body read ahead into memory (and drained when a response is given up). */
export const READ_AHEAD_BYTES = 65_536

/** How long giving up a response waits for the rest of a small body before closing the socket. */
export const DROP_GRACE_MS = 100

/**
 * The body cannot be read any more: its response was given up (scope closed, aborted) before the
 * body had arrived whole.
 *
 * @example
 * ```ts
 * Effect.fail(new BodyGone({ reason: "the request's scope closed before the body was read" }))
 * ```
 * @since 0.1.0
 */
export class BodyGone extends Data.TaggedError("BodyGone")<{ readonly reason: string }> {}

const GONE = "the body is no longer available: the response was given up (its scope closed or its request was aborted) before the body was read"

/**
 * `effect`, interrupted (and awaited) after `ms` of wall-clock time. A timer of its own rather than
 * `Effect.timeout`: a caller's `TestClock` must not hold a scope's closing forever.
 */
const within = (effect: Effect.Effect<void>, ms: number): Effect.Effect<void> =>
  Effect.raceFirst(
    effect,
    Effect.async<void>((resume) => {
      const timer = setTimeout(() => resume(Effect.void), ms)
      return Effect.sync(() => clearTimeout(timer))
    })
  )

/** The Content-Length of a length-framed body, when the head says so unambiguously. */
const lengthOf = (source: OurResponse): number | undefined => {
  if (source.headers.get("transfer-encoding") !== undefined) return undefined
  const value = source.headers.get("content-length")
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined
  return Number(value)
}

/**
 * The body of one response: what was read ahead, the source to read the rest from, and the two
 * scopes. One operation reads from the source at a time: a read-ahead step (joined by anybody who
 * needs it) or, once a consumer claimed the body, the consumer itself.
 *
 * @example
 * ```ts
 * const body = ResponseBody.open(Option.none())
 * // ... run our `request` in body.inner, then:
 * yield* body.attach(ours)
 * const bytes = yield* body.whole // read-ahead bytes, then the rest from the socket
 * yield* body.release
 * ```
 * @since 0.1.0
 */
export class ResponseBody {
  private source: OurResponse | undefined = undefined
  private chunks: Array<Uint8Array> = []
  private size = 0
  /** Every byte of the body has been read from the source (they are in `chunks`, or handed out). */
  private ended = false
  /** Reading the source failed (the connection was discarded by our client). */
  private failure: Http1Error | undefined = undefined
  /** A step was interrupted midway: the source was abandoned, the body cannot be completed. */
  private broken = false
  /** `inner` was closed: the connection is released or closed. */
  private released = false
  /** A consumer (whole read or stream) took the body over: no more read-ahead. */
  private claimed = false
  /** The read-ahead step in flight, if any. */
  private step: Step | undefined = undefined
  /** Giving the response up, once a caller's scope or a signal may do it (see {@link link}). */
  private linked: Scope.CloseableScope | undefined = undefined
  /** {@link drop} ran (or runs) without a `link` scope. */
  private dropped = false
  /** Slice-by-slice reads of the body for reading ahead, made once in `inner`. */
  private pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<Http1Error>> | undefined = undefined
  /** The Content-Length, when the body is length-framed. */
  private length: number | undefined = undefined
  /** The read-ahead fiber, and whether it still runs (it never closes `inner` itself). */
  private prefetcher: Fiber.RuntimeFiber<void> | undefined = undefined
  private prefetching = false

  private constructor(
    /** Where our `request` runs: holds the connection. */
    readonly inner: Scope.CloseableScope
  ) {}

  /**
   * `inner`, and `link` as a child of `parent` when there is one (before the head too: the
   * caller's scope closing mid-request ends the exchange). Without a parent, `link` is only made
   * when a response is handed out before its body is settled (see {@link abortOn}).
   */
  static open(parent: Option.Option<Scope.Scope>): Effect.Effect<ResponseBody> {
    return Effect.flatMap(Scope.make(), (inner) => {
      const body = new ResponseBody(inner)
      if (Option.isNone(parent)) return Effect.succeed(body)
      return Effect.flatMap(Scope.fork(parent.value, ExecutionStrategy.sequential), (link) => body.linkTo(link))
    })
  }

  /** `link` becomes the scope whose closing gives the response up. */
  private linkTo(link: Scope.CloseableScope): Effect.Effect<ResponseBody> {
    this.linked = link
    return Effect.as(Scope.addFinalizer(link, Effect.suspend(() => this.drop)), this)
  }

  /** The `link` scope: closed on settle, on abort, or with the caller's scope; made if need be. */
  private get link(): Effect.Effect<Scope.CloseableScope> {
    if (this.linked !== undefined) return Effect.succeed(this.linked)
    return Effect.flatMap(Scope.make(), (link) => Effect.as(this.linkTo(link), link))
  }

  /**
   * Takes our response (its head is there) and reads ahead when the body may fit in
   * {@link READ_AHEAD_BYTES}, in a daemon fiber: a length-framed body whole, a body of unknown
   * length (chunked, or up to the end of the connection) slice by slice, so that a stream of it
   * still sees bytes as they arrive. The fiber starts in place: a body that has already arrived
   * is read (and its connection back in the pool) before this returns, and a slow one is never
   * waited for. Read failures are kept for the reader.
   */
  attach(source: OurResponse): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.source = source
      this.ended = source.trailers !== undefined
      this.length = lengthOf(source)
      // A bodiless response (HEAD, 204, 304, ...) has its connection back already.
      if (this.ended) return this.releaseIfSettled
      if (!this.mayFit) return Effect.void
      this.prefetching = true
      const prefetch = Effect.zipRight(
        this.readAhead,
        Effect.suspend(() => {
          this.prefetching = false
          return this.releaseIfSettled
        })
      )
      // Started at once on this call stack (`runFork` runs a fiber until its first suspension):
      // a body that came with its head is read, and its connection back in the pool, before
      // this returns, with no scheduler hop; a slow one goes on in the background.
      const fiber = Effect.runFork(Effect.interruptible(prefetch))
      if (fiber.unsafePoll() === null) this.prefetcher = fiber
      return Effect.void
    })
  }

  /**
   * Whether the body is settled: read ahead whole (or failed) with its connection given back, so
   * nothing needs to watch the response any more (no abort listener, no garbage-collection hook).
   */
  get settled(): boolean {
    return this.released && !this.prefetching && (this.ended || this.failure !== undefined)
  }

  /** The whole body when it is in memory and nobody claimed it yet (claims it), else `undefined`. */
  takeWhole(): Uint8Array | undefined {
    if (this.claimed || this.step !== undefined || !this.ended || this.failure !== undefined) return undefined
    this.claimed = true
    const chunks = this.take()
    return chunks.length === 1 ? chunks[0]! : concatBytes(chunks)
  }

  /**
   * The whole body is in memory (or its read failed): the connection is settled, so the scopes
   * are given up now — a long-lived caller scope does not keep them, no abort listener is needed.
   */
  private get releaseIfSettled(): Effect.Effect<void> {
    return Effect.suspend(() => (!this.claimed && (this.ended || this.failure !== undefined) ? this.release : Effect.void))
  }

  /**
   * Gives the response up when `signal` aborts: platform aborts it when the fiber is interrupted,
   * when a `withScope` scope closes, and when the response is garbage-collected unread. The
   * listener holds `link`, never the response; it goes away with `link`.
   */
  abortOn(signal: AbortSignal): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.released) return Effect.void
      if (signal.aborted) return this.release
      return Effect.flatMap(this.link, (link) => {
        const listener = () => {
          Effect.runFork(Scope.close(link, Exit.void))
        }
        signal.addEventListener("abort", listener, { once: true })
        return Scope.addFinalizer(link, Effect.sync(() => signal.removeEventListener("abort", listener)))
      })
    })
  }

  /** Gives the response up (see {@link drop}); after a settled body only removes the scopes. */
  get release(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.linked !== undefined) return Scope.close(this.linked, Exit.void)
      if (this.dropped) return Effect.void
      this.dropped = true
      return this.drop
    })
  }

  /** Whether reading ahead may bring the rest of the body into memory. */
  private get mayFit(): boolean {
    if (this.ended || this.failure !== undefined || this.broken || this.released) return false
    if (this.size >= READ_AHEAD_BYTES) return false
    return this.length === undefined || this.length <= READ_AHEAD_BYTES
  }

  /**
   * `link`'s finalizer. Unless a consumer is reading, waits (at most {@link DROP_GRACE_MS}) for a
   * body that may still fit to arrive; then closes `inner`: the connection goes back to the pool
   * when the body ended, and is closed otherwise.
   */
  private get drop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const drain = this.source !== undefined && !this.claimed && this.mayFit
      // Interruptible: this runs as a finalizer, and the wait must end when the grace is over.
      const wait = drain ? within(Effect.interruptible(this.readAhead), DROP_GRACE_MS) : Effect.void
      return Effect.zipRight(wait, this.closeInner)
    })
  }

  /**
   * Closes `inner`. A read-ahead read in flight is interrupted first (its socket is abandoned),
   * before the scope's finalizers close the stream it reads; a read-ahead fiber that has not run
   * yet, or waits between reads, sees `released` and ends by itself.
   */
  private get closeInner(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.released = true
      const fiber = this.prefetcher
      const close = Scope.close(this.inner, Exit.void)
      return fiber !== undefined && this.prefetching && this.step !== undefined
        ? Effect.zipRight(Fiber.interrupt(fiber), close)
        : close
    })
  }

  private push(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.chunks.push(bytes)
    this.size += bytes.length
  }

  /** Reads ahead until the body ended, failed, no longer fits, or a consumer claimed it. Never fails. */
  private get readAhead(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.step !== undefined) return Effect.zipRight(this.step.wait, this.readAhead)
      if (this.claimed || !this.mayFit) return Effect.void
      return Effect.zipRight(this.runStep(this.source!), this.readAhead)
    })
  }

  /**
   * One read from the source into `chunks`: the whole body when it is length-framed (it fits),
   * else one slice (what the socket has, or the next bytes to arrive).
   */
  private runStep(source: OurResponse): Effect.Effect<void> {
    const step = new Step()
    this.step = step
    const read: Effect.Effect<void> =
      this.length !== undefined
        ? Effect.match(source.read(), {
            onSuccess: (bytes) => {
              this.push(bytes)
              this.ended = true
            },
            onFailure: (e) => {
              this.failure = e
            }
          })
        : Effect.flatMap(this.slices(source), (pull) =>
            Effect.match(pull, {
              onSuccess: (chunk) => {
                for (const bytes of chunk) this.push(bytes)
              },
              onFailure: (end) => {
                if (Option.isNone(end)) this.ended = true
                else this.failure = end.value
              }
            })
          )
    return Effect.onExit(read, (exit) => {
      this.step = undefined
      // Interrupted midway: our response abandoned the socket, the body cannot be completed.
      if (Exit.isFailure(exit)) this.broken = true
      step.done()
      return Effect.void
    })
  }

  private slices(source: OurResponse): Effect.Effect<Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<Http1Error>>> {
    if (this.pull !== undefined) return Effect.succeed(this.pull)
    return Effect.map(Scope.extend(Stream.toPull(source.stream), this.inner), (pull) => (this.pull = pull))
  }

  /** Hands out what was read ahead (once). */
  private take(): Array<Uint8Array> {
    const chunks = this.chunks
    this.chunks = []
    this.size = 0
    return chunks
  }

  /** Why the body cannot be read on, if it cannot (checked once no step is in flight). */
  private get unreadable(): Http1Error | BodyGone | undefined {
    if (this.failure !== undefined) return this.failure
    if (this.ended) return undefined
    if (this.released || this.broken || this.source === undefined) return new BodyGone({ reason: GONE })
    return undefined
  }

  /** The whole body: what was read ahead, then the rest from the socket. Claims the body. */
  get whole(): Effect.Effect<Uint8Array, Http1Error | BodyGone> {
    return Effect.suspend(() => {
      this.claimed = true
      if (this.step !== undefined) return Effect.zipRight(this.step.wait, this.whole)
      const unreadable = this.unreadable
      if (unreadable !== undefined) return Effect.fail(unreadable)
      const head = this.take()
      if (this.ended) return Effect.succeed(concatBytes(head))
      return Effect.map(this.source!.read(), (rest) => {
        this.ended = true
        if (head.length === 0) return rest
        head.push(rest)
        return concatBytes(head)
      })
    })
  }

  /** The body as it arrives: what was read ahead, then slices from the socket. Claims the body. */
  get stream(): Stream.Stream<Uint8Array, Http1Error | BodyGone> {
    return Stream.unwrap(
      Effect.suspend(() => {
        this.claimed = true
        if (this.step !== undefined) return Effect.as(this.step.wait, this.stream)
        const head = Stream.fromIterable(this.take())
        if (this.failure !== undefined) return Effect.succeed(Stream.concat(head, Stream.fail(this.failure)))
        const unreadable = this.unreadable
        if (unreadable !== undefined) return Effect.succeed(Stream.fail(unreadable))
        if (this.ended) return Effect.succeed(head)
        return Effect.succeed(Stream.concat(head, this.source!.stream))
      })
    )
  }
}

/** A read-ahead step in flight; its `Deferred` is made only when somebody waits for it. */
class Step {
  private waiter: Deferred.Deferred<void> | undefined = undefined
  private finished = false

  get wait(): Effect.Effect<void> {
    return Effect.suspend(() => (this.finished ? Effect.void : Deferred.await((this.waiter ??= Deferred.unsafeMake<void>(FiberId.none)))))
  }

  done(): void {
    this.finished = true
    if (this.waiter !== undefined) Deferred.unsafeDone(this.waiter, Exit.void)
  }
}
