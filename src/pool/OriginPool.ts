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
import type { Wire } from "../internal/wire.js"

export interface OriginPoolOptions {
  readonly origin: string
  readonly maxConnections: number
  readonly maxPending: number
  readonly maxIdleTimeMs: number
  readonly maxLifetimeMs: number | undefined
  readonly maxRequestsPerConnection: number | undefined
  /** Opens a new wire whose sockets live in `scope`. */
  readonly connect: (scope: Scope.Scope) => Effect.Effect<Wire, Http1Error>
}

/** A connection lent to one exchange. */
export interface Lease {
  readonly wire: Wire
  /** The wire was taken from the idle stack (it has served before). */
  readonly reused: boolean
}

type Waiter = (lease: Effect.Effect<Lease, Http1Error>) => void

export class OriginPool {
  private readonly idle: Array<Wire> = []
  private readonly waiters: Array<Waiter> = []
  private readonly timers = new Map<Wire, ReturnType<typeof setTimeout>>()
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
            return Effect.succeed<Lease>({ wire, reused: false })
          }
        })
      )
    )
  )

  /** A slot became free: hand it to the next waiter (who opens a new socket), or just count it. */
  private get freeSlot(): Effect.Effect<void> {
    return Effect.sync(() => {
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter(this.openNew)
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
      if (this.usable(wire, now)) return { lease: { wire, reused: true }, stale }
      stale.push(wire)
    }
    return { lease: undefined, stale }
  }

  /**
   * A connection for one exchange: an idle one (LIFO), a new one while under the limit, or a
   * place in the queue; `PoolExhausted` when the queue is full. `fresh` skips idle sockets.
   */
  acquire(fresh = false): Effect.Effect<Lease, Http1Error> {
    return Effect.suspend(() => {
      if (!fresh) {
        const { lease, stale } = this.takeIdle()
        if (stale.length > 0) {
          this.open -= stale.length
          const closeStale = Effect.forEach(stale, (w) => this.destroy(w), { discard: true })
          return Effect.zipRight(closeStale, this.acquire(false))
        }
        if (lease !== undefined) return Effect.succeed(lease)
      } else if (this.open >= this.options.maxConnections && this.idle.length > 0) {
        // Make room for a fresh socket by retiring the oldest idle one.
        const oldest = this.idle.shift()!
        return Effect.zipRight(this.destroy(oldest), Effect.suspend(() => this.openNew))
      }
      if (this.open < this.options.maxConnections) {
        this.open++
        return this.openNew
      }
      if (this.waiters.length >= this.options.maxPending) {
        return Effect.fail(new PoolExhausted({ origin: this.options.origin, maxPending: this.options.maxPending }))
      }
      return Effect.flatten(
        Effect.async<Effect.Effect<Lease, Http1Error>>((resume) => {
          const waiter: Waiter = (next) => resume(Effect.succeed(next))
          this.waiters.push(waiter)
          return Effect.sync(() => {
            const i = this.waiters.indexOf(waiter)
            if (i >= 0) this.waiters.splice(i, 1)
          })
        })
      )
    })
  }

  /**
   * Gives a wire back after its exchange. A reusable wire goes to the next waiter or on top of
   * the idle stack (with a timer that retires it); anything else is closed and its slot freed.
   */
  release(wire: Wire, reusable: boolean): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!reusable || this.closed || !this.usable(wire, Date.now())) {
        return Effect.zipRight(this.destroy(wire), this.freeSlot)
      }
      const waiter = this.waiters.shift()
      if (waiter !== undefined) {
        waiter(Effect.succeed({ wire, reused: true }))
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
