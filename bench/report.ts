// Turns measurements into the Markdown section that `npm run bench:auth` prints and writes into
// BENCHMARKS.md (between markers, so the hand-written text around it survives a re-run).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { median, type Leg, type PhaseResult } from './protocol.js';

/** A phase's result with the server's side of it. */
export interface Measured extends PhaseResult {
  /** Server CPU time (user + system) per request, µs. */
  serverCpuUs: number;
  /** Server event-loop utilisation over the phase (1 = never idle). */
  serverBusy: number;
  /** The server's longest event-loop stall during the phase. */
  serverDelayMaxMs: number;
  /** Share of the phase the server spent in garbage-collection pauses, and the longest pause (ms). */
  serverGcShare: number;
  serverGcMaxMs: number;
}

/** One leg over its rounds; `median` is the round with the median throughput (max) or p99 (half load). */
export interface LegReport {
  leg: Leg;
  rounds: Measured[];
  median: Measured;
}

export interface HalfLoadReport extends LegReport {
  /** Offered rate: half the leg's median maximum throughput. */
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
  halfRounds: number;
  halfSeconds: number;
}

export interface RunReport {
  database: 'sqlite' | 'postgres';
  machine: Machine;
  settings: Settings;
  revision: string;
  max: LegReport[];
  half: HalfLoadReport[];
}

/** The targets: signed throughput as a share of its public twin's, and p99 at half load. */
export const THROUGHPUT_TARGETS = [
  { signed: 'hmac', public: 'public·hmac', min: 0.9 },
  { signed: 'rsa', public: 'public·rsa', min: 0.7 },
] as const;
export const P99_TARGET_MS = 5;

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

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const percent = (value: number) => `${fixed(value * 100, 1)} %`;
const rate = (value: number) => Math.round(value).toLocaleString('en-US');

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Median over rounds of signed/public from the same round: adjacent phases share the machine's drift. */
function pairedMedian(signed: readonly number[], pub: readonly number[], combine: (s: number, p: number) => number): number {
  return median(signed.slice(0, pub.length).map((s, i) => combine(s, pub[i]!)));
}

export interface Verdict {
  check: string;
  measured: string;
  target: string;
  met: boolean;
  note: string;
}

export function verdicts(report: RunReport): Verdict[] {
  const max = new Map(report.max.map((l) => [l.leg.name as string, l]));
  const half = new Map(report.half.map((l) => [l.leg.name as string, l]));
  const out: Verdict[] = [];
  for (const t of THROUGHPUT_TARGETS) {
    const signed = max.get(t.signed);
    const pub = max.get(t.public);
    if (!signed || !pub) continue;
    const ratio = signed.median.throughput / pub.median.throughput;
    const paired = pairedMedian(signed.rounds.map((r) => r.throughput), pub.rounds.map((r) => r.throughput), (s, p) => s / p);
    // What the ratio would be if the server alone were the bottleneck: its CPU per request, public over signed.
    const serverBound = pairedMedian(signed.rounds.map((r) => r.serverCpuUs), pub.rounds.map((r) => r.serverCpuUs), (s, p) => p / s);
    const notes = [`median of per-round ratios ${percent(paired)}`, `server-bound estimate ${percent(serverBound)} (server CPU per request, ${t.public} over ${t.signed})`];
    out.push({ check: `${t.signed} throughput vs ${t.public}`, measured: percent(ratio), target: `≥ ${t.min * 100} %`, met: ratio >= t.min, note: notes.join('; ') });
  }
  for (const t of THROUGHPUT_TARGETS) {
    const signed = half.get(t.signed);
    if (!signed) continue;
    const twin = half.get(t.public);
    const dropped = signed.median.dropped ?? 0;
    const notes = [`rounds: ${signed.rounds.map((r) => fixed(r.p99Ms, 1)).join(' / ')} ms`];
    if (twin) notes.push(`${t.public} at half load: ${fixed(twin.median.p99Ms, 2)} ms`);
    if (dropped > 0) notes.push(`${dropped} requests dropped (generator limit)`);
    out.push({
      check: `${t.signed} p99 at half of max load`,
      measured: `${fixed(signed.median.p99Ms, 2)} ms`,
      target: `< ${P99_TARGET_MS} ms`,
      met: signed.median.p99Ms < P99_TARGET_MS && dropped === 0,
      note: notes.join('; '),
    });
  }
  return out;
}

export function renderSection(report: RunReport): string {
  const { machine: m, settings: s } = report;
  const maxRows = report.max.map((l) => [
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
  ]);
  const halfRows = report.half.map((h) => [
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
  const verdictRows = verdicts(report).map((v) => [v.check, v.measured, v.target, v.met ? '**met**' : '**missed**', v.note]);
  const speedUp =
    m.parallelSpeedUp === undefined ? '' : ` Two CPU-bound processes together ran ${fixed(m.parallelSpeedUp, 2)}× as fast as one alone (2.00× would be two full cores).`;
  return [
    `### ${report.database === 'sqlite' ? 'SQLite' : 'PostgreSQL'} — ${m.date}`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${fixed(m.memoryGiB, 1)} GiB RAM, ${m.os}, Node ${m.node}.${speedUp}`,
    `Database: ${m.storage}. Code: ${report.revision}.`,
    `Settings: ${s.concurrency} requests in flight; warm-up ${s.warmupSeconds} s per leg; ${s.rounds} rounds of ${s.seconds} s per leg at maximum load; ${s.halfRounds} rounds of ${s.halfSeconds} s per leg at half load; legs alternate within each round.`,
    '',
    `Maximum throughput (closed loop; median of ${s.rounds} rounds; the other columns from the median round):`,
    '',
    table(['leg', 'req/s', 'each round', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'client CPU µs/req', 'server busy', 'server GC', 'client CPU'], maxRows),
    '',
    `Half of each leg's maximum (open loop, fixed arrival rate; the round with the median p99 of ${s.halfRounds}):`,
    '',
    table(['leg', 'offered req/s', 'achieved req/s', 'p50 ms', 'p99 ms', 'max ms', 'send lag p99 ms', 'dropped', 'server stall max ms', 'server GC time, longest pause ms', 'client stall max ms'], halfRows),
    '',
    'Targets:',
    '',
    table(['check', 'measured', 'target', 'result', 'notes'], verdictRows),
  ].join('\n');
}

const markers = (database: string) => [`<!-- bench:auth ${database} start -->`, `<!-- bench:auth ${database} end -->`] as const;

/** Replaces this database's generated section in BENCHMARKS.md, or appends it. */
export function updateBenchmarksFile(path: string, report: RunReport): void {
  const [start, end] = markers(report.database);
  const section = `${start}\n${renderSection(report)}\n${end}`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + section + current.slice(to + end.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
