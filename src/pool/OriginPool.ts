/**
 * The keep-alive connections of one origin: a LIFO stack of idle connections, a count of open
 * ones, and a bounded FIFO queue of requests waiting for a connection.
 *
 * Why not Effect's `KeyedPool`/`Pool`: their `get` is scoped (acquireRelease + a scope per
 * request, 11–16 µs here) and their items are interchangeable; a socket is not: it must be checked
 * before reuse (idle time, lifetime, bytes that arrived while idle), the most recently used one
 * should go first (LIFO keeps the warmest socket and lets the rest time out), a server's
 * `Keep-Alive: timeout=` shortens one socket's idle time, and the wait queue must be bounded with a
 * typed `PoolExhausted`. Sockets still live in Scopes (one child scope each, forked from the
 * client's), so the client's scope closing closes every one of them.
 *
 * Whether a connection can carry another exchange is the connection core's decision
 * (`ClientConnection.reuse`, via the wire); this pool adds only its own policies (idle time,
 * lifetime, request count). Time comes from Effect's `Clock`; idle sockets are retired by one
 * sweeper fiber per pool, forked in the client's scope, that runs only while sockets are idle.
 * @internal
 */
import { Clock, Duration, Effect, ExecutionStrategy, Exit, Scope } from "effect"
import { PoolExhausted, TimeoutError, type Http1Error } from "../Http1Error.js"
import type { ResponseOwner } from "../internal/response.js"
import type { Wire } from "../internal/wire.js"
import type { Exchange } from "../protocol/ClientConnection.js"

export interface OriginPoolOptions {
  readonly origin: string
  readonly maxConnections: number
  readonly maxPending: number
  readonly maxIdleTimeMs: number
  readonly maxLifetimeMs: number | undefined
  readonly maxRequestsPerConnection: number | undefined
  /** Requests in flight per connection for pipelinable (idempotent, replayable) requests. 1: off. */
  readonly pipelining: number
  /** The longest a request waits in the queue for a connection (`TimeoutError` phase `connect`). */
  readonly queueTimeoutMs: number | undefined
  /** Opens a new wire whose sockets live in `scope`. */
  readonly connect: (scope: Scope.Scope) => Effect.Effect<Wire, Http1Error>
  /** Called once the pool has no socket and no waiter left (the client may forget it). */
  readonly onEmpty?: ((pool: OriginPool) => void) | undefined
}

/** The pool's record of one connection: its wire and the pool's own bookkeeping. */
export class PooledConnection {
  /** When the last exchange finished (Clock ms), for idle time. */
  idleSince: number
  /** Idle time allowed by the server's `Keep-Alive: timeout=` hint, when it gave one. */
  keepAliveMs: number | undefined = undefined
  /** Exchanges lent out on it whose callers still hold it. */
  leases = 0
  /** Carries an exchange others must not be pipelined behind. */
  exclusive = false
  /** Closed by the pool; later releases of it are ignored. */
  retired = false
  /** How responses on this connection give it back (one object per connection, not per request). */
  readonly owner: ResponseOwner

  constructor(
    readonly wire: Wire,
    readonly scope: Scope.CloseableScope,
    /** When the socket was opened (Clock ms), for max lifetime. */
    readonly openedAt: number,
    pool: OriginPool
  ) {
    this.idleSince = openedAt
    this.owner = { release: () => pool.release(this), discard: (_wire, ex) => pool.discard(this, ex) }
  }
}

/** The request a pool error is about (method, host, port), for its message. */
export interface RequestContext {
  readonly method: string
  readonly host: string
  readonly port: number
}

/** A connection lent to one exchange. */
export interface Lease {
  readonly conn: PooledConnection
  readonly pool: OriginPool
  /** The connection has served before (or carries other requests). */
  readonly reused: boolean
  /** The request joins others in flight on this connection (HTTP/1.1 pipelining). */
  readonly pipelined: boolean
}

/** What a waiter is handed: a connection already lent to it, or a free slot to open a socket in. */
type Handover = { readonly _tag: "lease"; readonly lease: Lease } | { readonly _tag: "slot" }

const SLOT: Handover = { _tag: "slot" }

interface Waiter {
  readonly resume: (handover: Handover) => void
  /** May join a busy connection (pipelining). */
  readonly pipelinable: boolean
  /** Must get a new socket (a retry after a kept-alive one failed): never handed a used one. */
  readonly fresh: boolean
}

export class OriginPool {
  private readonly idle: Array<PooledConnection> = []
  private readonly waiters: Array<Waiter> = []
  /** Connections lent out, for pipelining onto them. */
  private readonly active = new Set<PooledConnection>()
  private sweeping = false
  /** Sockets open or being opened. */
  open = 0
  closed = false

  constructor(
    private readonly scope: Scope.Scope,
    private readonly clock: Clock.Clock,
    readonly options: OriginPoolOptions
  ) {}

  get idleCount(): number {
    return this.idle.length
  }

  get pendingCount(): number {
    return this.waiters.length
  }

  /** Nothing open, nothing waiting: the pool holds no resource. */
  get empty(): boolean {
    return this.open === 0 && this.waiters.length === 0
  }

  private now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  private idleLimit(pc: PooledConnection): number {
    return pc.keepAliveMs ?? this.options.maxIdleTimeMs
  }

  /** Whether an idle connection may carry another exchange now. */
  private usable(pc: PooledConnection, now: number): boolean {
    const o = this.options
    if (!pc.wire.reusable) return false
    if (now - pc.idleSince >= this.idleLimit(pc)) return false
    if (o.maxLifetimeMs !== undefined && now - pc.openedAt >= o.maxLifetimeMs) return false
    if (o.maxRequestsPerConnection !== undefined && pc.wire.conn.served >= o.maxRequestsPerConnection) return false
    return true
  }

  /** Closes a connection's sockets (its scope) without touching the slot count. Idempotent. */
  private retire(pc: PooledConnection): Effect.Effect<boolean> {
    return Effect.suspend(() => {
      if (pc.retired) return Effect.succeed(false)
      pc.retired = true
      pc.wire.poison("retired by the pool")
      this.active.delete(pc)
      const i = this.idle.indexOf(pc)
      if (i >= 0) this.idle.splice(i, 1)
      return Effect.as(Scope.close(pc.scope, Exit.void), true)
    })
  }

  /** Closes a connection and frees its slot (once). */
  private destroy(pc: PooledConnection): Effect.Effect<void> {
    return Effect.flatMap(this.retire(pc), (first) => (first ? this.freeSlot : Effect.void))
  }

  /** Opens a new connection for a slot already counted in `open`. */
  private openNew: Effect.Effect<Lease, Http1Error> = Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Scope.fork(this.scope, ExecutionStrategy.sequential), (child) =>
      restore(this.options.connect(child)).pipe(
        Effect.matchCauseEffect({
          onFailure: (cause) => Effect.zipRight(Effect.zipRight(Scope.close(child, Exit.void), this.freeSlot), Effect.failCause(cause)),
          onSuccess: (wire) => Effect.succeed(this.lend(new PooledConnection(wire, child, this.now(), this), false, false))
        })
      )
    )
  )

  /** A slot became free: hand it to the next waiter (who opens a new socket), or just count it. */
  private get freeSlot(): Effect.Effect<void> {
    return Effect.sync(() => {
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter.resume(SLOT)
      else {
        this.open--
        this.checkEmpty()
      }
    })
  }

  private checkEmpty(): void {
    if (this.empty && this.options.onEmpty !== undefined) this.options.onEmpty(this)
  }

  /** Marks a connection as carrying one more exchange. */
  private lend(pc: PooledConnection, reused: boolean, pipelined: boolean): Lease {
    pc.leases++
    this.active.add(pc)
    return { conn: pc, pool: this, reused, pipelined }
  }

  /** The busy connection with the fewest requests in flight that can take one more, if any. */
  private pipelineTarget(): PooledConnection | undefined {
    let best: PooledConnection | undefined
    for (const pc of this.active) {
      if (pc.retired || pc.exclusive || pc.leases >= this.options.pipelining || !pc.wire.canSend(true)) continue
      if (best === undefined || pc.leases < best.leases) best = pc
    }
    return best
  }

  /** Hands a shareable busy connection to queued pipelinable requests while it has room. */
  private servePipelined(pc: PooledConnection): void {
    if (this.options.pipelining <= 1 || pc.exclusive || pc.retired) return
    for (let i = 0; i < this.waiters.length && pc.leases < this.options.pipelining && pc.wire.canSend(true); ) {
      const waiter = this.waiters[i]!
      if (!waiter.pipelinable || waiter.fresh) {
        i++
        continue
      }
      this.waiters.splice(i, 1)
      waiter.resume({ _tag: "lease", lease: this.lend(pc, true, true) })
    }
  }

  /**
   * A connection for one exchange: an idle one (LIFO), a new one while under the limit, or a
   * place in the queue (bounded by `queueTimeoutMs`); `PoolExhausted` when the queue is full.
   * `fresh` skips idle sockets.
   */
  acquire(fresh = false, pipelinable = false, where?: RequestContext): Effect.Effect<Lease, Http1Error> {
    if (this.options.pipelining <= 1) return this.acquireConn(fresh, false, where)
    return Effect.map(this.acquireConn(fresh, pipelinable, where), (lease) => {
      if (lease.pipelined) return lease
      lease.conn.exclusive = !pipelinable
      // A new or reused connection that may be shared can take queued requests right away.
      if (pipelinable) this.servePipelined(lease.conn)
      return lease
    })
  }

  /**
   * The synchronous part of {@link acquire}: the idle connection on top of the stack when it is
   * usable as it is (no pipelining, nothing to close first), else `undefined` (use `acquire`).
   */
  tryAcquire(fresh: boolean): Lease | undefined {
    if (fresh || this.closed || this.options.pipelining > 1) return undefined
    const pc = this.idle[this.idle.length - 1]
    if (pc === undefined || !this.usable(pc, this.now())) return undefined
    this.idle.pop()
    return this.lend(pc, true, false)
  }

  private acquireConn(fresh: boolean, pipelinable: boolean, where: RequestContext | undefined): Effect.Effect<Lease, Http1Error> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(new PoolExhausted({ origin: this.options.origin, maxPending: 0 }))
      if (!fresh) {
        const now = this.now()
        while (this.idle.length > 0) {
          const pc = this.idle.pop()!
          if (this.usable(pc, now)) return Effect.succeed(this.lend(pc, true, false))
          // Stale (idle too long, closed or written to by the server while idle): close it, go on.
          return Effect.zipRight(this.destroy(pc), this.acquireConn(false, pipelinable, where))
        }
      } else if (this.open >= this.options.maxConnections && this.idle.length > 0) {
        // Make room for a fresh socket by retiring the oldest idle one (its slot goes to us).
        const oldest = this.idle.shift()!
        return Effect.zipRight(this.retire(oldest), Effect.suspend(() => this.openNew))
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
      return this.wait(pipelinable, fresh, where)
    })
  }

  /**
   * Waits in the queue. The wait is interruptible and bounded; what is handed over is never lost:
   * after the hand-over the rest runs uninterruptibly, and an interruption (or the queue timeout)
   * that races the hand-over gives it back.
   */
  private wait(pipelinable: boolean, fresh: boolean, where: RequestContext | undefined): Effect.Effect<Lease, Http1Error> {
    const queueMs = this.options.queueTimeoutMs
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        // In the queue now (synchronously), so the next acquire counts this waiter.
        let handed: Handover | undefined
        let wake: ((h: Effect.Effect<Handover>) => void) | undefined
        const waiter: Waiter = {
          resume: (h) => {
            handed = h
            wake?.(Effect.succeed(h))
          },
          pipelinable,
          fresh
        }
        this.waiters.push(waiter)
        const waiting = Effect.async<Handover>((resume) => {
          if (handed !== undefined) return resume(Effect.succeed(handed))
          wake = resume
        })
        const leave = Effect.suspend(() => {
          const i = this.waiters.indexOf(waiter)
          if (i >= 0) this.waiters.splice(i, 1)
          const h = handed
          handed = undefined
          if (h !== undefined) return this.giveBack(h)
          this.checkEmpty()
          return Effect.void
        })
        const bounded =
          queueMs === undefined
            ? waiting
            : Effect.timeoutFail(waiting, {
                duration: Duration.millis(queueMs),
                onTimeout: () => this.queueTimeout(queueMs, where)
              })
        return Effect.flatMap(
          Effect.onExit(restore(bounded), (exit) => (Exit.isSuccess(exit) ? Effect.sync(() => (handed = undefined)) : leave)),
          (h) => (h._tag === "lease" ? Effect.succeed(h.lease) : restore(this.openNew))
        )
      })
    )
  }

  private queueTimeout(ms: number, where: RequestContext | undefined): TimeoutError {
    const state = `pool ${this.options.origin}: ${this.open} open, ${this.idle.length} idle, ${this.waiters.length} pending, ${this.options.maxConnections} max`
    return new TimeoutError({ phase: "connect", timeoutMs: ms, detail: `queued for a connection; ${state}`, ...where })
  }

  /** Returns a hand-over its waiter could not take (interrupted as it was handed over). */
  private giveBack(h: Handover): Effect.Effect<void> {
    return h._tag === "lease" ? this.release(h.lease.conn) : this.freeSlot
  }

  /**
   * An exchange on `pc` ended cleanly (or its lease went unused). A connection nobody else holds
   * goes to the next waiter or on top of the idle stack if the core and the pool's policies allow;
   * anything else is closed and its slot freed.
   */
  release(pc: PooledConnection): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (pc.retired) return Effect.void
      pc.leases--
      const wire = pc.wire
      if (this.closed || wire.conn.reuse._tag === "Poisoned") return this.destroy(pc)
      // Others are still in flight on this connection: it stays lent out, and may take a queued request.
      if (pc.leases > 0) {
        this.servePipelined(pc)
        return Effect.void
      }
      this.active.delete(pc)
      const now = this.now()
      pc.idleSince = now
      if (!this.usable(pc, now)) return this.destroy(pc)
      const waiter = this.waiters.shift()
      if (waiter !== undefined) {
        // A waiter that must have a new socket gets this one's slot instead.
        if (waiter.fresh) return Effect.zipRight(this.retire(pc), Effect.sync(() => waiter.resume(SLOT)))
        pc.exclusive = false
        waiter.resume({ _tag: "lease", lease: this.lend(pc, true, false) })
        return Effect.void
      }
      this.idle.push(pc)
      return this.sweepLater
    })
  }

  /** An exchange on `pc` failed or was given up: abandoned in the core; closed unless others wait on it. */
  discard(pc: PooledConnection, ex: Exchange | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (pc.retired) return Effect.void
      const others = ex === undefined ? false : pc.wire.abandon(ex)
      pc.leases--
      if (!others || pc.leases <= 0 || pc.wire.conn.reuse._tag === "Poisoned") return this.destroy(pc)
      return Effect.void
    })
  }

  /** Starts the sweeper if it is not running: it retires idle sockets as their idle time runs out. */
  private get sweepLater(): Effect.Effect<void> {
    if (this.sweeping) return Effect.void
    this.sweeping = true
    // Interruptible even when released from an uninterruptible region (forks inherit it).
    return Effect.asVoid(Effect.forkIn(Effect.interruptible(this.sweep), this.scope))
  }

  /** Sleeps (on the client's Clock) until the first idle socket expires, retires the expired, repeats. */
  private get sweep(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.idle.length === 0 || this.closed) {
        this.sweeping = false
        return Effect.void
      }
      const now = this.now()
      let next = Number.POSITIVE_INFINITY
      const expired: Array<PooledConnection> = []
      for (const pc of this.idle) {
        const at = this.expiry(pc)
        if (at <= now || !pc.wire.reusable) expired.push(pc)
        else if (at < next) next = at
      }
      const retire = Effect.forEach(expired, (pc) => this.destroy(pc), { discard: true })
      if (next === Number.POSITIVE_INFINITY) return Effect.zipRight(retire, this.sweep)
      return Effect.zipRight(retire, Effect.zipRight(this.clock.sleep(Duration.millis(next - now)), this.sweep))
    })
  }

  /** When an idle connection must be retired (idle time or lifetime, whichever is first). */
  private expiry(pc: PooledConnection): number {
    const idleEnd = pc.idleSince + this.idleLimit(pc)
    const life = this.options.maxLifetimeMs
    return life === undefined ? idleEnd : Math.min(idleEnd, pc.openedAt + life)
  }

  /** Closes every idle socket and stops lending (the client's scope is closing). */
  get shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      const idle = this.idle.splice(0)
      return Effect.forEach(idle, (pc) => this.destroy(pc), { discard: true })
    })
  }
}
