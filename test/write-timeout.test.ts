import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { HttpClient, HttpConnection, Transport } from "../src/index.js"

/** A server that accepts and never reads: the client's writes back up until they block. */
const deafServer = Effect.acquireRelease(
  Effect.async<{ port: number; server: net.Server; sockets: Set<net.Socket> }>((resume) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((s) => {
      sockets.add(s)
      s.pause()
      s.on("error", () => {})
      s.on("close", () => sockets.delete(s))
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ port: (server.address() as net.AddressInfo).port, server, sockets })))
  }),
  ({ server, sockets }) =>
    Effect.async<void>((resume) => {
      for (const s of sockets) s.destroy()
      server.close(() => resume(Effect.void))
    })
)

// Large enough to fill both kernel buffers and node's write buffer.
const body = new Uint8Array(32 * 1024 * 1024)

describe("write timeouts", () => {
  it.scopedLive("HttpConnection: a body the server does not read fails with TimeoutError phase write", () =>
    Effect.gen(function* () {
      const { port, sockets } = yield* deafServer
      const e = yield* Effect.flip(
        Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* HttpConnection.make({ host: "127.0.0.1", port, timeout: "300 millis" })
            yield* conn.request("POST", "/upload", { body })
          })
        ).pipe(Effect.provide(Transport.layer))
      )
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "write", timeoutMs: 300, host: "127.0.0.1", port })
      // The socket was released with the scope: once the server reads again it sees the close.
      for (const s of sockets) s.resume()
      yield* Effect.promise(async () => {
        for (let i = 0; i < 100 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20))
      })
      expect(sockets.size).toBe(0)
    }))

  it.scopedLive("HttpClient: bodyTimeout also bounds a blocked upload", () =>
    Effect.gen(function* () {
      const { port } = yield* deafServer
      const e = yield* Effect.flip(
        Effect.scoped(Effect.flatMap(HttpClient.HttpClient, (c) => c.post(`http://127.0.0.1:${port}/`, { body }))).pipe(
          Effect.provide(HttpClient.layerWith({ bodyTimeout: "300 millis" }))
        )
      )
      expect(e).toMatchObject({ _tag: "TimeoutError", phase: "write" })
    }))
})
