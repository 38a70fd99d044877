/**
 * The CLI's pure parts: the exit-code table (every library error in exactly one row, and the
 * README shows the same table), the error line, durations, the command-line checks, percentiles
 * and the progress bar's layout.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Http1Error } from "../../src/index.js"
import { toSettings, type Parsed } from "../../src/cli/args.js"
import { parseDurationMs } from "../../src/cli/duration.js"
import { errorLine, exitCodeOf, exitTable, exitTableMarkdown, HttpStatusError, UsageError } from "../../src/cli/errors.js"
import { quantile } from "../../src/cli/load.js"
import { ProgressBar } from "../../src/cli/progress.js"
import { repo } from "./harness.js"

describe("exit codes", () => {
  it("every Http1Error tag is in exactly one row; codes are distinct per row", () => {
    const rowsOf = (tag: string) => exitTable.filter((r) => r.tags.some((t) => t === tag || t.startsWith(`${tag} (`)))
    for (const tag of Http1Error.tags) {
      const rows = rowsOf(tag)
      // InvalidHeader is split by side: one row each.
      expect(rows.length, tag).toBe(tag === "InvalidHeader" ? 2 : 1)
    }
    const codes = exitTable.map((r) => r.code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it("maps errors to their group's code", () => {
    expect(exitCodeOf(new Http1Error.IncompleteRead({ partial: new Uint8Array(0), expected: 3 }))).toBe(18)
    expect(exitCodeOf(new Http1Error.ConnectError({ host: "h", port: 1, cause: null }))).toBe(7)
    expect(exitCodeOf(new Http1Error.TimeoutError({ phase: "body", timeoutMs: 1 }))).toBe(28)
    expect(exitCodeOf(new Http1Error.InvalidHeader({ side: "request", header: "a b", reason: "x" }))).toBe(2)
    expect(exitCodeOf(new Http1Error.InvalidHeader({ side: "response", header: "a b", reason: "x" }))).toBe(8)
    expect(exitCodeOf(new Http1Error.TlsError({ host: "h", port: 1, reason: "r" }))).toBe(35)
    expect(exitCodeOf(new HttpStatusError({ status: 500, reason: "" }))).toBe(22)
    expect(exitCodeOf(new UsageError({ reason: "r" }))).toBe(2)
    expect(exitCodeOf(new Http1Error.DecodeError({ reason: "r" }))).toBe(1)
  })

  it("the README shows the table as the code has it", () => {
    expect(readFileSync(join(repo, "README.md"), "utf8")).toContain(exitTableMarkdown())
  })
})

describe("error line", () => {
  const where = { method: "GET", host: "127.0.0.1", port: 8080 }
  it("IncompleteRead: bytes seen of the total, or unfinished chunked", () => {
    const e = new Http1Error.IncompleteRead({ partial: new Uint8Array(0), expected: 60, method: "GET", host: "127.0.0.1", port: 8080 })
    expect(errorLine(e, { ...where, bodyBytes: 40 })).toBe("IncompleteRead: 40 of 100 body bytes, then the server closed [GET 127.0.0.1:8080]")
    const c = new Http1Error.IncompleteRead({ partial: new Uint8Array(0), expected: undefined })
    expect(errorLine(c, { ...where, bodyBytes: 7 })).toBe("IncompleteRead: 7 body bytes (chunked body unfinished), then the server closed [GET 127.0.0.1:8080]")
  })

  it("the peer that failed is named when it is a proxy; IPv6 hosts in brackets", () => {
    const e = new Http1Error.ConnectError({ host: "10.0.0.1", port: 3128, cause: null, code: "ECONNREFUSED" })
    expect(errorLine(e, where)).toBe("ConnectError: ECONNREFUSED, phase connect [GET 127.0.0.1:8080 via 10.0.0.1:3128]")
    const v6 = new Http1Error.ConnectError({ host: "::1", port: 80, cause: null, code: "ECONNREFUSED" })
    expect(errorLine(v6, { method: "GET", host: "::1", port: 80 })).toBe("ConnectError: ECONNREFUSED, phase connect [GET [::1]:80]")
  })

  it("other errors: the library's message, its own location replaced by ours, body bytes when any", () => {
    const e = new Http1Error.InvalidChunk({ reason: "bad size", seen: "zz", method: "GET", host: "127.0.0.1", port: 8080 })
    expect(errorLine(e, { ...where, bodyBytes: 10 })).toBe('InvalidChunk: Invalid chunked encoding: bad size near "zz" (after 10 body bytes) [GET 127.0.0.1:8080]')
    const t = new Http1Error.TimeoutError({ phase: "body", timeoutMs: 500, bytesReceived: 1234 })
    expect(errorLine(t, where)).toBe("TimeoutError: phase body, limit 500 ms, 1234 response bytes seen [GET 127.0.0.1:8080]")
  })
})

describe("command line", () => {
  const base: Parsed = {
    positional: ["http://h/"],
    request: Option.none(),
    header: [],
    data: [],
    dataBinary: [],
    json: [],
    head: false,
    compressed: false,
    location: false,
    maxRedirs: 50,
    proxy: Option.none(),
    proxyFromEnv: false,
    noProxyFromEnv: false,
    cacert: Option.none(),
    insecure: false,
    unixSocket: Option.none(),
    connectTimeout: Option.none(),
    maxTime: Option.none(),
    retry: 0,
    output: Option.none(),
    remoteName: false,
    include: false,
    silent: false,
    showError: false,
    verbose: false,
    fail: false,
    repeat: Option.none(),
    concurrency: 1,
    duration: Option.none()
  }
  const ok = (p: Partial<Parsed>) => Either.getOrThrow(toSettings({ ...base, ...p }))
  const bad = (p: Partial<Parsed>) => Either.match(toSettings({ ...base, ...p }), { onLeft: (e) => e.reason, onRight: () => "accepted" })

  it("method: -X, else the positional one, else HEAD for -I, POST with a body, GET", () => {
    expect(ok({}).method).toBe("GET")
    expect(ok({ positional: ["delete", "http://h/"] }).method).toBe("DELETE")
    expect(ok({ request: Option.some("PUT"), data: ["a"] }).method).toBe("PUT")
    expect(ok({ head: true }).method).toBe("HEAD")
    expect(ok({ data: ["a"] }).method).toBe("POST")
    expect(ok({ positional: ["127.0.0.1:8080/x"] }).url).toBe("http://127.0.0.1:8080/x")
  })

  it("refuses what cannot run", () => {
    expect(bad({ data: ["a"], json: ["{}"] })).toBe("use one of -d, --data-binary and --json")
    expect(bad({ head: true, data: ["a"] })).toBe("-I (HEAD) takes no request body")
    expect(bad({ concurrency: 4 })).toBe("--concurrency needs --repeat or --duration")
    expect(bad({ repeat: Option.some(0) })).toBe("--repeat must be 1 or more")
    expect(bad({ remoteName: true, positional: ["http://h/"] })).toBe('-O: the URL "http://h/" has no file name')
    expect(bad({ positional: ["-z", "http://h/"] })).toBe("unknown option -z (see --help)")
    expect(bad({ positional: ["GE T", "http://h/"] })).toBe('"GE T" is not a method')
    expect(bad({ maxTime: Option.some("0") })).toMatch(/^--max-time "0" is not a duration/)
  })

  it("load mode and redirects", () => {
    expect(ok({ repeat: Option.some(10), concurrency: 3 }).load).toEqual({ repeat: 10, durationMs: undefined, concurrency: 3 })
    expect(ok({ duration: Option.some("2s") }).load).toEqual({ repeat: undefined, durationMs: 2000, concurrency: 1 })
    expect(ok({}).followRedirects).toBe(0)
    expect(ok({ location: true, maxRedirs: 7 }).followRedirects).toBe(7)
    expect(ok({}).proxyFromEnv).toBe(true)
    expect(ok({ noProxyFromEnv: true }).proxyFromEnv).toBe(false)
  })

  it("durations: bare numbers are seconds", () => {
    expect(parseDurationMs("2")).toBe(2000)
    expect(parseDurationMs("0.5")).toBe(500)
    expect(parseDurationMs("250ms")).toBe(250)
    expect(parseDurationMs("1m")).toBe(60_000)
    expect(parseDurationMs("soon")).toBeUndefined()
    expect(parseDurationMs("-1")).toBeUndefined()
  })
})

describe("load report and progress", () => {
  it("percentiles are nearest-rank", () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1)
    expect([quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99), quantile(sorted, 1)]).toEqual([50, 90, 99, 100])
    expect(quantile(Float64Array.of(7), 0.99)).toBe(7)
  })

  it("the bar: percent, bytes of total and ETA; a spinner without a total", () => {
    const out: Array<string> = []
    const bar = new ProgressBar({ write: (t) => out.push(t), columns: 100 }, 2048)
    bar.add(1024)
    expect(bar.render(Date.now() + 1000)).toMatch(/^\[#{10,20} {10,20}\]  50% 1\.0 KiB \/ 2\.0 KiB {2}[\d.]+ (B|KiB)\/s {2}ETA 00:0\d$/)
    bar.finish()
    expect(out.at(-1)).toBe("\n")
    const spin = new ProgressBar({ write: () => {}, columns: 80 }, undefined)
    spin.add(5000)
    expect(spin.render(Date.now() + 1000)).toMatch(/^[|/\\-] 4\.9 KiB {2}[\d.]+ KiB\/s$/)
  })
})
