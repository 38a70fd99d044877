/**
 * Markdown tables and number formatting for the benchmark report.
 */

export type Cell = string | number | undefined

/** A markdown table: the first column left-aligned, the others right-aligned. */
export const markdownTable = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string => {
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])))
  const widths = headers.map((h, i) => Math.max(h.length, 3, ...text.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`
  const rule = `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")} |`
  return [line(headers), rule, ...text.map(line)].join("\n")
}

const cellText = (c: Cell): string => (c === undefined ? "—" : typeof c === "number" ? fmtNum(c) : c)

/** 12,345 for big numbers, 3 significant digits for small ones. */
export const fmtNum = (n: number): string => {
  if (!Number.isFinite(n)) return String(n)
  const a = Math.abs(n)
  if (a >= 1000) return Math.round(n).toLocaleString("en-US")
  if (a >= 100) return n.toFixed(0)
  if (a >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

/** `a / b` as `1.23×`. */
export const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? "—" : `${(a / b).toFixed(2)}×`

/** A section of the report: a heading, a table and notes under it. */
export interface Section {
  readonly title: string
  readonly table: string
  readonly notes?: ReadonlyArray<string> | undefined
}

export const renderSection = (s: Section): string =>
  [`### ${s.title}`, "", s.table, ...(s.notes !== undefined && s.notes.length > 0 ? ["", ...s.notes.map((n) => `- ${n}`)] : [])].join("\n")
