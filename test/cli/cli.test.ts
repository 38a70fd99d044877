/**
 * The `effect-http1` command (issue 11), built with tsc and run as a child process against
 * loopback servers: plain, TLS with the test CA, a CONNECT proxy, servers that cut bodies short,
 * stall or redirect. Each run is killed after 15 s.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync, spawn } from "node:child_process"
import * as http from "node:http"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { gzipSync } from "node:zlib"
import { join } from "node:path"
import { cannedServer, connectProxy, freePort, httpServer, httpsServer, ok } from "../helpers/servers.js"
import { baseEnv, buildCli, cli, cliInTerminal, repo, runFile, type Built, type Run } from "./harness.js"

const certs = join(repo, "test/fixtures/certs")
const serverTls = { key: readFileSync(join(certs, "server-key.pem")), cert: readFileSync(join(certs, "server.pem")) }
const caFile = join(certs, "ca.pem")

let built: Built
beforeAll(async () => {
  built = await buildCli()
}, 180_000)
afterAll(() => built?.remove())

const run = (args: ReadonlyArray<string>, options: Parameters<typeof cli>[2] = {}): Effect.Effect<Run> => Effect.promise(() => cli(built, args, options))

const hello = httpServer((req, res) => {
  res.setHeader("X-Method", req.method ?? "")
  res.end("hello\n")
})

describe("requests", () => {
  it.scoped("GET: the body on stdout, nothing on stderr (no progress bar in a pipe), exit 0", () =>
    Effect.gen(function* () {
      const server = yield* hello
      const r = yield* run([`${server.url}/`])
      expect(r).toMatchObject({ code: 0, stdout: "hello\n", stderr: "" })
    }))

  it.scoped("-v: connection events (*), request head (>) and response head (<) on stderr", () =>
    Effect.gen(function* () {
      const server = yield* hello
      const r = yield* run(["-v", `${server.url}/path?q=1`])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("hello\n")
      const lines = r.stderr.split("\n")
      expect(lines[0]).toBe(`* Connecting to 127.0.0.1:${server.port}`)
      expect(lines[1]).toMatch(new RegExp(`^\\* Connected to 127\\.0\\.0\\.1:${server.port} \\(127\\.0\\.0\\.1 port ${server.port}, local port \\d+\\), connection #\\d+$`))
      expect(lines).toContain("> GET /path?q=1 HTTP/1.1")
      expect(lines).toContain(`> Host: 127.0.0.1:${server.port}`)
      expect(lines).toContain("< HTTP/1.1 200 OK")
      expect(lines).toContain("< X-Method: GET")
      expect(lines.indexOf("> GET /path?q=1 HTTP/1.1")).toBeLessThan(lines.indexOf("< HTTP/1.1 200 OK"))
      // The request head is what the command was told to send: no trace headers.
      expect(lines.filter((l) => l.startsWith("> ")).map((l) => l.slice(2).split(":")[0]!.toLowerCase())).toEqual([
        "get /path?q=1 http/1.1", "host", "accept-encoding", "user-agent", "accept"
      ])
      expect(lines[lines.indexOf("> Accept: */*") + 1]).toBe(">")
    }))

  it.scoped("-i prints the head before the body; -I sends HEAD and prints the head only", () =>
    Effect.gen(function* () {
      const server = yield* hello
      const i = yield* run(["-i", `${server.url}/`])
      expect(i.code).toBe(0)
      expect(i.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*X-Method: GET\r\n(?:[^\r\n]+\r\n)*\r\nhello\n$/)
      const head = yield* run(["-I", `${server.url}/`])
      expect(head.code).toBe(0)
      expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(head.stdout).toContain("X-Method: HEAD\r\n")
      expect(head.stdout.endsWith("\r\n\r\n")).toBe(true)
    }))

  it.scoped("-d (joined with &, form type), --data-binary @file (bytes kept), --json, -H, -X and METHOD URL", () =>
    Effect.gen(function* () {
      const seen: Array<{ method: string; type: string; accept: string; custom: string; body: string }> = []
      const server = yield* httpServer((req, res) => {
        const parts: Array<Buffer> = []
        req.on("data", (d: Buffer) => parts.push(d))
        req.on("end", () => {
          seen.push({
            method: req.method ?? "",
            type: String(req.headers["content-type"]),
            accept: String(req.headers["accept"]),
            custom: String(req.headers["x-custom"]),
            body: Buffer.concat(parts).toString("utf8")
          })
          res.end("ok")
        })
      })
      const dir = mkdtempSync(join(tmpdir(), "cli-data-"))
      try {
        const file = join(dir, "body.txt")
        writeFileSync(file, "line1\nline2\n")
        expect((yield* run(["-d", "a=1", "-d", "b=2", `${server.url}/`])).code).toBe(0)
        expect((yield* run(["-d", `@${file}`, `${server.url}/`])).code).toBe(0)
        expect((yield* run(["--data-binary", `@${file}`, "-H", "Content-Type: text/plain", `${server.url}/`])).code).toBe(0)
        expect((yield* run(["--json", '{"x":1}', "-X", "PUT", `${server.url}/`])).code).toBe(0)
        expect((yield* run(["PATCH", `${server.url}/`, "-H", "X-Custom: yes", "-d", "@-"], { input: "from stdin" })).code).toBe(0)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      expect(seen).toEqual([
        { method: "POST", type: "application/x-www-form-urlencoded", accept: "*/*", custom: "undefined", body: "a=1&b=2" },
        { method: "POST", type: "application/x-www-form-urlencoded", accept: "*/*", custom: "undefined", body: "line1line2" },
        { method: "POST", type: "text/plain", accept: "*/*", custom: "undefined", body: "line1\nline2\n" },
        { method: "PUT", type: "application/json", accept: "application/json", custom: "undefined", body: '{"x":1}' },
        { method: "PATCH", type: "application/x-www-form-urlencoded", accept: "*/*", custom: "yes", body: "from stdin" }
      ])
    }))

  it.scoped("-o writes the body to a file (stdout stays empty); -O names it after the URL", () =>
    Effect.gen(function* () {
      const server = yield* hello
      const dir = mkdtempSync(join(tmpdir(), "cli-out-"))
      try {
        const file = join(dir, "out.bin")
        const r = yield* run(["-o", file, `${server.url}/`])
        expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" })
        expect(readFileSync(file, "utf8")).toBe("hello\n")
        const o = yield* run(["-O", `${server.url}/files/report.txt`], { cwd: dir })
        expect(o.code).toBe(0)
        expect(readFileSync(join(dir, "report.txt"), "utf8")).toBe("hello\n")
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))

  it.scoped("--compressed asks for gzip and decodes it; without it the bytes come as sent; a corrupt body exits 61", () =>
    Effect.gen(function* () {
      const text = "compressible ".repeat(200)
      const server = yield* httpServer((req, res) => {
        const gz = req.url === "/corrupt" ? Buffer.from("not gzip at all") : gzipSync(text)
        res.writeHead(200, { "Content-Encoding": "gzip", "Content-Length": gz.length, "X-Accept-Encoding": String(req.headers["accept-encoding"]) })
        res.end(gz)
      })
      const decoded = yield* run(["-i", "--compressed", `${server.url}/`])
      expect(decoded.code).toBe(0)
      expect(decoded.stdout).toContain("X-Accept-Encoding: gzip, deflate, br\r\n")
      expect(decoded.stdout.endsWith(`\r\n\r\n${text}`)).toBe(true)
      const raw = yield* run(["-i", `${server.url}/`])
      expect(raw.stdout).toContain("X-Accept-Encoding: identity\r\n")
      expect(raw.stdout).not.toContain(text)
      const corrupt = yield* run(["--compressed", `${server.url}/corrupt`])
      expect(corrupt.code).toBe(61)
      expect(corrupt.stderr).toMatch(new RegExp(`^DecompressionError: Cannot decompress the gzip response body: .* \\[GET 127\\.0\\.0\\.1:${server.port}\\]\\n$`))
    }))

  it.scoped("-L follows redirects; without it the 3xx is the answer; a loop past --max-redirs exits 47", () =>
    Effect.gen(function* () {
      const server = yield* httpServer((req, res) => {
        if (req.url === "/final") return res.end("arrived")
        res.writeHead(302, { Location: req.url === "/loop" ? "/loop" : "/final", "Content-Length": 5 }).end("moved")
      })
      const plain = yield* run([`${server.url}/start`])
      expect(plain).toMatchObject({ code: 0, stdout: "moved" })
      const followed = yield* run(["-L", "-v", `${server.url}/start`])
      expect(followed).toMatchObject({ code: 0, stdout: "arrived" })
      // The redirect's small body is drained and its keep-alive connection used again.
      const lines = followed.stderr.split("\n")
      const reuse = lines.findIndex((l) => /^\* Re-using connection #\d+ to 127\.0\.0\.1:\d+$/.test(l))
      expect(reuse).toBeGreaterThan(lines.indexOf("< HTTP/1.1 302 Found"))
      expect(lines[reuse + 1]).toBe("> GET /final HTTP/1.1")
      expect(lines.filter((l) => l.startsWith("* Connecting"))).toHaveLength(1)
      const loop = yield* run(["-L", "--max-redirs", "3", `${server.url}/loop`])
      expect(loop.code).toBe(47)
      expect(loop.stderr).toBe(`TooManyRedirects: Too many redirects (4); last Location: ${server.url}/loop [GET 127.0.0.1:${server.port}]\n`)
    }))

  it.scoped("--fail: a 404 prints no body, one error line, exit 22; without --fail exit 0", () =>
    Effect.gen(function* () {
      const server = yield* httpServer((_req, res) => res.writeHead(404, "Not Found").end("nope"))
      const failed = yield* run(["--fail", `${server.url}/missing`])
      expect(failed).toMatchObject({
        code: 22,
        stdout: "",
        stderr: `HttpStatusError: the server answered 404 Not Found (--fail) [GET 127.0.0.1:${server.port}]\n`
      })
      expect(yield* run([`${server.url}/missing`])).toMatchObject({ code: 0, stdout: "nope" })
    }))
})

describe("Unix socket", () => {
  it.scoped("--unix-socket: the request goes to the socket, the URL's host makes the Host header", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "cli-unix-"))
      const path = join(dir, "s.sock")
      yield* Effect.acquireRelease(
        Effect.async<http.Server>((resume) => {
          const server = http.createServer((req, res) => res.end(`host=${req.headers.host} url=${req.url}`))
          server.listen(path, () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.async<void>((resume) => {
            server.closeAllConnections()
            server.close(() => {
              rmSync(dir, { recursive: true, force: true })
              resume(Effect.void)
            })
          })
      )
      const r = yield* run(["--unix-socket", path, "http://localhost/containers/json"])
      expect(r).toMatchObject({ code: 0, stdout: "host=localhost url=/containers/json", stderr: "" })
      const missing = yield* run(["--unix-socket", join(dir, "none.sock"), "http://localhost/"])
      expect(missing.code).toBe(7)
      expect(missing.stderr).toBe(`ConnectError: ENOENT, phase connect (Unix socket ${join(dir, "none.sock")}) [GET localhost:80]\n`)
    }))
})

describe("failures: one line on stderr and the exit code of the table", () => {
  it.scoped("a body cut short: IncompleteRead with the bytes seen, exit 18, the partial body on stdout", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer([{ reply: `HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${"x".repeat(40)}`, close: true }])
      const r = yield* run([`${server.url}/`])
      expect(r).toMatchObject({
        code: 18,
        stdout: "x".repeat(40),
        stderr: `IncompleteRead: 40 of 100 body bytes, then the server closed [GET 127.0.0.1:${server.port}]\n`
      })
    }))

  it.scoped("a chunked body cut short: IncompleteRead without a total, exit 18", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer([{ reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", close: true }])
      const r = yield* run([`${server.url}/`])
      expect(r.code).toBe(18)
      expect(r.stderr).toBe(`IncompleteRead: 5 body bytes (chunked body unfinished), then the server closed [GET 127.0.0.1:${server.port}]\n`)
    }))

  it.effect("connection refused: ConnectError, exit 7", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(() => freePort())
      const r = yield* run([`http://127.0.0.1:${port}/`])
      expect(r).toMatchObject({ code: 7, stdout: "", stderr: `ConnectError: ECONNREFUSED, phase connect [GET 127.0.0.1:${port}]\n` })
    }))

  it.scoped("a stalled server: TimeoutError with its phase, exit 28, within the -m limit", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer([{}])
      const r = yield* run(["-m", "0.5", `${server.url}/`])
      expect(r.code).toBe(28)
      expect(r.stderr).toBe(`TimeoutError: phase total, limit 500 ms, 0 response bytes seen [GET 127.0.0.1:${server.port}]\n`)
      expect(r.ms).toBeLessThan(10_000)
    }))

  it.scoped("a malformed status line: BadStatusLine, exit 8", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer(["HTTP/1.1 OK\r\n\r\n"])
      const r = yield* run([`${server.url}/`])
      expect(r.code).toBe(8)
      expect(r.stderr).toMatch(new RegExp(`^BadStatusLine: Bad status line: "HTTP/1\\.1 OK" \\[GET 127\\.0\\.0\\.1:${server.port}\\]\\n$`))
    }))

  it.scoped("closed without a response: RemoteDisconnected, exit 56; --retry 2 tries again and succeeds", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer([{ close: true }, ok("second"), { close: true }])
      const retried = yield* run(["--retry", "2", `${server.url}/`])
      expect(retried.code).toBe(0)
      expect(retried.stdout).toBe("second")
      expect(retried.stderr).toBe("Warning: RemoteDisconnected, retrying (1 of 2)\n")
      const once = yield* run([`${server.url}/`])
      expect(once.code).toBe(56)
      expect(once.stderr).toBe(`RemoteDisconnected: Remote end closed connection without response [GET 127.0.0.1:${server.port}]\n`)
    }))

  it.scoped("-s hides the error line (the exit code stays); -sS shows it", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer([{ close: true }, { close: true }])
      expect(yield* run(["-s", `${server.url}/`])).toMatchObject({ code: 56, stderr: "" })
      const shown = yield* run(["-s", "-S", `${server.url}/`])
      expect(shown.code).toBe(56)
      expect(shown.stderr).toMatch(/^RemoteDisconnected: /)
    }))

  it.scoped("stdout closed by the reader (| head): WriteError, exit 23, no crash", () =>
    Effect.gen(function* () {
      const server = yield* httpServer((_req, res) => res.end("x".repeat(4_000_000)))
      const r = yield* Effect.promise(
        () =>
          new Promise<{ code: number | null; stderr: string }>((ok) => {
            const child = spawn(process.execPath, [built.main, `${server.url}/`], { env: baseEnv(), stdio: ["ignore", "pipe", "pipe"] })
            let stderr = ""
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
            child.stdout.once("data", () => child.stdout.destroy())
            const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
            child.on("close", (code) => {
              clearTimeout(timer)
              ok({ code, stderr })
            })
          })
      )
      expect(r.code).toBe(23)
      expect(r.stderr).toMatch(new RegExp(`^WriteError: cannot write to stdout: .*EPIPE.* \\[GET 127\\.0\\.0\\.1:${server.port}\\]\\n$`))
    }))

  it.effect("caller input: a bad option value, an unknown option, a bad header, a missing file: exit 2", () =>
    Effect.gen(function* () {
      const timeout = yield* run(["--connect-timeout", "soon", "http://127.0.0.1:1/"])
      expect(timeout).toMatchObject({ code: 2, stderr: 'UsageError: --connect-timeout "soon" is not a duration (seconds, or 500ms, 10s, 1m)\n' })
      expect(yield* run(["--no-such-option", "http://127.0.0.1:1/"])).toMatchObject({ code: 2, stderr: "UsageError: unknown option --no-such-option (see --help)\n" })
      expect((yield* run(["--retry", "many", "http://127.0.0.1:1/"])).code).toBe(2)
      expect(yield* run(["-H", "nocolon", "http://127.0.0.1:1/"])).toMatchObject({ code: 2, stderr: 'UsageError: -H "nocolon": expected "Name: value"\n' })
      const header = yield* run(["-H", "Bad Name: x", "http://127.0.0.1:1/"])
      expect(header.code).toBe(2)
      expect(header.stderr).toMatch(/^InvalidHeader: /)
      const file = yield* run(["-d", "@/nonexistent/file", "http://127.0.0.1:1/"])
      expect(file.code).toBe(2)
      expect(file.stderr).toMatch(/^UsageError: cannot read \/nonexistent\/file: ENOENT/)
      const url = yield* run(["http://127.0.0.1:99999/"])
      expect(url.code).toBe(2)
      expect(url.stderr).toMatch(/^InvalidURL: /)
    }))
})

describe("TLS", () => {
  it.scoped("--cacert: verified, the TLS version and ALPN in the -v log; without it TlsError exit 35; -k accepts", () =>
    Effect.gen(function* () {
      const server = yield* httpsServer(serverTls, (_req, res) => res.end("secure"))
      const url = `https://127.0.0.1:${server.port}/`
      const verified = yield* run(["-v", "--cacert", caFile, url])
      expect(verified.code).toBe(0)
      expect(verified.stdout).toBe("secure")
      expect(verified.stderr).toMatch(/^\* TLS TLSv1\.3 \([A-Z0-9_]+\), ALPN: http\/1\.1, certificate CN=[^,]+, verified$/m)
      const untrusted = yield* run([url])
      expect(untrusted.code).toBe(35)
      expect(untrusted.stderr).toMatch(new RegExp(`^TlsError: .*, phase handshake \\[GET 127\\.0\\.0\\.1:${server.port}\\]\\n$`))
      const insecure = yield* run(["-k", "-v", url])
      expect(insecure.code).toBe(0)
      expect(insecure.stderr).toMatch(/ALPN: http\/1\.1, .*NOT verified/)
      const missing = yield* run(["--cacert", "/nonexistent/ca.pem", url])
      expect(missing.code).toBe(2)
    }))
})

describe("proxy", () => {
  it.scoped("-x: https through a CONNECT tunnel (logged with -v), then TLS to the origin", () =>
    Effect.gen(function* () {
      const origin = yield* httpsServer(serverTls, (_req, res) => res.end("tunnelled"))
      const proxy = yield* connectProxy()
      const r = yield* run(["-v", "-x", proxy.url, "--cacert", caFile, `https://127.0.0.1:${origin.port}/`])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("tunnelled")
      expect(proxy.requests().map((q) => q.line)).toEqual([`CONNECT 127.0.0.1:${origin.port} HTTP/1.1`])
      const lines = r.stderr.split("\n")
      expect(lines[0]).toBe(`* Connecting to 127.0.0.1:${proxy.port}`)
      expect(lines).toContain(`> CONNECT 127.0.0.1:${origin.port} HTTP/1.1`)
      expect(lines.some((l) => /^< HTTP\/1\.1 200 /.test(l))).toBe(true)
      expect(lines.some((l) => /^\* TLS TLSv1\.[23] .*verified$/.test(l))).toBe(true)
      expect(lines).toContain("> GET / HTTP/1.1")
    }))

  it.scoped("HTTP_PROXY from the environment is used (absolute-form); --no-proxy-from-env goes direct", () =>
    Effect.gen(function* () {
      const origin = yield* hello
      const proxy = yield* connectProxy()
      const env = baseEnv({ HTTP_PROXY: proxy.url })
      const via = yield* run([`${origin.url}/x`], { env })
      expect(via).toMatchObject({ code: 0, stdout: "hello\n" })
      expect(proxy.requests().map((q) => q.line)).toEqual([`GET ${origin.url}/x HTTP/1.1`])
      const direct = yield* run(["--no-proxy-from-env", `${origin.url}/y`], { env })
      expect(direct).toMatchObject({ code: 0, stdout: "hello\n" })
      expect(proxy.requests()).toHaveLength(1)
    }))

  it.scoped("a proxy that refuses CONNECT: TunnelError, exit 5", () =>
    Effect.gen(function* () {
      const proxy = yield* connectProxy({ status: 403, reason: "Forbidden" })
      const r = yield* run(["-x", proxy.url, "https://127.0.0.1:9/"])
      expect(r.code).toBe(5)
      expect(r.stderr).toMatch(/^TunnelError: Tunnel connection failed: 403 Forbidden/)
    }))
})

describe("load mode", () => {
  it.scoped("--repeat N --concurrency C: req/s, percentiles, histogram, status counts, sockets opened", () =>
    Effect.gen(function* () {
      const server = yield* hello
      const r = yield* run(["--repeat", "60", "--concurrency", "3", `${server.url}/`])
      expect(r.code).toBe(0)
      expect(r.stderr).toBe("")
      const out = r.stdout
      expect(out).toMatch(new RegExp(`^GET ${server.url}/: 60 requests, concurrency 3, `))
      expect(out).toMatch(/^requests\/s: \d+\.\d$/m)
      expect(out).toMatch(/^latency: p50 [\d.]+ m?s {2}p90 [\d.]+ m?s {2}p99 [\d.]+ m?s {2}max [\d.]+ m?s$/m)
      // Histogram rows: the counts add up to the requests.
      const counts = [...out.matchAll(/^ +[\d.]+ m?s – [\d.]+ m?s +█* (\d+)$/gm)].map((m) => Number(m[1]))
      expect(counts.reduce((a, b) => a + b, 0)).toBe(60)
      expect(out).toMatch(/^status: 200 × 60$/m)
      expect(out).toMatch(/^errors: none$/m)
      const sockets = Number(/^sockets opened: (\d+) \(open at the end: \d+\)$/m.exec(out)?.[1])
      expect(sockets).toBe(server.connections())
      expect(sockets).toBeGreaterThanOrEqual(1)
      expect(sockets).toBeLessThanOrEqual(3)
      expect(out).toMatch(/^client CPU: \d+ µs per request, \d+% of one core$/m)
    }))

  it.scoped("errors are counted by tag, and the exit code is the most frequent one's", () =>
    Effect.gen(function* () {
      const server = yield* cannedServer((_head, i) =>
        i % 2 === 0 ? { reply: `HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc`, close: true } : ok("fine", "Connection: close\r\n")
      )
      const r = yield* run(["--repeat", "6", `${server.url}/`])
      expect(r.code).toBe(18)
      expect(r.stdout).toMatch(/^status: 200 × 3$/m)
      expect(r.stdout).toMatch(/^errors: IncompleteRead × 3$/m)
      expect(r.stdout).toMatch(/^sockets opened: 6 /m)
    }))

  it.scoped("--duration runs for about that long", () =>
    Effect.gen(function* () {
      const server = yield* hello
      const r = yield* run(["--duration", "700ms", "--concurrency", "2", `${server.url}/`])
      expect(r.code).toBe(0)
      const m = /: (\d+) requests, concurrency 2, ([\d.]+) (m?s)$/m.exec(r.stdout)
      expect(m).not.toBeNull()
      expect(Number(m![1])).toBeGreaterThan(0)
      const ms = Number(m![2]) * (m![3] === "s" ? 1000 : 1)
      expect(ms).toBeGreaterThanOrEqual(700)
      expect(ms).toBeLessThan(5000)
    }))
})

/** util-linux `script`, for a pseudo-terminal. */
const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore", timeout: 5000 })
    return true
  } catch {
    return false
  }
})()

/** A download in three pieces 150 ms apart, with Content-Length (or chunked on /chunked). */
const slowDownload = httpServer((req, res) => {
  const piece = "x".repeat(100_000)
  if (req.url === "/chunked") {
    res.write(piece)
    setTimeout(() => res.end(piece), 150)
    return
  }
  res.setHeader("Content-Length", piece.length * 3)
  let sent = 0
  const timer = setInterval(() => {
    res.write(piece)
    if (++sent === 3) {
      clearInterval(timer)
      res.end()
    }
  }, 150)
  res.on("close", () => clearInterval(timer))
})

describe("progress bar", () => {
  it.scoped.skipIf(!hasScript)("on a terminal: bytes, percent, rate and ETA with Content-Length, drawn with \\r; the body in the file", () =>
    Effect.gen(function* () {
      const server = yield* slowDownload
      const dir = mkdtempSync(join(tmpdir(), "cli-progress-"))
      try {
        const file = join(dir, "out.bin")
        const r = yield* Effect.promise(() => cliInTerminal(built, ["-o", file, `${server.url}/`]))
        expect(r.code).toBe(0)
        expect(r.stdout).toMatch(/\r\[#* *\] +\d+% [\d.]+ KiB \/ 293\.0 KiB +[\d.]+ [KMG]?i?B\/s +ETA \d\d:\d\d/)
        expect(r.stdout).toMatch(/\r\[#+\] 100% 293\.0 KiB \/ 293\.0 KiB .*ETA 00:00\x1b\[K\r?\n/)
        expect(readFileSync(file).length).toBe(300_000)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))

  it.scoped.skipIf(!hasScript)("on a terminal, a chunked body: a spinner and the byte count", () =>
    Effect.gen(function* () {
      const server = yield* slowDownload
      const dir = mkdtempSync(join(tmpdir(), "cli-progress-"))
      try {
        const r = yield* Effect.promise(() => cliInTerminal(built, ["-o", join(dir, "out.bin"), `${server.url}/chunked`]))
        expect(r.code).toBe(0)
        expect(r.stdout).toMatch(/\r[|/\\-] 195\.3 KiB +[\d.]+ [KMG]?i?B\/s\x1b\[K/)
        expect(r.stdout).not.toContain("ETA")
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))

  it.scoped.skipIf(!hasScript)("none under -s on a terminal, none when the body goes to the same terminal, none in a pipe", () =>
    Effect.gen(function* () {
      const server = yield* slowDownload
      const dir = mkdtempSync(join(tmpdir(), "cli-progress-"))
      try {
        const silent = yield* Effect.promise(() => cliInTerminal(built, ["-s", "-o", join(dir, "a.bin"), `${server.url}/`]))
        expect(silent).toMatchObject({ code: 0, stdout: "" })
        const toTerminal = yield* Effect.promise(() => cliInTerminal(built, [`${server.url}/chunked`]))
        expect(toTerminal.code).toBe(0)
        expect(toTerminal.stdout).toMatch(/^x{200000}$/)
        const piped = yield* run(["-o", join(dir, "b.bin"), `${server.url}/`])
        expect(piped).toMatchObject({ code: 0, stdout: "", stderr: "" })
        expect(readFileSync(join(dir, "b.bin")).length).toBe(300_000)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))
})

describe("packaging", () => {
  it("the built file starts with the shebang, and package.json's bin points at it", () => {
    expect(readFileSync(built.main, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true)
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { bin?: Record<string, string> }
    expect(pkg.bin).toEqual({ "effect-http1": "./dist/cli/main.js" })
    expect(existsSync(join(built.dir, pkg.bin!["effect-http1"]!))).toBe(true)
  })

  it.scoped("npx effect-http1 -v URL runs the package's own bin from the package root", () =>
    Effect.gen(function* () {
      const server = yield* hello
      const r = yield* Effect.promise(() =>
        runFile("npx", ["--offline", "effect-http1", "-v", `${server.url}/`], { cwd: built.dir, timeoutMs: 60_000, env: baseEnv({ npm_config_update_notifier: "false" }) })
      )
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("hello\n")
      expect(r.stderr).toContain("> GET / HTTP/1.1")
    }), 90_000)

  /** The module URLs a child process resolves while it imports `entry` (a resolve hook logs them). */
  const loadedBy = (entry: string, args: ReadonlyArray<string> = []): Promise<ReadonlyArray<string>> => {
    const dir = mkdtempSync(join(tmpdir(), "cli-loaded-"))
    const log = join(dir, "loaded.txt")
    writeFileSync(log, "")
    writeFileSync(
      join(dir, "hooks.mjs"),
      `import { appendFileSync } from "node:fs"\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r }\n`
    )
    writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module"\nregister("./hooks.mjs", import.meta.url)\n`)
    return runFile(process.execPath, ["--import", join(dir, "register.mjs"), entry, ...args], { timeoutMs: 30_000 }).then((r) => {
      const loaded = readFileSync(log, "utf8").split("\n").filter((l) => l !== "")
      rmSync(dir, { recursive: true, force: true })
      if (loaded.length === 0) throw new Error(`nothing logged: ${r.stderr}`)
      return loaded
    })
  }
  const cliModules = (urls: ReadonlyArray<string>) => urls.filter((u) => /@effect\/(cli|platform-node|printer)|\/dist\/cli\//.test(u))

  it("importing the built library loads neither the CLI nor @effect/cli, @effect/platform-node, @effect/printer", async () => {
    const entry = join(built.dir, "importer.mjs")
    writeFileSync(entry, `const m = await import(${JSON.stringify(join(built.dir, "dist/index.js"))})\nif (typeof m.HttpClient.make !== "function") process.exit(3)\n`)
    const loaded = await loadedBy(entry)
    expect(loaded.some((u) => u.endsWith("/dist/HttpClient.js"))).toBe(true)
    expect(cliModules(loaded)).toEqual([])
    // The same check sees them when the command runs.
    const command = await loadedBy(built.main, ["--version"])
    expect(cliModules(command).some((u) => u.includes("@effect/cli"))).toBe(true)
  }, 60_000)
})
