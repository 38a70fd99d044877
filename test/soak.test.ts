/**
 * A CI-sized soak (10 s of requests): the pooled client with `pipelining: 1` and `4` and the
 * `PlatformHttpClient`, 16 callers each, against fault-injecting loopback servers
 * (scripts/soak/). No response may answer another request, no failure may be untyped, no request
 * may outlive its watchdog, no head trickled past `headersTimeout` may be accepted, and no socket
 * may stay open once the clients' scopes closed. `npm run soak` runs the same for 60 s.
 */
import { describe, expect, it } from "vitest"
import { renderReport } from "../scripts/soak/report.js"
import { runSoak } from "../scripts/soak/run.js"

describe("soak", () => {
  it(
    "10 s of faults through all three clients: no wrong response, defect, hang or leaked socket",
    async () => {
      const result = await runSoak({ durationMs: 10_000 })
      // The table in the test output when something is off.
      if (!result.passed) console.error(renderReport(result, { byFault: true }))
      expect(result.totals.wrong).toBe(0)
      expect(result.totals.defects).toBe(0)
      expect(result.totals.hangs).toBe(0)
      expect(result.totals.slowHeadsAccepted).toBe(0)
      expect(result.totals.garbledRequests).toBe(0)
      expect(result.totals.socketsOpenAtEnd).toBe(0)
      expect(result.passed).toBe(true)
      expect(result.totals.ok).toBeGreaterThan(100)
      for (const c of result.clients) expect(c.ok, `${c.client}: requests completed`).toBeGreaterThan(10)
    },
    40_000
  )

  it(
    "the harness: healthy responses only, nothing interrupted: every client completes them all",
    async () => {
      const result = await runSoak({
        durationMs: 1_500,
        faultWeights: { ok: 80, okChunked: 10, okClose: 3, head: 5, slow: 2 },
        actionWeights: { read: 9, stream: 1 },
        // Healthy answers need no timeout at all; generous ones keep a loaded machine's stalls
        // (seen: 1.5 s with the load average at 12) from counting as failures.
        headersTimeoutMs: 5_000,
        bodyTimeoutMs: 5_000,
        timeoutMs: 8_000,
        watchdogMs: 12_000
      })
      if (!result.passed || result.totals.failed > 0) console.error(renderReport(result, { byFault: true }))
      expect(result.totals.wrong).toBe(0)
      expect(result.totals.defects).toBe(0)
      expect(result.totals.hangs).toBe(0)
      expect(result.totals.socketsOpenAtEnd).toBe(0)
      // Nothing fails here but on a machine too loaded to answer within the timeouts.
      expect(result.totals.ok).toBeGreaterThanOrEqual(result.totals.requests * 0.99)
      // Enough requests to have met every fault; how many fit in 1.5 s is the machine's business.
      expect(result.totals.ok).toBeGreaterThan(30)
    },
    30_000
  )

  it(
    "the harness: a request that outlives the watchdog is counted as a hang, and the run still ends",
    async () => {
      // Client timeouts far away, a 300 ms watchdog, servers that stop answering.
      const result = await runSoak({
        durationMs: 600,
        clients: ["pool"],
        concurrency: 2,
        faultWeights: { stallHead: 1 },
        actionWeights: { read: 1 },
        headersTimeoutMs: 60_000,
        bodyTimeoutMs: 60_000,
        timeoutMs: 60_000,
        watchdogMs: 300
      })
      expect(result.totals.hangs).toBeGreaterThan(0)
      expect(result.totals.wrong).toBe(0)
      expect(result.totals.socketsOpenAtEnd).toBe(0)
      expect(result.passed).toBe(false)
    },
    20_000
  )
})
