/**
 * The benchmark server: a raw node:net loopback server that parses only request boundaries
 * (requests have no bodies: it splits on CRLF CRLF) and answers
 *
 * - any path: a canned small response (`Hello, world!`, Content-Length: 13), pipelined requests
 *   answered in one write;
 * - `/big/<n>`: `n` bytes of body with a Content-Length, written in 1 MiB slices with backpressure
 *   (requests that arrive meanwhile wait their turn).
 *
 * `forkServer()` runs it in a child process (`fork` with `--import tsx`) so that client and server
 * do not share an event loop; `startServer()` runs it in this process.
 */
import { fork, type ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import * as net from "node:net"
import * as tls from "node:tls"
import type { AddressInfo } from "node:net"
import { fileURLToPath } from "node:url"

export const CANNED = Buffer.from(
  "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!",
  "latin1"
)
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1")
const BIG_PREFIX = Buffer.from("/big/", "latin1")
const SLICE = Buffer.alloc(1 << 20, 0x78)

/** Up to this many canned answers are precomputed as one buffer for pipelined requests. */
const cannedTimes: Array<Buffer> = [Buffer.alloc(0)]
for (let i = 1; i <= 64; i++) cannedTimes.push(Buffer.concat(Array.from({ length: i }, () => CANNED)))

/** The test CA (trusted by the TLS clients) and the server certificate for 127.0.0.1 / localhost. */
const cert = (name: string): string => readFileSync(fileURLToPath(new URL(`../../test/fixtures/certs/${name}`, import.meta.url)), "latin1")
export const TLS_CA: string = cert("ca.pem")

export interface RunningServer {
  readonly port: number
  /** The same server over TLS (test CA, certificate for 127.0.0.1). */
  readonly tlsPort: number
  readonly close: () => Promise<void>
}

const serveConnection = (socket: net.Socket): void => {
  socket.setNoDelay(true)
  socket.on("error", () => {})
  let pending: Buffer | undefined
  let busy = false

  const bigBody = (n: number): void => {
    busy = true
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\nContent-Type: application/octet-stream\r\n\r\n`)
    let left = n
    const pump = (): void => {
      while (left > 0) {
        const size = Math.min(left, SLICE.length)
        left -= size
        const ok = socket.write(size === SLICE.length ? SLICE : SLICE.subarray(0, size))
        if (!ok && left > 0) {
          socket.once("drain", pump)
          return
        }
      }
      busy = false
      serve()
    }
    pump()
  }

  const serve = (): void => {
    if (pending === undefined || socket.destroyed) return
    let buf: Buffer = pending
    let small = 0
    while (true) {
      const end = buf.indexOf(CRLFCRLF)
      if (end < 0) break
      // Request line: METHOD SP target SP version
      const sp = buf.indexOf(0x20)
      const isBig = sp >= 0 && sp < end && buf.compare(BIG_PREFIX, 0, BIG_PREFIX.length, sp + 1, sp + 1 + BIG_PREFIX.length) === 0
      if (isBig) {
        if (small > 0) {
          writeSmall(small)
          small = 0
        }
        const sp2 = buf.indexOf(0x20, sp + 1)
        const n = Number(buf.toString("latin1", sp + 1 + BIG_PREFIX.length, sp2 < 0 || sp2 > end ? end : sp2))
        buf = buf.subarray(end + 4)
        pending = buf.length === 0 ? undefined : buf
        // The rest is served when the body has been written (bigBody calls serve again).
        return bigBody(Number.isFinite(n) && n >= 0 ? n : 0)
      } else {
        small++
        buf = buf.subarray(end + 4)
      }
    }
    if (small > 0) writeSmall(small)
    pending = buf.length === 0 ? undefined : buf
  }

  const writeSmall = (count: number): void => {
    while (count > 0) {
      const k = Math.min(count, 64)
      socket.write(cannedTimes[k]!)
      count -= k
    }
  }

  socket.on("data", (chunk: Buffer) => {
    pending = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    if (!busy) serve()
  })
}

/** Starts the server in this process on 127.0.0.1, port 0. */
export const startServer = (): Promise<RunningServer> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>()
    const onSocket = (socket: net.Socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      serveConnection(socket)
    }
    const server = net.createServer(onSocket)
    const tlsServer = tls.createServer({ cert: cert("server.pem"), key: cert("server-key.pem") }, onSocket)
    tlsServer.on("tlsClientError", () => {})
    server.once("error", reject)
    tlsServer.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      tlsServer.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        const tlsPort = (tlsServer.address() as AddressInfo).port
        resolve({
          port,
          tlsPort,
          close: () =>
            new Promise<void>((done) => {
              for (const s of sockets) s.destroy()
              tlsServer.close(() => server.close(() => done()))
            })
        })
      })
    })
  })

/** Starts the server in a child process (`node --import tsx servers.ts`); resolves with its port. */
export const forkServer = (): Promise<RunningServer> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, BENCH_SERVER_CHILD: "1" },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error("bench server child did not start within 15 s"))
    }, 15_000)
    child.once("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once("message", (m: unknown) => {
      clearTimeout(timer)
      const { port, tlsPort } = m as { port?: number; tlsPort?: number }
      if (typeof port !== "number" || typeof tlsPort !== "number") return reject(new Error(`unexpected message from server child: ${JSON.stringify(m)}`))
      resolve({
        port,
        tlsPort,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done()
            const kill = setTimeout(() => child.kill("SIGKILL"), 2_000)
            child.once("exit", () => {
              clearTimeout(kill)
              done()
            })
            child.disconnect()
          })
      })
    })
  })

// Child entry: start, report the port, exit when the parent disconnects.
if (process.env.BENCH_SERVER_CHILD === "1" && typeof process.send === "function") {
  startServer().then(
    (server) => {
      process.send!({ port: server.port, tlsPort: server.tlsPort })
      process.once("disconnect", () => {
        void server.close().then(() => process.exit(0))
      })
    },
    (e: unknown) => {
      console.error("bench server failed to start:", e)
      process.exit(1)
    }
  )
}
