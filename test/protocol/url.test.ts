import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { InvalidURL } from "../../src/Http1Error.js"
import { isInvalidURL, isValidPort, parseHostPort, parseUrl, validateHost } from "../../src/protocol/url.js"

const ok = <A>(r: A | InvalidURL): A => {
  if (r instanceof InvalidURL) throw new Error(`unexpected InvalidURL: ${r.message}`)
  return r
}

describe("parseHostPort (Python _get_hostport)", () => {
  it("Python test_host_port valid cases", () => {
    const cases: Array<[string, string, number]> = [
      ["[fe80::207:e9ff:fe9b]:8000", "fe80::207:e9ff:fe9b", 8000],
      ["www.python.org:80", "www.python.org", 80],
      ["www.python.org:", "www.python.org", 80],
      ["www.python.org", "www.python.org", 80],
      ["[fe80::207:e9ff:fe9b]", "fe80::207:e9ff:fe9b", 80],
      ["[fe80::207:e9ff:fe9b]:", "fe80::207:e9ff:fe9b", 80]
    ]
    for (const [hp, host, port] of cases) expect(parseHostPort(hp, undefined, 80), hp).toEqual({ host, port })
  })

  it("Python test_host_port invalid cases: nonnumeric port", () => {
    for (const hp of ["www.python.org:abc", "user:password@www.python.org"]) {
      const e = parseHostPort(hp, undefined, 80)
      expect(e).toBeInstanceOf(InvalidURL)
      expect((e as InvalidURL).reason).toMatch(/^nonnumeric port: '/)
    }
    expect((parseHostPort("www.python.org:abc", undefined, 80) as InvalidURL).reason).toBe("nonnumeric port: 'abc'")
  })

  it("uses the default port given", () => {
    expect(parseHostPort("example.com", undefined, 443)).toEqual({ host: "example.com", port: 443 })
    expect(parseHostPort("example.com:", undefined, 443)).toEqual({ host: "example.com", port: 443 })
    expect(parseHostPort("example.com:8443", undefined, 443)).toEqual({ host: "example.com", port: 8443 })
  })

  it("an explicit port wins and the host is only unbracketed", () => {
    expect(parseHostPort("example.com", 8080, 80)).toEqual({ host: "example.com", port: 8080 })
    expect(parseHostPort("::1", 8080, 80)).toEqual({ host: "::1", port: 8080 })
    expect(parseHostPort("[::1]", 8080, 80)).toEqual({ host: "::1", port: 8080 })
    expect(parseHostPort("127.0.0.1", 0, 80)).toEqual({ host: "127.0.0.1", port: 0 })
    expect(parseHostPort("h", 65535, 80)).toEqual({ host: "h", port: 65535 })
  })

  it("a bare IPv6 address without brackets is the whole host (documented difference)", () => {
    expect(parseHostPort("::1", undefined, 80)).toEqual({ host: "::1", port: 80 })
    expect(parseHostPort("fe80::1%eth0", undefined, 80)).toEqual({ host: "fe80::1%eth0", port: 80 })
    expect(parseHostPort("2001:db8::8080", undefined, 443)).toEqual({ host: "2001:db8::8080", port: 443 })
  })

  it("ports: digits only, 0..65535", () => {
    expect(parseHostPort("h:0", undefined, 80)).toEqual({ host: "h", port: 0 })
    expect(parseHostPort("h:65535", undefined, 80)).toEqual({ host: "h", port: 65535 })
    expect(parseHostPort("h:0080", undefined, 80)).toEqual({ host: "h", port: 80 })
    for (const hp of ["h:65536", "h:99999999999999999999", "[::1]:70000"]) {
      expect((parseHostPort(hp, undefined, 80) as InvalidURL).reason, hp).toMatch(/out of range/)
    }
    for (const hp of ["h:+80", "h:-1", "h: 80", "h:80 ", "h:8_0", "h:0x50", "h:1e3", "h:\u0668\u0660", "[::1]:x"]) {
      expect((parseHostPort(hp, undefined, 80) as InvalidURL).reason, hp).toMatch(/^nonnumeric port/)
    }
    for (const p of [-1, 65536, 1.5, NaN, Infinity]) {
      expect(parseHostPort("h", p, 80), String(p)).toBeInstanceOf(InvalidURL)
    }
  })

  it("refuses bad hosts (CVE-2019-18348 and friends)", () => {
    for (const hp of ["", ":80", "[]", "[]:80", "h\r\n:80", "h\r\nX-Injected: 1", "a b", "a\tb", "a\x00", "a\x7f", "b\u00fccher.de", "\u4f8b.jp:80", "a/b", "a?b", "a#b", "a\\b", "[::1", "::1]", "[[::1]]", "h:80:81", "[h:1]:80", "g::1"]) {
      const r = parseHostPort(hp, undefined, 80)
      expect(r, JSON.stringify(hp)).toBeInstanceOf(InvalidURL)
      expect(isInvalidURL(r)).toBe(true)
    }
  })

  it("property: host:port round-trips for valid names and ports", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/)
    const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join("."))
    fc.assert(
      fc.property(host, fc.integer({ min: 0, max: 65535 }), (h, p) => {
        expect(parseHostPort(`${h}:${p}`, undefined, 80)).toEqual({ host: h, port: p })
        expect(parseHostPort(`[::${p.toString(16)}]:${p}`, undefined, 80)).toEqual({ host: `::${p.toString(16)}`, port: p })
      })
    )
  })
})

describe("validateHost / isValidPort", () => {
  it("accepts names, IPv4, IPv6 with zone, underscores", () => {
    for (const h of ["example.com", "127.0.0.1", "::1", "fe80::1%eth0", "my_host.local", "xn--bcher-kva.de", "localhost"]) {
      expect(validateHost(h), h).toBeUndefined()
    }
  })
  it("names the original input in the error", () => {
    expect(validateHost("a b", "[a b]:80")?.url).toBe("[a b]:80")
  })
  it("isValidPort", () => {
    expect([0, 80, 65535].map(isValidPort)).toEqual([true, true, true])
    expect([-1, 65536, 0.5, NaN].map(isValidPort)).toEqual([false, false, false, false])
  })
})

describe("parseUrl", () => {
  it("http and https, default ports, target and origin", () => {
    expect(ok(parseUrl("http://example.com"))).toEqual({
      scheme: "http",
      host: "example.com",
      port: 80,
      defaultPort: 80,
      target: "/",
      origin: "http://example.com"
    })
    expect(ok(parseUrl("https://Example.COM:8443/a/b?x=1&y=2#frag"))).toEqual({
      scheme: "https",
      host: "example.com",
      port: 8443,
      defaultPort: 443,
      target: "/a/b?x=1&y=2",
      origin: "https://example.com:8443"
    })
    expect(ok(parseUrl("https://example.com:443/")).port).toBe(443)
    expect(ok(parseUrl("https://example.com:443/")).origin).toBe("https://example.com")
    expect(ok(parseUrl("http://example.com:80/")).origin).toBe("http://example.com")
    expect(ok(parseUrl("HTTP://example.com/")).scheme).toBe("http")
  })

  it("targets: query kept, empty query kept, fragment dropped, path normalised", () => {
    expect(ok(parseUrl("http://h?q")).target).toBe("/?q")
    expect(ok(parseUrl("http://h/p?")).target).toBe("/p?")
    expect(ok(parseUrl("http://h/p#")).target).toBe("/p")
    expect(ok(parseUrl("http://h/p?a#b?c")).target).toBe("/p?a")
    expect(ok(parseUrl("http://h/a/../b/./c")).target).toBe("/b/c")
    expect(ok(parseUrl("http://h/caf\u00e9?q=\u00e9")).target).toBe("/caf%C3%A9?q=%C3%A9")
    expect(ok(parseUrl("http://h/a%20b")).target).toBe("/a%20b")
  })

  it("IPv6 literals: host without brackets, origin with", () => {
    const u = ok(parseUrl("http://[::1]:8080/x"))
    expect(u.host).toBe("::1")
    expect(u.port).toBe(8080)
    expect(u.origin).toBe("http://[::1]:8080")
  })

  it("non-ASCII hosts are punycoded by WHATWG URL", () => {
    expect(ok(parseUrl("http://b\u00fccher.de/")).host).toBe("xn--bcher-kva.de")
  })

  it("userinfo, percent-decoded, only when present", () => {
    expect(ok(parseUrl("http://user:p%40ss@h/")).userinfo).toEqual({ username: "user", password: "p@ss" })
    expect(ok(parseUrl("http://user@h/")).userinfo).toEqual({ username: "user", password: "" })
    expect("userinfo" in ok(parseUrl("http://h/"))).toBe(false)
    expect(parseUrl("http://user:%E0@h/")).toBeInstanceOf(InvalidURL)
  })

  it("refuses control characters and whitespace anywhere in the raw input", () => {
    for (const url of [
      "http://h/a b",
      " http://h/",
      "http://h/ ",
      "http://h/\t",
      "http://h/a\tb",
      "http://h/\r\nX-Injected: 1",
      "http://h\n.com/",
      "http://h/\x00",
      "http://h/\x7f",
      "http://h/\u0085",
      "http://h/?q=1 HTTP/1.1\r\nX: y"
    ]) {
      const e = parseUrl(url)
      expect(e, JSON.stringify(url)).toBeInstanceOf(InvalidURL)
      expect((e as InvalidURL).reason).toMatch(/control characters or whitespace/)
    }
  })

  it("refuses backslashes, unsupported schemes, relative URLs, missing hosts, bad ports", () => {
    for (const url of [
      "http://evil.com\\@good.com/",
      "http:\\\\h/",
      "ftp://h/",
      "file:///etc/passwd",
      "ws://h/",
      "javascript:alert(1)",
      "/relative",
      "h/path",
      "",
      "http://",
      "http://:80/",
      "http://h:65536/",
      "http://h:abc/",
      "http://[::1/"
    ]) {
      expect(parseUrl(url), JSON.stringify(url)).toBeInstanceOf(InvalidURL)
    }
    expect((parseUrl("ftp://h/") as InvalidURL).reason).toContain("unsupported scheme")
  })
})
