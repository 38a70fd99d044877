/**
 * Loopback servers for the pooled client's tests: a raw TCP server scripted per request, and a
 * small forward proxy (absolute-form and CONNECT). Every server counts its sockets so tests can
 * check that nothing leaks, and is closed by the test that started it.
 */
import * as net from "node:net"

export interface RawServer {
  readonly port: number
  readonly url: string
  /** Sockets accepted so far. */
  accepted(): number
  /** Sockets open now. */
  open(): number
  /** Request heads received, in order (Latin-1). */
  readonly heads: Array<string>
  /** Bodies received with Content-Length, in order (Latin-1). */
  readonly bodies: Array<string>
  close(): Promise<void>
}

/** What the handler does with one request: the bytes to write, or an action. */
export type RawAnswer =
  | string
  | { readonly write?: string; readonly end?: boolean; readonly destroy?: boolean; readonly stall?: boolean; readonly delayMs?: number }

/**
 * A server that reads request heads (and Content-Length bodies) and answers each with what
 * `handler(head, index, socketIndex)` returns. Bodies with `Transfer-Encoding: chunked` are read
 * to their last chunk.
 */
export const rawServer = (handler: (head: string, index: number, socket: net.Socket & { index: number }) => RawAnswer): Promise<RawServer> =>
  new Promise((resolve) => {
    let accepted = 0
    let count = 0
    const sockets = new Set<net.Socket>()
    const heads: Array<string> = []
    const bodies: Array<string> = []
    const server = net.createServer((raw) => {
      const socket = raw as net.Socket & { index: number }
      socket.index = accepted++
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => {})
      let buf = Buffer.alloc(0)
      let stalled = false
      socket.on("data", (d) => {
        buf = Buffer.concat([buf, d])
        while (!stalled) {
          const end = buf.indexOf("\r\n\r\n")
          if (end < 0) return
          const head = buf.subarray(0, end + 4).toString("latin1")
          let rest = buf.subarray(end + 4)
          const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head)
          let body = ""
          if (cl !== null) {
            const n = Number(cl[1])
            if (rest.length < n) return
            body = rest.subarray(0, n).toString("latin1")
            rest = rest.subarray(n)
          } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
            const last = rest.indexOf("\r\n0\r\n\r\n")
            const first = rest.indexOf("0\r\n\r\n")
            const stop = first === 0 ? 5 : last >= 0 ? last + 7 : -1
            if (stop < 0) return
            body = rest.subarray(0, stop).toString("latin1")
            rest = rest.subarray(stop)
          }
          buf = rest
          heads.push(head)
          bodies.push(body)
          const answer = handler(head, count++, socket)
          const act = () => {
            if (typeof answer === "string") socket.write(answer)
            else {
              if (answer.write !== undefined) socket.write(answer.write)
              if (answer.destroy === true) socket.destroy()
              else if (answer.end === true) socket.end()
            }
          }
          if (typeof answer !== "string" && answer.stall === true) {
            stalled = true
            return
          }
          if (typeof answer !== "string" && answer.delayMs !== undefined) setTimeout(act, answer.delayMs)
          else act()
        }
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        accepted: () => accepted,
        open: () => sockets.size,
        heads,
        bodies,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })

/** `HTTP/1.1 200 OK` with a Content-Length body. */
export const ok = (body: string, extra = ""): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

export interface ProxyServer {
  readonly port: number
  readonly url: string
  /** Request heads the proxy received (absolute-form requests and CONNECTs). */
  readonly requests: Array<string>
  open(): number
  close(): Promise<void>
}

/**
 * A forward proxy: absolute-form requests are relayed to their origin over a new socket each;
 * CONNECT opens a tunnel. `authorization`, when set, must match `Proxy-Authorization` (else 407).
 */
export const proxyServer = (authorization?: string): Promise<ProxyServer> =>
  new Promise((resolve) => {
    const sockets = new Set<net.Socket>()
    const requests: Array<string> = []
    const server = net.createServer((client) => {
      sockets.add(client)
      client.on("close", () => sockets.delete(client))
      client.on("error", () => {})
      let buf = Buffer.alloc(0)
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        const end = buf.indexOf("\r\n\r\n")
        if (end < 0) return
        client.off("data", onData)
        const head = buf.subarray(0, end + 4).toString("latin1")
        const rest = buf.subarray(end + 4)
        requests.push(head)
        if (authorization !== undefined && !head.includes(`Proxy-Authorization: ${authorization}\r\n`)) {
          client.end("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
          return
        }
        const [method, target] = head.split(" ")
        let host: string
        let port: number
        if (method === "CONNECT") {
          const i = target!.lastIndexOf(":")
          host = target!.slice(0, i).replace(/^\[|\]$/g, "")
          port = Number(target!.slice(i + 1))
        } else {
          const u = new URL(target!)
          host = u.hostname
          port = Number(u.port || 80)
        }
        const upstream = net.connect(port, host)
        sockets.add(upstream)
        upstream.on("close", () => sockets.delete(upstream))
        upstream.on("error", () => client.destroy())
        client.on("close", () => upstream.destroy())
        upstream.on("connect", () => {
          if (method === "CONNECT") client.write("HTTP/1.1 200 Connection established\r\n\r\n")
          else upstream.write(buf)
          if (method === "CONNECT" && rest.length > 0) upstream.write(rest)
          client.pipe(upstream)
          upstream.pipe(client)
        })
      }
      client.on("data", onData)
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        requests,
        open: () => sockets.size,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })

/** Waits (at most `ms`) until `cond` holds. */
export const eventually = async (cond: () => boolean, ms = 2000): Promise<boolean> => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (cond()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return cond()
}
