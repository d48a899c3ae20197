// What the benchmarks (auth.ts, orders.ts) share: their common options, the processes (a server
// and a load generator of their own, two calibration processes before them), the phases and their
// rounds, and the run itself from a fresh database to its removal. A benchmark supplies its legs,
// its keys and what it reports.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createBenchDatabase, fileSystemOf, type BenchDatabase } from './database.js';
import { summariseProfile } from './profile.js';
import { ask, median, type Credentials, type Leg, type LoadReply, type PhaseSpec, type ServerReply } from './protocol.js';
import { allMet, describeMachine, updateBenchmarksFile, type FixedRateReport, type LegReport, type Measured, type RunReport, type Settings, type Verdict } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
/** BENCHMARKS.md, at the repository's root (this file runs from dist/bench/). */
const BENCHMARKS_FILE = resolve(here, '..', '..', 'BENCHMARKS.md');
/** Closed-loop phases stop after this many requests even if time remains (bounds memory). */
const MAX_REQUESTS_PER_PHASE = 500_000;
/** Open loop: beyond this many requests in flight the generator drops instead of queueing. */
const MAX_IN_FLIGHT = 256;
/** Whatever happens, a benchmark ends. */
const WATCHDOG_MS = 10 * 60_000;

/** Options every benchmark takes (node:util parseArgs); a benchmark adds its own. */
export const COMMON_OPTIONS = {
  postgres: { type: 'boolean', default: false },
  /** Two servers on one PostgreSQL database and one Redis (REDIS_URL, or 127.0.0.1:6379), requests sent to each in turn. */
  fleet: { type: 'boolean', default: false },
  concurrency: { type: 'string', default: '32' },
  rounds: { type: 'string', default: '10' },
  seconds: { type: 'string', default: '1.5' },
  warmup: { type: 'string', default: '2' },
  /** Print only; leave BENCHMARKS.md alone. */
  'dry-run': { type: 'boolean', default: false },
  /** Exit with status 1 when a target is missed (for CI). */
  check: { type: 'boolean', default: false },
  /** Run server and load generator under --cpu-prof and print where their time went. */
  profile: { type: 'boolean', default: false },
  /**
   * What metrics cost: a second server, alike but for KEYGATE_METRICS=on, scraped every second, and
   * legs on it measured against their twins on the first, round by round.
   */
  metrics: { type: 'boolean', default: false },
} as const;

/** How often a --metrics run scrapes the server: more often than Prometheus' default of 15 s. */
const SCRAPE_INTERVAL_MS = 1000;

export function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}

/** The closed-loop settings from the common options, with the benchmark's open-loop rounds. */
export function commonSettings(values: { concurrency?: string; rounds?: string; seconds?: string; warmup?: string }, rateRounds: number, rateSeconds: number): Settings {
  return {
    concurrency: Math.round(positive('concurrency', values.concurrency)),
    rounds: Math.round(positive('rounds', values.rounds)),
    seconds: positive('seconds', values.seconds),
    warmupSeconds: positive('warmup', values.warmup),
    rateRounds,
    rateSeconds,
  };
}

/** A subset of legs by name, comma-separated ("-" may stand for "·"). */
export function selectLegs(all: readonly Leg[], list: string | undefined): readonly Leg[] {
  const names = (list ?? '').split(',').map((n) => n.trim().replace('-', '·')).filter(Boolean);
  const unknown = names.filter((n) => !all.some((l) => l.name === n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--legs: unknown leg(s) ${unknown.join(', ')}; choose from ${all.map((l) => l.name).join(', ')}`);
  return all.filter((l) => names.includes(l.name));
}

/** How many servers a fleet run starts. */
export const FLEET_SIZE = 2;

/** Environment for the server: only what the benchmark decides, nothing inherited that changes behaviour. */
function serverEnv(database: BenchDatabase, fleet: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('KEYGATE_') || ['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL'].includes(name)) delete env[name];
  env.KEYGATE_DATA_DIR = database.dataDir;
  env.KEYGATE_MASTER_KEY = randomBytes(32).toString('base64');
  env.LOG_LEVEL = 'warn';
  if (database.databaseUrl) env.DATABASE_URL = database.databaseUrl;
  // The generator sends far more than LBank's 200 requests per key and 10 s: the limits stay on, so
  // that counting them is part of the cost measured, but raised far above any load (else nearly every
  // request would be refused with 10004).
  env.KEYGATE_RATE_LIMITS = 'orders=999999999,other=999999999,ip=999999999';
  delete env.REDIS_URL;
  if (fleet) {
    env.REDIS_URL = process.env.KEYGATE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
    // A prefix of its own: the benchmark shares Redis with whatever else runs.
    env.KEYGATE_REDIS_PREFIX = `keygate-bench-${randomBytes(4).toString('hex')}:`;
  }
  return env;
}

/**
 * The app on the server's database and configuration, in this process, while the server is not
 * running; as the CLI does, without the exchange's matching engine (the server is to hold it).
 */
async function withApp<T>(env: NodeJS.ProcessEnv, use: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig(env), { logger: pino({ level: 'warn' }), exchange: false });
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}

/**
 * Waits (at most 15 s) until the fleet's servers have shared the markets out between them, so that the
 * measurement does not include markets changing hands.
 */
async function marketsSpread(env: NodeJS.ProcessEnv): Promise<void> {
  await withApp(env, async (app) => {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const rows = await app.database.db.selectFrom('market_leases').select('holder').execute();
      if (new Set(rows.map((r) => r.holder)).size >= Math.min(FLEET_SIZE, app.config.markets.markets.length)) break;
      await new Promise((resume) => setTimeout(resume, 250));
    }
    // Fair shares settle a few lease polls after the second server appears.
    await new Promise((resume) => setTimeout(resume, 1500));
  });
}

function start(script: string, env: NodeJS.ProcessEnv, profileDir?: string): ChildProcess {
  const execArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, script.replace(/\.js$/, ''))}`] : [];
  return fork(join(here, script), [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function stopped(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

/** Busy and total jiffies of all CPUs together (Linux /proc/stat), or undefined elsewhere. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 8).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    // idle and iowait are the idle ones.
    return { busy: total - fields[3]! - fields[4]!, total };
  } catch {
    return undefined;
  }
}

export class Bench {
  /** Requests each leg completed over the whole run, warm-up included. */
  readonly completed = new Map<string, number>();

  constructor(
    private readonly servers: readonly ChildProcess[],
    private readonly load: ChildProcess,
    private readonly concurrency: number,
  ) {}

  /** The servers' use added up (a fleet's CPU per request is what all its servers spent); stalls are the worst. */
  async #usage(servers: readonly ChildProcess[]): Promise<Extract<ServerReply, { type: 'usage' }>> {
    const all = await Promise.all(servers.map((server) => ask<Extract<ServerReply, { type: 'usage' }>>(server, { type: 'usage' }, 10_000)));
    const sum = (key: 'cpuUs' | 'loopActiveMs' | 'loopIdleMs' | 'gcMs') => all.reduce((total, u) => total + u[key], 0);
    return {
      type: 'usage',
      cpuUs: sum('cpuUs'),
      loopActiveMs: sum('loopActiveMs'),
      loopIdleMs: sum('loopIdleMs'),
      gcMs: sum('gcMs') / all.length,
      delayMaxMs: Math.max(...all.map((u) => u.delayMaxMs)),
      gcMaxMs: Math.max(...all.map((u) => u.gcMaxMs)),
    };
  }

  /**
   * Runs one phase and adds the servers' CPU and event-loop use over it (only its own server's, for a
   * leg that has one). A failed request aborts the run.
   */
  async run(phase: PhaseSpec): Promise<Measured> {
    const usage = () => this.#usage(phase.leg.server === undefined ? this.servers : [this.servers[phase.leg.server]!]);
    const before = await usage();
    const ticksBefore = machineTicks();
    const reply = await ask<LoadReply>(this.load, { type: 'run', phase }, (phase.seconds + 60) * 1000);
    const ticksAfter = machineTicks();
    const after = await usage();
    if (reply.type === 'error') throw new Error(`load generator: ${reply.message}`);
    if (reply.type !== 'result') throw new Error(`load generator answered ${reply.type}`);
    const result = reply.result;
    this.completed.set(result.leg, (this.completed.get(result.leg) ?? 0) + result.completed);
    if (result.failed > 0) throw new Error(`${result.failed} ${result.leg} requests failed; the first: ${result.firstFailure}`);
    const active = after.loopActiveMs - before.loopActiveMs;
    const idle = after.loopIdleMs - before.loopIdleMs;
    const cpuUs = after.cpuUs - before.cpuUs;
    return {
      ...result,
      serverCpuUs: cpuUs / result.completed,
      serverCpu: cpuUs / 1000 / result.elapsedMs,
      serverBusy: active / (active + idle),
      machineBusy: ticksBefore && ticksAfter ? (ticksAfter.busy - ticksBefore.busy) / (ticksAfter.total - ticksBefore.total) : NaN,
      serverDelayMaxMs: after.delayMaxMs,
      serverGcShare: after.gcMs / result.elapsedMs,
      serverGcMaxMs: after.gcMaxMs,
    };
  }

  closed(leg: Leg, seconds: number): Promise<Measured> {
    return this.run({ leg, mode: 'closed', concurrency: this.concurrency, seconds, maxRequests: MAX_REQUESTS_PER_PHASE });
  }

  open(leg: Leg, rate: number, seconds: number): Promise<Measured> {
    return this.run({ leg, mode: 'open', rate, seconds, maxInFlight: MAX_IN_FLIGHT });
  }
}

/** Scrapes the server's /metrics as Prometheus would, during the whole measurement (--metrics). */
class Scraper {
  readonly #timer: NodeJS.Timeout;
  #scrapes = 0;
  #last = '';
  #failure: string | undefined;
  #pending: Promise<void> = Promise.resolve();

  constructor(private readonly url: string) {
    this.#timer = setInterval(() => {
      this.#pending = this.#scrape();
    }, SCRAPE_INTERVAL_MS);
  }

  async #scrape(): Promise<void> {
    try {
      const response = await fetch(this.url);
      const text = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      this.#scrapes++;
      this.#last = text;
    } catch (error) {
      this.#failure ??= (error as Error).message;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#pending;
  }

  /** Throws unless every scrape succeeded and the last one counted the benchmark's requests. */
  check(): void {
    if (this.#failure !== undefined) throw new Error(`a scrape of ${this.url} failed: ${this.#failure}`);
    if (this.#scrapes === 0 || !/^keygate_http_requests_total\{[^}]*surface="v2"/m.test(this.#last)) throw new Error(`${this.url} did not count the benchmark's requests`);
    process.stderr.write(`metrics: ${this.#scrapes} scrapes of ${this.url}, the last ${Math.round(this.#last.length / 1024)} KiB\n`);
  }
}

function progress(label: string, m: Measured): void {
  const open = m.dropped !== undefined ? `  lag p99 ${m.lagP99Ms?.toFixed(2)} ms  dropped ${m.dropped}` : '';
  process.stderr.write(
    `${label.padEnd(14)} ${m.leg.padEnd(12)} ${Math.round(m.throughput).toString().padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2)}  p99 ${m.p99Ms.toFixed(2)} ms  ` +
      `server ${m.serverCpuUs.toFixed(0)} µs/req busy ${(m.serverBusy * 100).toFixed(0)} %  client ${m.clientCpuUs.toFixed(0)} µs/req ${(m.clientCpu * 100).toFixed(0)} %  ` +
      `machine ${(m.machineBusy * 100).toFixed(0)} %  gc ${(m.serverGcShare * 100).toFixed(1)} % max ${m.serverGcMaxMs.toFixed(1)} ms  stalls ${m.serverDelayMaxMs.toFixed(0)}/${m.clientDelayMaxMs.toFixed(0)} ms${open}\n`,
  );
}

/** Runs every leg once per round, legs alternating, so that drift (a noisy neighbour, a slower period) spreads over all of them. */
async function alternate(legs: readonly Leg[], rounds: number, label: string, phase: (leg: Leg) => Promise<Measured>): Promise<Map<Leg, Measured[]>> {
  const results = new Map<Leg, Measured[]>(legs.map((l) => [l, []]));
  for (let round = 1; round <= rounds; round++) {
    // Every other round in the reverse order (A B, B A, …): no leg always runs first, or always after another.
    for (const leg of round % 2 === 1 ? legs : [...legs].reverse()) {
      const m = await phase(leg);
      results.get(leg)!.push(m);
      progress(`${label} ${round}/${rounds}`, m);
    }
  }
  return results;
}

function byMedian(leg: Leg, rounds: Measured[], key: (m: Measured) => number): LegReport {
  const mid = median(rounds.map(key));
  return { leg, rounds, median: rounds.find((r) => key(r) === mid)! };
}

/**
 * Warm-up, then maximum throughput (closed loop, median round per leg), then each leg at a fixed
 * arrival rate that may depend on its maximum (open loop: a slow response does not delay the next
 * request; the round with the median p99 per leg).
 */
async function measure(
  bench: Bench,
  legs: readonly Leg[],
  settings: Settings,
  rateOf: (max: LegReport) => number,
  rateLabel: string,
): Promise<{ max: LegReport[]; atRate: FixedRateReport[] }> {
  // Warm-up: JIT in both processes, keep-alive connections, the server's caches.
  await alternate(legs, 1, 'warm-up', (leg) =>
    leg.warmRequests === undefined
      ? bench.closed(leg, settings.warmupSeconds)
      : bench.run({ leg, mode: 'closed', concurrency: settings.concurrency, seconds: 600, maxRequests: leg.warmRequests }),
  );

  const maxRounds = await alternate(legs, settings.rounds, 'max', (leg) => bench.closed(leg, settings.seconds));
  const max = legs.map((leg) => byMedian(leg, maxRounds.get(leg)!, (m) => m.throughput));

  const rates = new Map(max.map((l) => [l.leg, rateOf(l)]));
  const rateRounds = await alternate(legs, settings.rateRounds, rateLabel, (leg) => bench.open(leg, rates.get(leg)!, settings.rateSeconds));
  const atRate = legs.map((leg) => ({ ...byMedian(leg, rateRounds.get(leg)!, (m) => m.p99Ms), rate: rates.get(leg)! }));
  return { max, atRate };
}

/**
 * Parallel speed-up of two CPU-bound processes: about 2 on two real cores, about 1 when the
 * machine's two CPUs share one core's worth of time. Sustained for a few seconds, because some
 * virtual machines run at full speed on a burst budget first.
 */
async function calibrate(): Promise<number> {
  const a = start('calibrate.js', { PATH: process.env.PATH });
  const b = start('calibrate.js', { PATH: process.env.PATH });
  try {
    const run = (child: ChildProcess, slices: number) => ask<{ slices: number[] }>(child, { slices }, 60_000).then((r) => r.slices);
    const alone = median(await run(a, 4));
    const [pairA, pairB] = await Promise.all([run(a, 12), run(b, 12)]);
    // The last half of the pair's slices: after any burst budget is spent.
    return (median(pairA.slice(6)) + median(pairB.slice(6))) / alone;
  } finally {
    a.disconnect();
    b.disconnect();
    await Promise.all([stopped(a, 5000), stopped(b, 5000)]);
  }
}

/** The commit measured, and whether src/ had uncommitted changes. */
function revision(): string {
  try {
    const root = resolve(here, '..', '..');
    const git = (...argv: string[]) => execFileSync('git', argv, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src') === '' ? `commit ${commit}` : `commit ${commit} with uncommitted changes in src/`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function storageDescription(database: BenchDatabase): string {
  if (database.kind === 'postgres') return 'PostgreSQL on 127.0.0.1 (same machine), a fresh database';
  let mounts = '';
  try {
    mounts = readFileSync('/proc/mounts', 'utf8');
  } catch {
    // Not Linux: the file system stays unknown.
  }
  return `SQLite (WAL, synchronous=FULL) in ${tmpdir()} on ${fileSystemOf(resolve(database.dataDir), mounts)}`;
}

function printProfiles(dir: string): void {
  for (const role of ['server', 'load']) {
    let files: string[] = [];
    try {
      files = readdirSync(join(dir, role)).filter((f) => f.endsWith('.cpuprofile'));
    } catch {
      // No profile written.
    }
    for (const file of files) process.stderr.write(`\n${role}: ${join(dir, role, file)}\n${summariseProfile(join(dir, role, file), 25)}\n`);
  }
}

export interface BenchmarkSpec<Inspection = undefined> {
  /** "bench:auth", "bench:orders": names progress lines and the sections in BENCHMARKS.md. */
  name: string;
  /** The parsed common options. */
  args: { postgres: boolean; fleet: boolean; profile: boolean; 'dry-run': boolean; check: boolean; metrics: boolean };
  settings: Settings;
  /** Every leg the benchmark has, and those this run measures: only a run of all may replace the published numbers. */
  allLegs: readonly Leg[];
  legs: readonly Leg[];
  /** The open-loop rounds' arrival rate for a leg, given its maximum, and how the report names it. */
  rateOf(max: LegReport): number;
  rateLabel: string;
  /**
   * Whether --metrics may start a twin server on the same database: not where two servers would both
   * run the markets' engines (a lone SQLite server holds every market).
   */
  metricsTwin?: boolean;
  /** Creates accounts and keys through the app's services, before the server starts; returns the keys the generator signs with. */
  provision(app: App): Promise<Credentials>;
  /** Reads the database after the server has stopped (and committed everything), before it is dropped. */
  inspect?(app: App, bench: Bench): Promise<Inspection>;
  /** The section for BENCHMARKS.md. */
  render(report: RunReport, inspection: Inspection): string;
  /** The targets, for --check. */
  verdicts(report: RunReport): Verdict[];
  /** What the inspection found wrong, if anything: the numbers are then printed but not published, and the run fails. */
  problems?(inspection: Inspection): string | undefined;
}

/**
 * A whole run: a fresh database, the machine's calibration, provisioning, the server and the
 * generator in processes of their own, the phases, the inspection, and the database dropped again.
 * A watchdog ends it whatever happens.
 */
async function run<Inspection>(spec: BenchmarkSpec<Inspection>): Promise<{ report: RunReport; inspection: Inspection }> {
  const fleet = spec.args.fleet;
  if (spec.args.metrics && (fleet || !spec.metricsTwin)) {
    throw new Error(`--metrics measures one server against its twin with metrics on: ${fleet ? 'not with --fleet' : `not in ${spec.name}`}`);
  }
  const database = await createBenchDatabase(spec.args.postgres || fleet ? 'postgres' : 'sqlite');
  const profileDir = spec.args.profile ? mkdtempSync(join(tmpdir(), 'keygate-bench-profile-')) : undefined;
  const children: ChildProcess[] = [];
  const watchdog = setTimeout(() => {
    process.stderr.write(`${spec.name}: watchdog fired, stopping\n`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    const speedUp = await calibrate();
    process.stderr.write(`${spec.name}: two busy processes ran ${speedUp.toFixed(2)}× as fast as one (2 would be two full cores)\n`);

    const env = serverEnv(database, fleet);
    // Closed before the servers start, so nothing a server caches is changed behind its back.
    const credentials = await withApp(env, (app) => spec.provision(app));
    const servers: ChildProcess[] = [];
    // A metrics run: a twin of the server with metrics on and scraped. On SQLite it gets a copy of the
    // database of its own: two processes on one file would wait on each other's writes (last-use
    // stamps) and drop each other's key caches, which a lone server never does.
    const metricsEnv: NodeJS.ProcessEnv = { ...env, KEYGATE_METRICS: 'on' };
    if (spec.args.metrics && database.kind === 'sqlite') {
      metricsEnv.KEYGATE_DATA_DIR = `${database.dataDir}-twin`;
      cpSync(database.dataDir, metricsEnv.KEYGATE_DATA_DIR, { recursive: true });
    }
    const serverEnvs = fleet ? Array.from({ length: FLEET_SIZE }, () => env) : spec.args.metrics ? [env, metricsEnv] : [env];
    for (const [i, envOfServer] of serverEnvs.entries()) {
      const server = start('server.js', envOfServer, profileDir && `${profileDir}${i > 0 ? `-${i}` : ''}`);
      children.push(server);
      servers.push(server);
    }
    const baseUrls: string[] = [];
    for (const server of servers) {
      const ready = await ask<ServerReply>(server, undefined, 30_000);
      if (ready.type !== 'ready') throw new Error('server did not start');
      baseUrls.push(`http://127.0.0.1:${ready.port}`);
    }
    if (fleet) await marketsSpread(env);
    // The generator needs no secrets of the server, only the keys' credentials.
    const load = start('load.js', { PATH: process.env.PATH }, profileDir);
    children.push(load);
    await ask<LoadReply>(load, { type: 'init', baseUrls, credentials }, 30_000);
    const baseUrl = baseUrls.join(' and ');

    const storage = fleet
      ? `${FLEET_SIZE} servers on ${storageDescription(database)}, and Redis on 127.0.0.1`
      : spec.args.metrics
        ? `${storageDescription(database)}, two servers alike but for metrics (on at the second)`
        : storageDescription(database);
    process.stderr.write(`${spec.name}: server ${baseUrl} over ${storage}\n`);
    const bench = new Bench(servers, load, spec.settings.concurrency);
    // Each server's /metrics, as Prometheus would scrape them.
    const scrapers = spec.args.metrics ? [new Scraper(`${baseUrls[1]}/metrics`)] : [];
    let measured: Awaited<ReturnType<typeof measure>>;
    try {
      measured = await measure(bench, spec.legs, spec.settings, (leg) => spec.rateOf(leg), spec.rateLabel);
    } finally {
      for (const scraper of scrapers) await scraper.stop();
    }
    const { max, atRate } = measured;
    for (const scraper of scrapers) scraper.check();
    for (const server of servers) server.send({ type: 'stop' });
    load.disconnect();
    await Promise.all([...servers.map((server) => stopped(server, 10_000)), stopped(load, 10_000)]);
    for (const server of servers) {
      if (server.exitCode !== 0) throw new Error(`a server did not stop cleanly (exit code ${server.exitCode}, signal ${server.signalCode})`);
    }
    // A benchmark without an inspection has Inspection = undefined.
    const inspection = (spec.inspect ? await withApp(env, (app) => spec.inspect!(app, bench)) : undefined) as Inspection;
    if (profileDir) printProfiles(profileDir);
    const machine = { ...describeMachine(storage), parallelSpeedUp: speedUp };
    return { report: { database: fleet ? 'fleet' : database.kind, metrics: spec.args.metrics, machine, settings: spec.settings, revision: revision(), max, atRate }, inspection };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await database.drop();
    rmSync(`${database.dataDir}-twin`, { recursive: true, force: true });
  }
}

/**
 * Runs a benchmark, prints its section and, for a full run that found nothing wrong and is not a
 * dry run, replaces its section in BENCHMARKS.md. Exit status: 0; 1 with --check when a target is
 * missed; 2 when the run failed or the inspection found a problem.
 */
export function runBenchmark<Inspection>(spec: BenchmarkSpec<Inspection>): void {
  const main = async (): Promise<number> => {
    const { report, inspection } = await run(spec);
    const section = spec.render(report, inspection);
    process.stdout.write(`\n${section}\n`);
    const problem = spec.problems?.(inspection);
    if (problem !== undefined) {
      process.stderr.write(`${spec.name}: ${problem}; BENCHMARKS.md left alone\n`);
      return 2;
    }
    if (!spec.args['dry-run'] && spec.legs.length === spec.allLegs.length) {
      updateBenchmarksFile(BENCHMARKS_FILE, spec.name, report.metrics ? `${report.database} metrics` : report.database, section);
      process.stderr.write(`${spec.name}: updated ${BENCHMARKS_FILE}\n`);
    }
    return spec.args.check && !allMet(spec.verdicts(report)) ? 1 : 0;
  };
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${spec.name} failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
