/**
 * The keep-alive connections of one origin: a LIFO stack of idle wires, a count of open ones, and
 * a bounded FIFO queue of requests waiting for a connection.
 *
 * Why not Effect's `KeyedPool`/`Pool`: their `get` is scoped (acquireRelease + a scope per
 * request, 11–16 µs here) and their items are interchangeable; a socket is not: it must be checked
 * before reuse (idle time, lifetime, bytes that arrived while idle), the most recently used one
 * should go first (LIFO keeps the warmest socket and lets the rest time out), a server's
 * `Keep-Alive: timeout=` shortens one socket's idle time, and the wait queue must be bounded with a
 * typed `PoolExhausted`. This pool does that with one timer per idle socket and no per-request
 * scope; sockets still live in Scopes (one child scope each, forked from the client's), so the
 * client's scope closing closes every one of them.
 * @internal
 */
import { Effect, ExecutionStrategy, Exit, Scope } from "effect"
import { PoolExhausted, type Http1Error } from "../Http1Error.js"
import { readTimeout, type Wire } from "../internal/wire.js"

export interface OriginPoolOptions {
  readonly origin: string
  readonly maxConnections: number
  readonly maxPending: number
  readonly maxIdleTimeMs: number
  readonly maxLifetimeMs: number | undefined
  readonly maxRequestsPerConnection: number | undefined
  /** Requests in flight per connection for pipelinable (idempotent, replayable) requests. 1: off. */
  readonly pipelining: number
  /** Bound on a blocked write (the peer stopped reading): `TimeoutError` phase `write`. */
  readonly writeTimeoutMs: number | undefined
  /** Opens a new wire whose sockets live in `scope`. */
  readonly connect: (scope: Scope.Scope) => Effect.Effect<Wire, Http1Error>
}

/** A connection lent to one exchange. */
export interface Lease {
  readonly wire: Wire
  /** The wire was taken from the idle stack (it has served before). */
  readonly reused: boolean
  /** The request joins others in flight on this wire (HTTP/1.1 pipelining). */
  readonly pipelined: boolean
}

/** What a waiter is handed: a wire already lent to it, or a free slot to open a socket in. */
type Handover = { readonly _tag: "lease"; readonly lease: Lease } | { readonly _tag: "slot" }

const SLOT: Handover = { _tag: "slot" }

interface Waiter {
  readonly resume: (handover: Handover) => void
  /** May join a busy wire (pipelining). */
  readonly pipelinable: boolean
}

export class OriginPool {
  private readonly idle: Array<Wire> = []
  private readonly waiters: Array<Waiter> = []
  private readonly timers = new Map<Wire, ReturnType<typeof setTimeout>>()
  /** Wires lent out, for pipelining onto them. */
  private readonly active = new Set<Wire>()
  /** Sockets open or being opened. */
  open = 0
  closed = false

  constructor(
    private readonly scope: Scope.Scope,
    readonly options: OriginPoolOptions
  ) {}

  get idleCount(): number {
    return this.idle.length
  }

  get pendingCount(): number {
    return this.waiters.length
  }

  /** Whether an idle wire may carry another exchange now. */
  private usable(wire: Wire, now: number): boolean {
    const o = this.options
    if (!wire.reusable()) return false
    if (now - wire.idleSince >= (wire.keepAliveMs ?? o.maxIdleTimeMs)) return false
    if (o.maxLifetimeMs !== undefined && now - wire.openedAt >= o.maxLifetimeMs) return false
    if (o.maxRequestsPerConnection !== undefined && wire.served >= o.maxRequestsPerConnection) return false
    return true
  }

  /** Closes a wire's sockets (its scope). */
  private destroy(wire: Wire): Effect.Effect<void> {
    wire.broken = true
    wire.retired = true
    this.active.delete(wire)
    const timer = this.timers.get(wire)
    if (timer !== undefined) {
      clearTimeout(timer)
      this.timers.delete(wire)
    }
    return wire.scope !== undefined ? Scope.close(wire.scope, Exit.void) : wire.socket.close
  }

  /** Opens a new wire for a slot already counted in `open`. */
  private openNew: Effect.Effect<Lease, Http1Error> = Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Scope.fork(this.scope, ExecutionStrategy.sequential), (child) =>
      restore(this.options.connect(child)).pipe(
        Effect.matchCauseEffect({
          onFailure: (cause) =>
            Effect.zipRight(
              Effect.zipRight(Scope.close(child, Exit.void), this.freeSlot),
              Effect.failCause(cause)
            ),
          onSuccess: (wire) => {
            wire.scope = child
            wire.writeTimeout = readTimeout(this.options.writeTimeoutMs, "write")
            const lease = this.lend(wire, false, false)
            return Effect.succeed(lease)
          }
        })
      )
    )
  )

  /** A slot became free: hand it to the next waiter (who opens a new socket), or just count it. */
  private get freeSlot(): Effect.Effect<void> {
    return Effect.sync(() => {
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter.resume(SLOT)
      else this.open--
    })
  }

  /** Takes the most recently used healthy idle wire, closing stale ones on the way. */
  private takeIdle(): { lease: Lease | undefined; stale: Array<Wire> } {
    const now = Date.now()
    const stale: Array<Wire> = []
    while (this.idle.length > 0) {
      const wire = this.idle.pop()!
      const timer = this.timers.get(wire)
      if (timer !== undefined) {
        clearTimeout(timer)
        this.timers.delete(wire)
      }
      if (this.usable(wire, now)) return { lease: this.lend(wire, true, false), stale }
      stale.push(wire)
    }
    return { lease: undefined, stale }
  }

  /** Marks a wire as carrying one more exchange. */
  private lend(wire: Wire, reused: boolean, pipelined: boolean): Lease {
    // Only pipelinable exchanges may share a wire; `acquire` sets this back for those.
    wire.exclusive = true
    wire.inFlight++
    this.active.add(wire)
    return { wire, reused, pipelined }
  }

  /** The busy wire with the fewest requests in flight that can take one more, if any. */
  private pipelineTarget(): Wire | undefined {
    let best: Wire | undefined
    for (const wire of this.active) {
      if (wire.broken || wire.exclusive || wire.inFlight >= this.options.pipelining || !wire.socket.isOpen()) continue
      if (best === undefined || wire.inFlight < best.inFlight) best = wire
    }
    return best
  }

  /** Hands a shareable busy wire to queued pipelinable requests while it has room. */
  private servePipelined(wire: Wire): void {
    if (this.options.pipelining <= 1 || wire.exclusive || wire.broken) return
    for (let i = 0; i < this.waiters.length && wire.inFlight < this.options.pipelining; ) {
      const waiter = this.waiters[i]!
      if (!waiter.pipelinable) {
        i++
        continue
      }
      this.waiters.splice(i, 1)
      waiter.resume({ _tag: "lease", lease: this.lend(wire, true, true) })
    }
  }

  /**
   * A connection for one exchange: an idle one (LIFO), a new one while under the limit, or a
   * place in the queue; `PoolExhausted` when the queue is full. `fresh` skips idle sockets.
   */
  acquire(fresh = false, pipelinable = false): Effect.Effect<Lease, Http1Error> {
    if (this.options.pipelining <= 1) return this.acquireWire(fresh, false)
    return Effect.map(this.acquireWire(fresh, pipelinable), (lease) => {
      lease.wire.exclusive = !pipelinable
      // A new or reused wire that may be shared can take queued requests right away.
      if (pipelinable) this.servePipelined(lease.wire)
      return lease
    })
  }

  private acquireWire(fresh: boolean, pipelinable: boolean): Effect.Effect<Lease, Http1Error> {
    return Effect.suspend(() => {
      if (!fresh) {
        const { lease, stale } = this.takeIdle()
        if (stale.length > 0) {
          this.open -= stale.length
          const closeStale = Effect.forEach(stale, (w) => this.destroy(w), { discard: true })
          return Effect.zipRight(closeStale, this.acquireWire(false, pipelinable))
        }
        if (lease !== undefined) return Effect.succeed(lease)
      } else if (this.open >= this.options.maxConnections && this.idle.length > 0) {
        // Make room for a fresh socket by retiring the oldest idle one.
        const oldest = this.idle.shift()!
        const timer = this.timers.get(oldest)
        if (timer !== undefined) clearTimeout(timer)
        this.timers.delete(oldest)
        return Effect.zipRight(this.destroy(oldest), Effect.suspend(() => this.openNew))
      }
      if (this.open < this.options.maxConnections) {
        this.open++
        return this.openNew
      }
      if (pipelinable && !fresh && this.options.pipelining > 1) {
        const target = this.pipelineTarget()
        if (target !== undefined) return Effect.succeed(this.lend(target, true, true))
      }
      if (this.waiters.length >= this.options.maxPending) {
        return Effect.fail(new PoolExhausted({ origin: this.options.origin, maxPending: this.options.maxPending }))
      }
      // The wait is interruptible; what is handed over is never lost: after the hand-over the
      // rest runs uninterruptibly, and an interruption that races the hand-over gives it back.
      return Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          restore(
            Effect.async<Handover>((resume) => {
              let handed: Handover | undefined
              const waiter: Waiter = {
                resume: (h) => {
                  handed = h
                  resume(Effect.succeed(h))
                },
                pipelinable
              }
              this.waiters.push(waiter)
              return Effect.suspend(() => {
                const i = this.waiters.indexOf(waiter)
                if (i >= 0) this.waiters.splice(i, 1)
                return handed === undefined ? Effect.void : this.giveBack(handed)
              })
            })
          ),
          (h) => (h._tag === "lease" ? Effect.succeed(h.lease) : restore(this.openNew))
        )
      )
    })
  }

  /** Returns a hand-over its waiter could not take (interrupted as it was handed over). */
  private giveBack(h: Handover): Effect.Effect<void> {
    return h._tag === "lease" ? this.release(h.lease.wire, true) : this.freeSlot
  }

  /**
   * Gives a wire back after its exchange. A reusable wire goes to the next waiter or on top of
   * the idle stack (with a timer that retires it); anything else is closed and its slot freed.
   */
  release(wire: Wire, reusable: boolean): Effect.Effect<void> {
    return Effect.suspend(() => {
      // Pipelined exchanges queued on a wire that was already closed end here too.
      if (wire.retired) return Effect.void
      wire.inFlight--
      if (!reusable || this.closed) {
        return Effect.zipRight(this.destroy(wire), this.freeSlot)
      }
      // Others are still in flight on this wire: it stays lent out, and may take a queued request.
      if (wire.inFlight > 0) {
        this.servePipelined(wire)
        return Effect.void
      }
      this.active.delete(wire)
      if (!this.usable(wire, Date.now())) {
        return Effect.zipRight(this.destroy(wire), this.freeSlot)
      }
      const waiter = this.waiters.shift()
      if (waiter !== undefined) {
        waiter.resume({ _tag: "lease", lease: this.lend(wire, true, false) })
        return Effect.void
      }
      this.idle.push(wire)
      const idleMs = wire.keepAliveMs ?? this.options.maxIdleTimeMs
      const timer = setTimeout(() => {
        this.timers.delete(wire)
        const i = this.idle.indexOf(wire)
        if (i < 0) return
        this.idle.splice(i, 1)
        this.open--
        Effect.runFork(this.destroy(wire))
      }, idleMs)
      timer.unref()
      this.timers.set(wire, timer)
      return Effect.void
    })
  }

  /** Closes a wire that failed or was abandoned mid-exchange. */
  discard(wire: Wire): Effect.Effect<void> {
    return this.release(wire, false)
  }

  /** Closes every idle socket and stops lending (the client's scope is closing). */
  get shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      const idle = this.idle.splice(0)
      this.open -= idle.length
      return Effect.forEach(idle, (w) => this.destroy(w), { discard: true })
    })
  }
}
