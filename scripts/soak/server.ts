/**
 * The soak's fault-injecting server: a raw node:net server on 127.0.0.1 that reads request heads
 * (and skips Content-Length bodies), answers the requests of one connection in order (so
 * pipelined requests are answered in turn), and does to each what its path says:
 * `/soak/<fault>/<id>/<size>` (see `faults.ts`). It echoes the request's `x-id` header in an
 * `x-id` response header and the path's id in the body.
 *
 * It counts its sockets, so the soak can tell how many the client left open; `close()` clears
 * every timer and destroys every socket.
 */
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import { expectedBody, FAULTS, type Fault } from "./faults.js"

/** How the late bytes after a bodiless response look. */
export type LateShape =
  /** A complete, well-formed response with another id: a client that reads it as the next response hands a caller someone else's answer. */
  | "response"
  /** Plain body bytes (what a broken server usually sends): the next exchange on the socket sees garbage. */
  | "body"

export interface SoakServerOptions {
  /** Shape of the bytes sent after a 204 / HEAD response. */
  readonly lateShape: LateShape
  /**
   * 0: the late bytes go out in the same write as the bodiless response (a client sees them
   * together with it). More: in a write of their own, 0 to this many ms later (racing the next
   * request on the socket).
   */
  readonly lateDelayMs: number
  /** The client's `headersTimeout`, to time the trickled heads. */
  readonly headersTimeoutMs: number
  /** Random source (the server's choices: delays, split points). */
  readonly random: () => number
}

export interface SoakServer {
  readonly port: number
  /** Sockets accepted so far. */
  readonly accepted: () => number
  /** Sockets open now. */
  readonly open: () => number
  /** Requests received. */
  readonly requests: () => number
  /** Requests whose `x-id` header did not match the id in their path (a client that garbles requests). */
  readonly garbled: () => number
  /** Requests the server did not understand. */
  readonly unknown: () => number
  /** How many times each request id arrived (a client retries some), for ids that arrived more than once. */
  /**
   * What the server did with request `id`, for diagnosing a failure: never received, answered at
   * once, or held behind another request / on a connection that had stopped answering.
   */
  readonly whatHappened: (id: string) => string
  readonly repeats: () => ReadonlyMap<string, { readonly n: number; readonly fault: Fault | undefined }>
  readonly close: () => Promise<void>
}

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1")
const faultSet: ReadonlySet<string> = new Set(FAULTS)

interface Request {
  readonly method: string
  readonly fault: Fault | undefined
  readonly id: string
  readonly xid: string
  readonly size: number
}

const parseHead = (head: string): Request => {
  const lineEnd = head.indexOf("\r\n")
  const line = head.slice(0, lineEnd < 0 ? head.length : lineEnd)
  const [method = "", target = ""] = line.split(" ")
  const m = /^\/soak\/([A-Za-z0-9]+)\/([^/]+)\/(\d+)$/.exec(target)
  const xid = /\r\nx-id:[ \t]*([^\r\n]*?)[ \t]*\r\n/i.exec(head)?.[1] ?? ""
  if (m === null || !faultSet.has(m[1]!)) return { method, fault: undefined, id: "", xid, size: 0 }
  return { method, fault: m[1] as Fault, id: decodeURIComponent(m[2]!), xid, size: Number(m[3]) }
}

export const startSoakServer = (options: SoakServerOptions): Promise<SoakServer> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>()
    const timers = new Set<ReturnType<typeof setTimeout>>()
    let accepted = 0
    let requests = 0
    let garbled = 0
    let unknown = 0
    let closing = false
    const seen = new Set<string>()
    const repeats = new Map<string, { n: number; fault: Fault | undefined }>()
    /** Requests that were not answered as soon as they arrived, and why (bounded). */
    const held = new Map<string, string>()
    const hold = (id: string, why: string) => {
      if (held.size < 100_000) held.set(id, why)
    }
    const random = options.random

    /** setTimeout that `close()` clears. */
    const later = (ms: number, f: () => void): void => {
      const t = setTimeout(() => {
        timers.delete(t)
        if (!closing) f()
      }, ms)
      timers.add(t)
    }
    const sleep = (ms: number) => new Promise<void>((r) => later(ms, r))

    const server = net.createServer((socket) => {
      accepted++
      sockets.add(socket)
      socket.setNoDelay(true)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => {})
      let buf: Buffer = Buffer.alloc(0)
      const queue: Array<Request> = []
      let busy = false
      /** The connection will answer nothing more (stalled, reset, closed). */
      let dead = false
      /** The request being answered, and the last one (to explain requests held behind them). */
      let current: Request | undefined
      let last: Request | undefined
      const connection = accepted

      const write = (data: string | Buffer): boolean => {
        if (socket.destroyed || !socket.writable) return false
        socket.write(data)
        return true
      }
      const reset = () => {
        dead = true
        if (!socket.destroyed) socket.resetAndDestroy()
      }

      const okHead = (r: Request, body: string, extra = "") =>
        `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: text/plain\r\nx-id: ${r.xid}\r\n${extra}\r\n`

      const lateBytes = (r: Request): string => {
        const bogus = `late-${r.id}`
        const body = expectedBody(bogus, 16)
        return options.lateShape === "response"
          ? `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nx-id: ${bogus}\r\n\r\n${body}`
          : body
      }

      /** Answers one request; resolves when the connection may answer the next one. */
      const answer = async (r: Request): Promise<void> => {
        const body = expectedBody(r.id, r.size)
        switch (r.fault) {
          case undefined: {
            unknown++
            write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            dead = true
            socket.end()
            return
          }
          case "ok":
          case "head":
          case "idleClose": {
            write(okHead(r, body) + (r.method === "HEAD" ? "" : body))
            if (r.fault === "idleClose") {
              later(Math.floor(random() * 20), () => {
                // Only while idle: the keep-alive timeout of a server, racing the client's next request.
                if (!busy && queue.length === 0) {
                  dead = true
                  socket.destroy()
                }
              })
            }
            return
          }
          case "okChunked": {
            const b = Buffer.from(body, "latin1")
            const cut = Math.floor(random() * b.length)
            const chunk = (p: Buffer) => (p.length === 0 ? "" : `${p.length.toString(16)}\r\n${p.toString("latin1")}\r\n`)
            write(
              `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-id: ${r.xid}\r\n\r\n` +
                chunk(b.subarray(0, cut)) +
                chunk(b.subarray(cut)) +
                "0\r\n\r\n"
            )
            return
          }
          case "okClose": {
            dead = true
            write(`HTTP/1.1 200 OK\r\nConnection: close\r\nx-id: ${r.xid}\r\n\r\n${body}`)
            socket.end()
            return
          }
          case "slow": {
            await sleep(Math.floor(random() * 30))
            const b = Buffer.from(okHead(r, body) + body, "latin1")
            const cuts = [0, Math.floor(random() * b.length), Math.floor(random() * b.length), b.length].sort((x, y) => x - y)
            for (let i = 0; i < 3; i++) {
              if (!write(b.subarray(cuts[i], cuts[i + 1]))) return
              if (i < 2) await sleep(5 + Math.floor(random() * 10))
            }
            return
          }
          case "trickleFast":
          case "trickleSlow": {
            const head = Buffer.from(okHead(r, body), "latin1")
            const pieces = 10
            const totalMs = r.fault === "trickleFast" ? options.headersTimeoutMs * 0.2 : options.headersTimeoutMs * 2.5
            const step = Math.ceil(head.length / pieces)
            for (let i = 0; i < head.length; i += step) {
              if (!write(head.subarray(i, i + step))) return
              await sleep(totalMs / pieces)
            }
            write(r.method === "HEAD" ? "" : body)
            return
          }
          case "resetBeforeHead":
            reset()
            return
          case "closeBeforeHead":
            dead = true
            socket.end()
            return
          case "resetMidBody": {
            const b = body + "x".repeat(64) // at least 64 bytes, so that half a body is not empty
            const half = b.slice(0, Math.floor(b.length / 2))
            write(`HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\nx-id: ${r.xid}\r\n\r\n${half}`)
            await sleep(Math.floor(random() * 5))
            reset()
            return
          }
          case "stallHead":
            dead = true
            return
          case "stallBody": {
            const b = body + "x".repeat(64)
            write(`HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\nx-id: ${r.xid}\r\n\r\n${b.slice(0, b.length >> 1)}`)
            dead = true
            return
          }
          case "late204":
          case "lateHead": {
            const late = lateBytes(r)
            const head =
              r.fault === "late204"
                ? `HTTP/1.1 204 No Content\r\nx-id: ${r.xid}\r\n\r\n`
                : `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(late)}\r\nx-id: ${r.xid}\r\n\r\n`
            if (options.lateDelayMs <= 0) {
              write(head + late)
              return
            }
            write(head)
            // The next response waits for the late bytes, so that they come first on the socket.
            await sleep(random() * options.lateDelayMs)
            write(late)
            return
          }
          case "garbage": {
            write("SPDY/9 banana\r\nthis is not http\r\n\r\n")
            dead = true
            return
          }
        }
      }

      const pump = (): void => {
        if (busy || dead) return
        const r = queue.shift()
        if (r === undefined) return
        busy = true
        current = r
        answer(r).then(
          () => {
            busy = false
            last = current
            current = undefined
            pump()
          },
          () => {
            busy = false
            reset()
          }
        )
      }

      socket.on("data", (d: Buffer) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d])
        while (true) {
          const end = buf.indexOf(CRLFCRLF)
          if (end < 0) break
          const head = buf.toString("latin1", 0, end + 4)
          const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head)
          const n = cl === null ? 0 : Number(cl[1])
          if (buf.length < end + 4 + n) break
          buf = buf.subarray(end + 4 + n)
          const r = parseHead(head)
          requests++
          if (r.fault !== undefined && r.xid !== r.id) garbled++
          if (seen.has(r.id)) repeats.set(r.id, { n: (repeats.get(r.id)?.n ?? 1) + 1, fault: r.fault })
          else seen.add(r.id)
          queue.push(r)
          const tag = (x: Request | undefined) => (x === undefined ? "?" : `${x.id} (${x.fault ?? "unknown"})`)
          if (dead) hold(r.id, `received on connection #${connection}, which had stopped answering after ${tag(current ?? last)}`)
          else if (busy) hold(r.id, `received on connection #${connection} while it was answering ${tag(current)}`)
        }
        pump()
      })
    })
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        port,
        accepted: () => accepted,
        open: () => sockets.size,
        requests: () => requests,
        garbled: () => garbled,
        unknown: () => unknown,
        repeats: () => repeats,
        whatHappened: (id) => held.get(id) ?? (seen.has(id) ? "answered as it arrived" : "never received"),
        close: () =>
          new Promise<void>((done) => {
            closing = true
            for (const t of timers) clearTimeout(t)
            timers.clear()
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })
