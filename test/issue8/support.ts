/**
 * Small helpers shared by the issue-8 tests: a watchdog per test, exits checked for tagged
 * failures (never a defect), and a client layer over the real transport.
 */
import { Cause, Duration, Effect, Exit, Layer, Option, TestServices } from "effect"
import { HttpClient } from "../../src/index.js"

/** The longest any test here may run before it is failed as hung. */
export const WATCHDOG = Duration.seconds(10)

/** Fails `effect` with an `Error` when it runs past the watchdog (live clock). */
export const watchdog = <A, E, R>(effect: Effect.Effect<A, E, R>, limit: Duration.DurationInput = WATCHDOG): Effect.Effect<A, E | Error, R> =>
  Effect.timeoutFail(effect, { duration: limit, onTimeout: () => new Error("watchdog: the test hung") })

/**
 * {@link watchdog} on the real clock for `it.effect` tests (TestClock): the effect keeps the test
 * services, only the watchdog's timer is live.
 */
export const liveWatchdog = <A, E, R>(effect: Effect.Effect<A, E, R>, limit: Duration.DurationInput = WATCHDOG): Effect.Effect<A, E | Error, R> =>
  TestServices.provideWithLive(effect, (e) => watchdog(e, limit))

/** A pooled client on the real transport (plain and TLS). */
export const clientLayer = (options: HttpClient.Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  HttpClient.layerWith(options) as Layer.Layer<HttpClient.HttpClient>

/** Runs `effect` with a pooled client built from `options` and a watchdog. */
export const withClient = <A, E>(
  effect: Effect.Effect<A, E, HttpClient.HttpClient>,
  options: HttpClient.Options = {}
): Effect.Effect<A, E | Error> => watchdog(Effect.provide(effect, clientLayer(options)))

/** The client service. */
export const client = HttpClient.HttpClient

/**
 * The typed failure of an exit: fails the test (with a readable message) when the exit is a
 * success, a defect or an interruption.
 */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got a success: ${String(exit.value)}`)
  if (Cause.isDie(exit.cause)) throw new Error(`expected a tagged failure, got a defect: ${Cause.pretty(exit.cause)}`)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a tagged failure, got: ${Cause.pretty(exit.cause)}`)
  return failure.value
}

/** Latin-1 text of bytes. */
export const latin1 = (b: Uint8Array): string => Buffer.from(b).toString("latin1")

/** Milliseconds `effect` took (wall clock), with its result. */
export const timed = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<readonly [A, number], E, R> =>
  Effect.suspend(() => {
    const start = Date.now()
    return Effect.map(effect, (a) => [a, Date.now() - start] as const)
  })

/** Effect.exit of `effect`, timed (wall clock). */
export const timedExit = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<readonly [Exit.Exit<A, E>, number], never, R> =>
  timed(Effect.exit(effect))
