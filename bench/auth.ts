// npm run bench:auth [-- --postgres] [--dry-run] [--check] [--profile] [--legs hmac,rsa]
//                      [--concurrency N] [--rounds R] [--seconds S] [--half-rounds R] [--half-seconds S]
//
// What signature authentication costs: throughput and latency of the signed
// POST /v2/supplement/api_Restrictions.do against the public GET /v2/timestamp.do, for an
// HmacSHA256 key and an RSA key. This process only orchestrates; the server and the load
// generator run in processes of their own (server.ts, load.ts), and all traffic stays on 127.0.0.1.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createBenchDatabase, fileSystemOf, type BenchDatabase } from './database.js';
import { summariseProfile } from './profile.js';
import { ask, LEGS, median, type Credentials, type Leg, type LoadReply, type PhaseSpec, type ServerReply } from './protocol.js';
import {
  describeMachine,
  renderSection,
  updateBenchmarksFile,
  verdicts,
  type HalfLoadReport,
  type LegReport,
  type Measured,
  type RunReport,
} from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Closed-loop phases stop after this many requests even if time remains (bounds memory). */
const MAX_REQUESTS_PER_PHASE = 500_000;
/** Open loop: beyond this many requests in flight the generator drops instead of queueing. */
const MAX_IN_FLIGHT = 256;
/** Whatever happens, the benchmark ends. */
const WATCHDOG_MS = 10 * 60_000;

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '1.5' },
    warmup: { type: 'string', default: '2' },
    'half-rounds': { type: 'string', default: '3' },
    'half-seconds': { type: 'string', default: '3' },
    /** Print only; leave BENCHMARKS.md alone. */
    'dry-run': { type: 'boolean', default: false },
    /** Exit with status 1 when a target is missed (for CI). */
    check: { type: 'boolean', default: false },
    /** Run server and load generator under --cpu-prof and print where their time went. */
    profile: { type: 'boolean', default: false },
    /** A subset of legs, comma-separated (public-hmac, hmac, public-rsa, rsa); never written to BENCHMARKS.md. */
    legs: { type: 'string', default: LEGS.map((l) => l.name).join(',') },
  },
});

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}

function selectLegs(list: string | undefined): readonly Leg[] {
  const names = (list ?? '').split(',').map((n) => n.trim().replace('-', '·')).filter(Boolean);
  const unknown = names.filter((n) => !LEGS.some((l) => l.name === n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--legs: unknown leg(s) ${unknown.join(', ')}; choose from ${LEGS.map((l) => l.name).join(', ')}`);
  return LEGS.filter((l) => names.includes(l.name));
}

const legs = selectLegs(args.legs);
const settings = {
  concurrency: Math.round(positive('concurrency', args.concurrency)),
  rounds: Math.round(positive('rounds', args.rounds)),
  seconds: positive('seconds', args.seconds),
  warmupSeconds: positive('warmup', args.warmup),
  halfRounds: Math.round(positive('half-rounds', args['half-rounds'])),
  halfSeconds: positive('half-seconds', args['half-seconds']),
};

/** Environment for the server: only what the benchmark decides, nothing inherited that changes behaviour. */
function serverEnv(database: BenchDatabase): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('KEYGATE_') || ['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL'].includes(name)) delete env[name];
  env.KEYGATE_DATA_DIR = database.dataDir;
  env.KEYGATE_MASTER_KEY = randomBytes(32).toString('base64');
  env.LOG_LEVEL = 'warn';
  if (database.databaseUrl) env.DATABASE_URL = database.databaseUrl;
  return env;
}

/** A user with one HmacSHA256 and one RSA key, both bound to 127.0.0.1, created through the app's services. */
async function provision(env: NodeJS.ProcessEnv): Promise<Credentials> {
  const app = await createApp(loadConfig(env), { logger: pino({ level: 'warn' }) });
  try {
    const user = await app.accounts.create('bench@example.com', undefined);
    const make = async (method: 'HmacSHA256' | 'RSA') => {
      const created = await app.apiKeys.create(user.id, { name: `bench-${method}`, method, ips: '127.0.0.1', authority: ['read'] });
      if (created.secret === null) throw new Error('no secret returned');
      return { apiKey: created.key.apiKey, secret: created.secret };
    };
    return { HmacSHA256: await make('HmacSHA256'), RSA: await make('RSA') };
  } finally {
    // Closed before the server starts, so nothing the server caches is changed behind its back.
    await app.close();
  }
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

class Bench {
  constructor(
    private readonly server: ChildProcess,
    private readonly load: ChildProcess,
  ) {}

  async #usage(): Promise<Extract<ServerReply, { type: 'usage' }>> {
    return ask(this.server, { type: 'usage' }, 10_000);
  }

  /** Runs one phase and adds the server's CPU and event-loop use over it. A failed request aborts the run. */
  async run(phase: PhaseSpec): Promise<Measured> {
    const before = await this.#usage();
    const reply = await ask<LoadReply>(this.load, { type: 'run', phase }, (phase.seconds + 60) * 1000);
    const after = await this.#usage();
    if (reply.type === 'error') throw new Error(`load generator: ${reply.message}`);
    if (reply.type !== 'result') throw new Error(`load generator answered ${reply.type}`);
    const result = reply.result;
    if (result.failed > 0) throw new Error(`${result.failed} ${result.leg} requests failed; the first: ${result.firstFailure}`);
    const active = after.loopActiveMs - before.loopActiveMs;
    const idle = after.loopIdleMs - before.loopIdleMs;
    return {
      ...result,
      serverCpuUs: (after.cpuUs - before.cpuUs) / result.completed,
      serverBusy: active / (active + idle),
      serverDelayMaxMs: after.delayMaxMs,
      serverGcShare: after.gcMs / result.elapsedMs,
      serverGcMaxMs: after.gcMaxMs,
    };
  }

  closed(leg: Leg, seconds: number): Promise<Measured> {
    return this.run({ leg, mode: 'closed', concurrency: settings.concurrency, seconds, maxRequests: MAX_REQUESTS_PER_PHASE });
  }
}

function progress(label: string, m: Measured): void {
  const open = m.dropped !== undefined ? `  lag p99 ${m.lagP99Ms?.toFixed(2)} ms  dropped ${m.dropped}` : '';
  process.stderr.write(
    `${label.padEnd(14)} ${m.leg.padEnd(12)} ${Math.round(m.throughput).toString().padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2)}  p99 ${m.p99Ms.toFixed(2)} ms  ` +
      `server ${m.serverCpuUs.toFixed(0)} µs/req busy ${(m.serverBusy * 100).toFixed(0)} %  client ${m.clientCpuUs.toFixed(0)} µs/req ${(m.clientCpu * 100).toFixed(0)} %  ` +
      `gc ${(m.serverGcShare * 100).toFixed(1)} % max ${m.serverGcMaxMs.toFixed(1)} ms  stalls ${m.serverDelayMaxMs.toFixed(0)}/${m.clientDelayMaxMs.toFixed(0)} ms${open}\n`,
  );
}

/** Runs every leg once per round, legs alternating, so that drift (a noisy neighbour, a slower period) spreads over all of them. */
async function alternate(rounds: number, label: string, phase: (leg: Leg) => Promise<Measured>): Promise<Map<Leg, Measured[]>> {
  const results = new Map<Leg, Measured[]>(legs.map((l) => [l, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const leg of legs) {
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

async function measure(bench: Bench): Promise<{ max: LegReport[]; half: HalfLoadReport[] }> {
  // Warm-up: JIT in both processes, keep-alive connections, the server's key caches.
  await alternate(1, 'warm-up', (leg) => bench.closed(leg, settings.warmupSeconds));

  const maxRounds = await alternate(settings.rounds, 'max', (leg) => bench.closed(leg, settings.seconds));
  const max = legs.map((leg) => byMedian(leg, maxRounds.get(leg)!, (m) => m.throughput));

  // Half of each leg's own maximum, offered at a fixed rate whatever the latency (open loop).
  const rates = new Map(max.map((l) => [l.leg, l.median.throughput / 2]));
  const halfRounds = await alternate(settings.halfRounds, 'half load', (leg) =>
    bench.run({ leg, mode: 'open', rate: rates.get(leg)!, seconds: settings.halfSeconds, maxInFlight: MAX_IN_FLIGHT }),
  );
  const half = legs.map((leg) => ({ ...byMedian(leg, halfRounds.get(leg)!, (m) => m.p99Ms), rate: rates.get(leg)! }));
  return { max, half };
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

async function main(): Promise<number> {
  const database = await createBenchDatabase(args.postgres ? 'postgres' : 'sqlite');
  const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'keygate-bench-profile-')) : undefined;
  const children: ChildProcess[] = [];
  const watchdog = setTimeout(() => {
    process.stderr.write('bench:auth: watchdog fired, stopping\n');
    for (const child of children) child.kill('SIGKILL');
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    const speedUp = await calibrate();
    process.stderr.write(`bench:auth: two busy processes ran ${speedUp.toFixed(2)}× as fast as one (2 would be two full cores)\n`);

    const env = serverEnv(database);
    const credentials = await provision(env);
    const server = start('server.js', env, profileDir);
    children.push(server);
    const ready = await ask<ServerReply>(server, undefined, 30_000);
    if (ready.type !== 'ready') throw new Error('server did not start');
    const baseUrl = `http://127.0.0.1:${ready.port}`;
    // The generator needs no secrets of the server, only the keys' credentials.
    const load = start('load.js', { PATH: process.env.PATH }, profileDir);
    children.push(load);
    await ask<LoadReply>(load, { type: 'init', baseUrl, credentials }, 30_000);

    const storage = storageDescription(database);
    process.stderr.write(`bench:auth: server ${baseUrl} over ${storage}\n`);
    const { max, half } = await measure(new Bench(server, load));
    server.send({ type: 'stop' });
    load.disconnect();
    await Promise.all([stopped(server, 10_000), stopped(load, 10_000)]);

    const report: RunReport = { database: database.kind, machine: { ...describeMachine(storage), parallelSpeedUp: speedUp }, settings, revision: revision(), max, half };
    process.stdout.write(`\n${renderSection(report)}\n`);
    // Only a full run may replace the published numbers.
    if (!args['dry-run'] && legs.length === LEGS.length) {
      const path = resolve(here, '..', '..', 'BENCHMARKS.md');
      updateBenchmarksFile(path, report);
      process.stderr.write(`bench:auth: updated ${path}\n`);
    }
    if (profileDir) printProfiles(profileDir);
    return args.check && !verdicts(report).every((v) => v.met) ? 1 : 0;
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await database.drop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench:auth failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
