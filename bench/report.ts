// Turns measurements into the Markdown sections that the benchmarks print and write into
// BENCHMARKS.md (between markers, so the hand-written text around them survives a re-run): the
// parts every benchmark shares. Each benchmark adds its own targets (auth.ts, orders.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { median, type Leg, type PhaseResult } from './protocol.js';

/** A phase's result with the server's side of it. */
export interface Measured extends PhaseResult {
  /** Server CPU time (user + system) per request, µs. */
  serverCpuUs: number;
  /** Server CPU time over wall time (1 = one core busy). */
  serverCpu: number;
  /** Server event-loop utilisation over the phase (1 = never idle; includes synchronous waits such as an fsync). */
  serverBusy: number;
  /** Share of all the machine's CPUs busy over the phase (server, generator, database and anything else); NaN where unknown. */
  machineBusy: number;
  /** The server's longest event-loop stall during the phase. */
  serverDelayMaxMs: number;
  /** Share of the phase the server spent in garbage-collection pauses, and the longest pause (ms). */
  serverGcShare: number;
  serverGcMaxMs: number;
}

/** One leg over its rounds; `median` is the round with the median throughput (max) or p99 (fixed rate). */
export interface LegReport {
  leg: Leg;
  rounds: Measured[];
  median: Measured;
}

export interface FixedRateReport extends LegReport {
  /** Offered rate, requests per second. */
  rate: number;
}

export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  storage: string;
  /** Two CPU-bound processes' combined speed over one alone's (see calibrate.ts). */
  parallelSpeedUp?: number;
}

export interface Settings {
  concurrency: number;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  /** Open-loop rounds at a fixed arrival rate, and their length. */
  rateRounds: number;
  rateSeconds: number;
}

export interface RunReport {
  /** fleet: two servers on one PostgreSQL database and one Redis, the load spread over both. */
  database: 'sqlite' | 'postgres' | 'fleet';
  /** Whether the server served GET /metrics, scraped every second (--metrics). */
  metrics: boolean;
  machine: Machine;
  settings: Settings;
  revision: string;
  max: LegReport[];
  /** The open-loop rounds at a fixed arrival rate. */
  atRate: FixedRateReport[];
}

export function describeMachine(storage: string): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // Not Linux: os.cpus() it is.
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: os.availableParallelism(),
    cpuModel: cpuModel.trim(),
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    storage,
  };
}

export const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
export const percent = (value: number) => `${fixed(value * 100, 1)} %`;
/** A share measured against a threshold: with a second decimal where one would show the threshold itself on the wrong side. */
export const percentAgainst = (value: number, threshold: number | undefined) =>
  threshold !== undefined && (value < threshold) !== (Number(fixed(value * 100, 1)) < threshold * 100) ? `${fixed(value * 100, 2)} %` : percent(value);
export const rate = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Median over rounds of combine(a, b) from the same round: adjacent phases share the machine's drift. */
export function pairedMedian(a: readonly number[], b: readonly number[], combine: (a: number, b: number) => number): number {
  return median(a.slice(0, b.length).map((x, i) => combine(x, b[i]!)));
}

/**
 * Which side limited a closed-loop round: the generator when its one thread was busy, the server
 * when its event loop was (CPU or synchronous waits), the machine when all its CPUs were (the
 * database server shares them), otherwise waiting (on the database's answers).
 */
export function bottleneck(m: Measured): string {
  if (m.clientCpu >= 0.9) return 'generator';
  if (m.serverBusy >= 0.9) return m.serverCpu >= 0.8 ? 'server (CPU)' : 'server (synchronous waits)';
  if (m.machineBusy >= 0.9) return 'all CPUs (the database shares them)';
  return 'neither (waiting on the database)';
}

export interface Verdict {
  check: string;
  measured: string;
  target: string;
  /** undefined: reported, but not a target for this database. */
  met: boolean | undefined;
  note: string;
}

export const allMet = (verdicts: readonly Verdict[]) => verdicts.every((v) => v.met !== false);

export function verdictTable(verdicts: readonly Verdict[]): string {
  const result = (met: boolean | undefined) => (met === undefined ? 'not a target here' : met ? '**met**' : '**missed**');
  return table(['check', 'measured', 'target', 'result', 'notes'], verdicts.map((v) => [v.check, v.measured, v.target, result(v.met), v.note]));
}

/** The section's heading and its machine, database, code and settings lines. */
function sectionHeader(report: RunReport, rateLabel: string): string[] {
  const { machine: m, settings: s } = report;
  const speedUp =
    m.parallelSpeedUp === undefined ? '' : ` Two CPU-bound processes together ran ${fixed(m.parallelSpeedUp, 2)}× as fast as one alone (2.00× would be two full cores).`;
  return [
    `### ${report.database === 'sqlite' ? 'SQLite' : report.database === 'postgres' ? 'PostgreSQL' : 'Fleet: two servers, PostgreSQL and Redis'}${report.metrics ? ', what metrics cost' : ''} — ${m.date}`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${fixed(m.memoryGiB, 1)} GiB RAM, ${m.os}, Node ${m.node}.${speedUp}`,
    `Database: ${m.storage}. Code: ${report.revision}.`,
    ...(report.metrics
      ? ['Metrics: two servers alike on the same database but for `KEYGATE_METRICS=on` at the second, whose `/metrics` is scraped every second during the measurement; the metered leg runs on it, the others on the first.']
      : []),
    `Settings: ${s.concurrency} requests in flight; warm-up ${s.warmupSeconds} s per leg; ${s.rounds} rounds of ${s.seconds} s per leg at maximum load; ${s.rateRounds} rounds of ${s.rateSeconds} s per leg at ${rateLabel}; legs alternate within each round, in the reverse order every other round.`,
  ];
}

/** An extra column: its header and its cell for a leg. */
export type Column = [header: string, cell: (leg: LegReport) => string];

/** Maximum throughput: closed loop, the median round per leg. */
function maxTable(report: RunReport, extra: readonly Column[] = []): string {
  const rows = report.max.map((l) => [
    l.leg.name,
    rate(l.median.throughput),
    l.rounds.map((r) => rate(r.throughput)).join(' / '),
    fixed(l.median.p50Ms, 2),
    fixed(l.median.p99Ms, 2),
    fixed(l.median.serverCpuUs, 0),
    fixed(l.median.clientCpuUs, 0),
    percent(l.median.serverBusy),
    percent(l.median.serverGcShare),
    percent(l.median.clientCpu),
    ...extra.map(([, cell]) => cell(l)),
  ]);
  const header = ['leg', 'req/s', 'each round', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'client CPU µs/req', 'server busy', 'server GC', 'client CPU'];
  return table([...header, ...extra.map(([name]) => name)], rows);
}

/** The open-loop rounds at a fixed arrival rate, the round with the median p99 per leg. */
function rateTable(report: RunReport): string {
  const rows = report.atRate.map((h) => [
    h.leg.name,
    rate(h.rate),
    rate(h.median.throughput),
    fixed(h.median.p50Ms, 2),
    fixed(h.median.p99Ms, 2),
    fixed(h.median.maxMs, 1),
    fixed(h.median.lagP99Ms ?? NaN, 2),
    String(h.median.dropped ?? 0),
    fixed(h.median.serverDelayMaxMs, 1),
    `${percent(h.median.serverGcShare)}, ${fixed(h.median.serverGcMaxMs, 1)}`,
    fixed(h.median.clientDelayMaxMs, 1),
  ]);
  return table(
    ['leg', 'offered req/s', 'achieved req/s', 'p50 ms', 'p99 ms', 'max ms', 'send lag p99 ms', 'dropped', 'server stall max ms', 'server GC time, longest pause ms', 'client stall max ms'],
    rows,
  );
}

export interface SectionParts {
  /** How the settings line names the open-loop rounds' rate, e.g. "half load". */
  rateLabel: string;
  /** Lines after the settings line. */
  intro?: string[];
  /** Columns the maximum-throughput table adds. */
  maxColumns?: readonly Column[];
  /** What the open-loop table shows, e.g. "Half of each leg's maximum (open loop, fixed arrival rate". */
  rateHeading: string;
  /** Tables after the open-loop one: a title and its body. */
  blocks?: ReadonlyArray<[title: string, body: string]>;
  verdicts: readonly Verdict[];
}

/** A benchmark's section: heading, settings, the maximum-throughput and open-loop tables, its own blocks, and the targets. */
export function renderSection(report: RunReport, parts: SectionParts): string {
  const { settings: s } = report;
  return [
    ...sectionHeader(report, parts.rateLabel),
    ...(parts.intro ?? []),
    '',
    `Maximum throughput (closed loop; median of ${s.rounds} rounds; the other columns from the median round):`,
    '',
    maxTable(report, parts.maxColumns),
    '',
    `${parts.rateHeading}; the round with the median p99 of ${s.rateRounds}):`,
    '',
    rateTable(report),
    ...(parts.blocks ?? []).flatMap(([title, body]) => ['', title, '', body]),
    '',
    'Targets:',
    '',
    verdictTable(parts.verdicts),
  ].join('\n');
}

/** Replaces a benchmark's generated section for a database in BENCHMARKS.md (`<!-- bench:auth sqlite start -->` …), or appends it. */
export function updateBenchmarksFile(path: string, bench: string, database: string, body: string): void {
  const start = `<!-- ${bench} ${database} start -->`;
  const end = `<!-- ${bench} ${database} end -->`;
  const section = `${start}\n${body}\n${end}`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + section + current.slice(to + end.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
