// npm run bench:ws [-- --postgres] [--sockets 1000[,2000,…]] [--rate 500] [--seconds 10] [--warmup 2]
//                  [--clients 2] [--idle 1000] [--dry-run] [--check] [--profile]
//
// The WebSocket API's fan-out: N sockets subscribed to depth (100 levels) and trade of btc_usdt while
// orders flow at a fixed rate, and how long after an order's acknowledgment its trade reaches each
// subscriber (target: p99 < 50 ms for 1,000 sockets at 500 orders/s); then what an idle socket costs
// the server's memory. With several --sockets counts, the largest that still meets the p99 target is
// reported as the fan-out this machine holds.
//
// The flow (open loop, one order every 1/rate s, from two traders): every other order rests on the
// book (bids and asks within 64 levels around the mid, so depth frames stay full), and the others are
// immediate-or-cancel orders that take from a deep best level on either side, each with an amount of
// its own — the trade push with that volume is that order's. Latency runs from the moment the order's
// answer arrives to the moment the push arrives at a socket (the same clock: one machine); a push may
// arrive first (negative). Subscribers run in --clients processes of their own; the server in its own.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { LbankClient } from '../src/client/index.js';
import { loadConfig } from '../src/config.js';
import { createBenchDatabase } from './database.js';
import { summariseProfile } from './profile.js';
import { ask, type ServerReply } from './protocol.js';
import { describeMachine, fixed, rate, table, updateBenchmarksFile, verdictTable, type Verdict } from './report.js';
import { BIN_FROM_MS, BIN_MS, type ClientCommand, type ClientReply } from './ws-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const BENCHMARKS_FILE = resolve(here, '..', '..', 'BENCHMARKS.md');
const MARKET = 'btc_usdt';
const DEPTH = 100;
const P99_TARGET_MS = 50;
const TARGET_SOCKETS = 1000;
const TARGET_RATE = 500;
/** The deep best levels the taking orders fill from, and the resting band behind them. */
const BEST_ASK = 30_000;
const BEST_BID = 29_999;
const BAND = 64;
const WATCHDOG_MS = 20 * 60_000;
/** Orders in flight beyond which the flow drops instead of queueing. */
const MAX_IN_FLIGHT = 256;

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'boolean', default: false },
    sockets: { type: 'string', default: String(TARGET_SOCKETS) },
    rate: { type: 'string', default: String(TARGET_RATE) },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    clients: { type: 'string', default: '2' },
    idle: { type: 'string', default: '1000' },
    'dry-run': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    /** Run the server under --cpu-prof and print where its time went. */
    profile: { type: 'boolean', default: false },
  },
});

const positive = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
};
const socketCounts = (args.sockets ?? '').split(',').map((s) => Math.round(positive('sockets', s)));
const orderRate = positive('rate', args.rate);
const seconds = positive('seconds', args.seconds);
const warmup = positive('warmup', args.warmup);
const clientCount = Math.round(positive('clients', args.clients));
const idleSockets = Math.round(positive('idle', args.idle));
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

setTimeout(() => {
  console.error('bench:ws: watchdog expired');
  process.exit(2);
}, WATCHDOG_MS).unref();

interface RoundResult {
  sockets: number;
  ordersSent: number;
  ordersAcked: number;
  ordersFailed: number;
  ordersDropped: number;
  trades: number;
  deliveries: number;
  missing: number;
  p50: number;
  p99: number;
  max: number;
  framesPerSecond: number;
  megabytesPerSecond: number;
  serverCpu: number;
}

function percentileOf(bins: Map<number, number>, total: number, p: number): number {
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [bin, count] of [...bins].sort((a, b) => a[0] - b[0])) {
    seen += count;
    if (seen >= rank) return BIN_FROM_MS + (bin + 1) * BIN_MS;
  }
  return NaN;
}

async function main(): Promise<void> {
  const database = await createBenchDatabase(args.postgres ? 'postgres' : 'sqlite');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('KEYGATE_') || ['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'REDIS_URL'].includes(name)) delete env[name];
  Object.assign(env, {
    KEYGATE_DATA_DIR: database.dataDir,
    KEYGATE_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    KEYGATE_RATE_LIMITS: 'off',
    KEYGATE_WS_MAX_SOCKETS_PER_IP: '1000000',
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
  });

  // Two traders with keys, funded far beyond what a run moves.
  const keys: Array<{ apiKey: string; secret: string }> = [];
  const admin = await createApp(loadConfig(env), { logger: pino({ level: 'warn' }), exchange: false });
  for (const name of ['maker', 'taker']) {
    const user = await admin.accounts.create(`bench-ws-${name}@example.com`, undefined);
    await admin.ledger.credit(user.id, 'btc', '10000000');
    await admin.ledger.credit(user.id, 'usdt', '100000000000');
    const created = await admin.apiKeys.create(user.id, { name, method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'trade'] });
    keys.push({ apiKey: created.key.apiKey, secret: created.secret! });
  }
  await admin.close();

  const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'keygate-bench-ws-profile-')) : undefined;
  const execArgv = ['--expose-gc', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const server = fork(join(here, 'server.js'), [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const children: ChildProcess[] = [server];
  try {
    const ready = await ask<ServerReply>(server, undefined, 60_000);
    if (ready.type !== 'ready') throw new Error('the server did not start');
    const baseUrl = `http://127.0.0.1:${ready.port}`;
    const url = `ws://127.0.0.1:${ready.port}/ws/V2/`;
    const [maker, taker] = keys.map((k) => new LbankClient({ baseUrl, apiKey: k.apiKey, secret: k.secret })) as [LbankClient, LbankClient];
    const place = (client: LbankClient, type: string, price: number, amount: string) => client.call<{ order_id: string }>('supplement/create_order', { symbol: MARKET, type, price: price.toFixed(2), amount });

    // The deep best levels, and a book behind them.
    await place(maker, 'sell', BEST_ASK, '1000000');
    await place(maker, 'buy', BEST_BID, '1000000');
    for (let level = 1; level <= BAND; level++) {
      await place(maker, 'sell', BEST_ASK + level, '0.001');
      await place(maker, 'buy', BEST_BID - level, '0.001');
    }

    const clients = await Promise.all(
      Array.from({ length: clientCount }, async () => {
        const child = fork(join(here, 'ws-client.js'), [], { env: process.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        await ask<ClientReply>(child, undefined, 30_000);
        return child;
      }),
    );
    const all = async (command: (i: number) => ClientCommand, timeoutMs = 120_000): Promise<ClientReply[]> => {
      const replies = await Promise.all(clients.map((c, i) => ask<ClientReply>(c, command(i), timeoutMs)));
      const failed = replies.find((r) => r.type === 'error');
      if (failed?.type === 'error') throw new Error(`a subscriber process failed: ${failed.message}`);
      return replies;
    };
    const usage = async () => {
      const u = await ask<ServerReply>(server, { type: 'usage' }, 10_000);
      return u.type === 'usage' ? u.cpuUs : NaN;
    };

    let seq = 0;
    /** Runs the flow for `ms`; returns the acknowledgment time of each taking order by its trade's volume. */
    const flow = async (ms: number): Promise<{ acks: Record<string, number>; sent: number; acked: number; failed: number; dropped: number; firstFailure?: string }> => {
      const acks: Record<string, number> = {};
      const pending: Array<Promise<unknown>> = [];
      let sent = 0;
      let acked = 0;
      let failed = 0;
      let dropped = 0;
      let inFlight = 0;
      let firstFailure: string | undefined;
      const track = (request: Promise<unknown>, onAck: () => void) => {
        inFlight++;
        pending.push(
          request
            .then(() => {
              acked++;
              onAck();
            })
            .catch((error: Error) => {
              failed++;
              firstFailure ??= error.message;
            })
            .finally(() => inFlight--),
        );
      };
      const start = clock();
      const interval = 1000 / orderRate;
      for (let i = 0; clock() - start < ms; i++) {
        const due = start + i * interval;
        const wait = due - clock();
        if (wait > 1) await sleep(wait);
        // Open loop: a server that falls behind does not slow the flow down, it gets fewer orders.
        if (inFlight >= MAX_IN_FLIGHT) {
          dropped++;
          continue;
        }
        const n = seq++;
        sent++;
        if (n % 2 === 0) {
          // Rests within the band, on either side, never crossing the best levels.
          const level = 1 + ((n / 2) % BAND);
          track((n / 2) % 4 < 2 ? place(maker, 'sell', BEST_ASK + level, '0.001') : place(maker, 'buy', BEST_BID - level, '0.001'), () => undefined);
        } else {
          // Takes from a best level; its amount is its own within the run (0.0001 to 0.9 BTC).
          const amount = ((((n - 1) / 2) % 9000) + 1) / 10_000;
          const buy = ((n - 1) / 2) % 2 === 0;
          track(place(taker, buy ? 'buy_ioc' : 'sell_ioc', buy ? BEST_ASK : BEST_BID, amount.toFixed(4)), () => (acks[String(amount)] = clock()));
        }
      }
      await Promise.all(pending);
      return { acks, sent, acked, failed, dropped, ...(firstFailure ? { firstFailure } : {}) };
    };

    const rounds: RoundResult[] = [];
    for (const count of socketCounts) {
      const share = (i: number) => Math.floor(count / clientCount) + (i < count % clientCount ? 1 : 0);
      await all((i) => ({ type: 'subscribe', url, sockets: share(i), market: MARKET, depth: DEPTH }), 600_000);
      const warm = await flow(warmup * 1000);
      if (warm.firstFailure) console.error(`bench:ws: warm-up: ${warm.failed} orders failed, the first with: ${warm.firstFailure}`);
      await sleep(500);
      await all(() => ({ type: 'record' }));
      const cpuBefore = await usage();
      const started = clock();
      const { acks, sent, acked, failed, dropped, firstFailure } = await flow(seconds * 1000);
      if (firstFailure) console.error(`bench:ws: ${failed} orders failed, the first with: ${firstFailure}`);
      const elapsed = (clock() - started) / 1000;
      const cpuAfter = await usage();
      // Stragglers.
      await sleep(1000);
      const results = (await all(() => ({ type: 'finish', acks }))).filter((r): r is Extract<ClientReply, { type: 'result' }> => r.type === 'result');
      const bins = new Map<number, number>();
      for (const r of results) for (const [bin, n] of r.bins) bins.set(bin, (bins.get(bin) ?? 0) + n);
      const deliveries = results.reduce((n, r) => n + r.deliveries, 0);
      const frames = results.reduce((n, r) => n + r.frames, 0);
      const bytes = results.reduce((n, r) => n + r.bytes, 0);
      rounds.push({
        sockets: count,
        ordersSent: sent,
        ordersAcked: acked,
        ordersFailed: failed,
        ordersDropped: dropped,
        trades: Object.keys(acks).length,
        deliveries,
        missing: results.reduce((n, r) => n + r.missing, 0),
        p50: percentileOf(bins, deliveries, 0.5),
        p99: percentileOf(bins, deliveries, 0.99),
        max: Math.max(...results.map((r) => r.maxMs)),
        framesPerSecond: frames / (elapsed + 1),
        megabytesPerSecond: bytes / (elapsed + 1) / 1e6,
        serverCpu: (cpuAfter - cpuBefore) / 1e6 / elapsed,
      });
      console.log(`bench:ws: ${count} sockets: p50 ${fixed(rounds.at(-1)!.p50, 1)} ms, p99 ${fixed(rounds.at(-1)!.p99, 1)} ms, ${rate(rounds.at(-1)!.missing)} missing`);
      await all(() => ({ type: 'close' }));
      await sleep(500);
    }

    // Memory: the server's heap after a full collection, before and after idle sockets open.
    const weigh = async () => {
      await sleep(300);
      const m = await ask<ServerReply>(server, { type: 'memory' }, 30_000);
      if (m.type !== 'memory') throw new Error('no memory report');
      return m;
    };
    const before = await weigh();
    await all((i) => ({ type: 'idle', url, sockets: Math.floor(idleSockets / clientCount) + (i < idleSockets % clientCount ? 1 : 0) }), 600_000);
    const after = await weigh();
    await all(() => ({ type: 'close' }));
    const perSocket = { heap: (after.heapUsed - before.heapUsed) / idleSockets, rss: (after.rss - before.rss) / idleSockets };

    const body = render(rounds, perSocket, database.kind);
    console.log(body);
    if (!args['dry-run']) updateBenchmarksFile(BENCHMARKS_FILE, 'bench:ws', database.kind, body);
    const verdicts = targets(rounds);
    if (args.check && verdicts.some((v) => v.met === false)) process.exitCode = 1;
  } finally {
    if (profileDir) {
      // A normal exit, so that the server writes its profile.
      const exited = new Promise((r) => server.once('exit', r));
      server.send({ type: 'stop' });
      await Promise.race([exited, sleep(10_000)]);
      for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) process.stderr.write(`\nserver: ${join(profileDir, file)}\n${summariseProfile(join(profileDir, file), 30)}\n`);
    }
    for (const child of children) child.kill('SIGKILL');
    await database.drop();
  }
}

function targets(rounds: readonly RoundResult[]): Verdict[] {
  const target = rounds.find((r) => r.sockets === TARGET_SOCKETS);
  const held = rounds.filter((r) => r.p99 < P99_TARGET_MS && r.missing === 0 && r.ordersFailed === 0 && r.ordersDropped === 0).map((r) => r.sockets);
  return [
    {
      check: `p99 ack → trade push, ${rate(TARGET_SOCKETS)} sockets at ${rate(TARGET_RATE)} orders/s`,
      measured: target ? `${fixed(target.p99, 1)} ms` : 'not run',
      target: `< ${P99_TARGET_MS} ms, no push missing`,
      met: target && orderRate === TARGET_RATE ? target.p99 < P99_TARGET_MS && target.missing === 0 && target.ordersFailed === 0 && target.ordersDropped === 0 : undefined,
      note: target ? `${rate(target.missing)} deliveries missing; ${rate(target.ordersFailed)} orders failed, ${rate(target.ordersDropped)} dropped` : `run with --sockets ${TARGET_SOCKETS}`,
    },
    {
      check: 'largest fan-out at that p99',
      measured: held.length > 0 ? `${rate(Math.max(...held))} sockets` : 'none',
      target: `of ${rounds.map((r) => rate(r.sockets)).join(', ')} tried`,
      met: undefined,
      note: `at ${rate(orderRate)} orders/s`,
    },
  ];
}

function render(rounds: readonly RoundResult[], perSocket: { heap: number; rss: number }, kind: string): string {
  const machine = describeMachine(kind);
  return [
    `### bench:ws on ${kind}`,
    '',
    `${machine.date}; ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}. ${rate(orderRate)} orders/s on ${MARKET} for ${seconds} s after ${warmup} s of warm-up; subscribers in ${clientCount} processes, each socket subscribed to depth (${DEPTH}) and trade; pushes coalesced at the default interval.`,
    '',
    table(
      ['sockets', 'orders sent / acked / failed / dropped', 'trades', 'deliveries', 'missing', 'p50', 'p99', 'max', 'frames/s', 'MB/s', 'server CPU'],
      rounds.map((r) => [rate(r.sockets), `${rate(r.ordersSent)} / ${rate(r.ordersAcked)} / ${rate(r.ordersFailed)} / ${rate(r.ordersDropped)}`, rate(r.trades), rate(r.deliveries), rate(r.missing), `${fixed(r.p50, 1)} ms`, `${fixed(r.p99, 1)} ms`, `${fixed(r.max, 1)} ms`, rate(r.framesPerSecond), fixed(r.megabytesPerSecond, 1), `${fixed(r.serverCpu * 100, 0)} %`]),
    ),
    '',
    `Memory per idle socket (${rate(idleSockets)} opened, server heap after a full collection): ${fixed(perSocket.heap / 1024, 1)} KiB of heap, ${fixed(perSocket.rss / 1024, 1)} KiB of RSS.`,
    '',
    verdictTable(targets(rounds)),
  ].join('\n');
}

await main();
