/**
 * Helpers for tests of HttpConnection over `Transport.layerMock`: shared by the mock suites.
 */
import { expect } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { type HttpConnection, Transport } from "../../src/index.js"

/** Bytes as Latin-1 text. */
export const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1")

/** The failure of `effect`; a success is a test failure (never handed to vitest as a value). */
export const fails = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, Error, R> =>
  Effect.flip(effect).pipe(Effect.catchAll(() => Effect.fail(new Error("expected a failure, got a success"))))

/**
 * Runs `f` in its own scope against a mock peer scripted with `replies`, then checks that every
 * connection was closed; returns the peer for more assertions.
 */
export const withMock = <A, E>(
  replies: ReadonlyArray<Transport.MockReplyInput>,
  f: (peer: Transport.MockPeerService) => Effect.Effect<A, E, Transport.Transport | Scope.Scope>,
  options?: Transport.MockOptions
) =>
  Effect.gen(function* () {
    const peer = yield* Transport.MockPeer
    yield* Effect.scoped(f(peer))
    expect(peer.openConnections()).toBe(0)
    return peer
  }).pipe(Effect.provide(Transport.layerMock(replies, options)))

/** `request("GET", url)` then `getResponse`. */
export const get = (conn: HttpConnection.HttpConnection, url = "/", options?: HttpConnection.RequestOptions) =>
  Effect.zipRight(conn.request("GET", url, options), conn.getResponse)
