// npm run bench:orders [-- --postgres] [--dry-run] [--check] [--profile] [--legs orders]
//                        [--concurrency N] [--rounds R] [--seconds S] [--rate N] [--rate-rounds R] [--rate-seconds S]
//
// What placing an order costs: signed POST /v2/supplement/create_order.do limit orders that rest
// on the book and cross it (order-flow.ts), through the whole stack — authentication, matching,
// the balances, order and trade rows committed before the answer — against the signed
// POST /v2/supplement/api_Restrictions.do as the baseline, with the same generator and key.
// Afterwards the database is checked: every acknowledged order stored, the trades and resting
// orders the flow implies, and the ledger balanced.
import { parseArgs } from 'node:util';
import type { App } from '../src/app.js';
import { Decimal } from '../src/domain/ledger.js';
import { OrderStatus } from '../src/domain/orders.js';
import { ledgerTotals } from '../src/storage/ledger.js';
import { COMMON_OPTIONS, commonSettings, positive, runBenchmark, selectLegs, type Bench } from './harness.js';
import { DEPTH, expectedOutcome, ORDER_AMOUNT, ORDER_SYMBOL } from './order-flow.js';
import type { Credentials, Leg } from './protocol.js';
import { allMet, bottleneck, fixed, pairedMedian, percent, rate, renderSection, verdictTable, type RunReport, type Verdict } from './report.js';

const TRADERS = ['trader-a', 'trader-b'] as const;
const BASELINE = 'restrictions';
const ORDERS = 'orders';
/** Both legs sign with HmacSHA256 keys of the same traders, so the client's work differs only by the order's parameters. */
const LEGS: readonly Leg[] = [
  { name: BASELINE, target: 'restrictions', keys: [TRADERS[0]] },
  { name: ORDERS, target: 'order', keys: TRADERS },
];
/** Each trader's deposit: far more than any run moves (an order is 0.001 BTC, about 30 USDT). */
const FUNDS = { btc: '1000', usdt: '100000000' };

/** The targets. */
const SQLITE_MIN_ORDERS_PER_S = 2000;
/** Over the fleet's two servers (PostgreSQL and Redis). */
const FLEET_MIN_ORDERS_PER_S = 3000;
const MIN_SHARE_OF_BASELINE = 0.4;
const P99_TARGET_MS = 20;

const { values: args } = parseArgs({
  options: {
    ...COMMON_OPTIONS,
    /** The fixed arrival rate of the latency rounds, requests per second. */
    rate: { type: 'string', default: '500' },
    'rate-rounds': { type: 'string', default: '3' },
    'rate-seconds': { type: 'string', default: '5' },
    /** A subset of legs, comma-separated (restrictions, orders); never written to BENCHMARKS.md. */
    legs: { type: 'string', default: LEGS.map((l) => l.name).join(',') },
  },
});

const legs = selectLegs(LEGS, args.legs);
const fixedRate = positive('rate', args.rate);
const settings = commonSettings(args, Math.round(positive('rate-rounds', args['rate-rounds'])), positive('rate-seconds', args['rate-seconds']));
const rateLabel = `${rate(fixedRate)} req/s`;

/** Two traders, each funded with BTC and USDT and holding an HmacSHA256 key bound to 127.0.0.1 with Read and Trade authority. */
async function provision(app: App): Promise<Credentials> {
  const credentials: Credentials = {};
  for (const name of TRADERS) {
    const user = await app.accounts.create(`bench-${name}@example.com`, undefined);
    for (const [asset, amount] of Object.entries(FUNDS)) await app.ledger.credit(user.id, asset, amount);
    const created = await app.apiKeys.create(user.id, { name: `bench-${name}`, method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'trade'] });
    if (created.secret === null) throw new Error('no secret returned');
    credentials[name] = { apiKey: created.key.apiKey, secret: created.secret, method: 'HmacSHA256' };
  }
  return credentials;
}

/** What the database holds after the run, against what the acknowledged orders imply. */
interface Inspection {
  acknowledged: number;
  stored: number;
  trades: number;
  resting: number;
  expected: ReturnType<typeof expectedOutcome>;
  /** Per asset: held (balances + fee income) and brought in (deposits − withdrawals). */
  assets: Array<{ asset: string; held: string; broughtIn: string }>;
  negativeBalances: number;
}

async function inspect(app: App, bench: Bench): Promise<Inspection> {
  const db = app.database.db;
  const count = async (query: Promise<{ n: number | string | bigint }>) => Number((await query).n);
  const acknowledged = bench.completed.get(ORDERS) ?? 0;
  const stored = await count(db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).where('symbol', '=', ORDER_SYMBOL).executeTakeFirstOrThrow());
  const resting = await count(
    db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('symbol', '=', ORDER_SYMBOL)
      .where('status', 'in', [OrderStatus.unfilled, OrderStatus.partiallyFilled])
      .executeTakeFirstOrThrow(),
  );
  const trades = await count(db.selectFrom('trades').select((eb) => eb.fn.countAll().as('n')).where('symbol', '=', ORDER_SYMBOL).executeTakeFirstOrThrow());
  const { held, broughtIn } = await ledgerTotals(db);
  const zero = new Decimal(0);
  const assets = [...new Set([...held.keys(), ...broughtIn.keys()])]
    .sort()
    .map((asset) => ({ asset, held: (held.get(asset) ?? zero).toFixed(), broughtIn: (broughtIn.get(asset) ?? zero).toFixed() }));
  const balances = await db.selectFrom('balances').select(['available', 'frozen']).execute();
  const negativeBalances = balances.filter((b) => new Decimal(b.available).isNegative() || new Decimal(b.frozen).isNegative()).length;
  return { acknowledged, stored, trades, resting, expected: expectedOutcome(acknowledged), assets, negativeBalances };
}

/** The database's consistency after the run; any failure withholds the numbers. */
function consistency(i: Inspection): Verdict[] {
  const balanced = i.assets.every((a) => a.held === a.broughtIn);
  return [
    { check: 'acknowledged orders stored', measured: `${rate(i.stored)} stored`, target: `${rate(i.acknowledged)} acknowledged`, met: i.stored === i.acknowledged, note: 'warm-up included' },
    {
      check: 'trades (one per crossing order)',
      measured: rate(i.trades),
      target: rate(i.expected.trades),
      met: i.trades === i.expected.trades,
      note: `${percent(i.acknowledged > 0 ? (2 * i.trades) / i.acknowledged : NaN)} of the orders were in a trade as maker or taker`,
    },
    {
      check: 'resting orders at the end',
      measured: rate(i.resting),
      target: rate(i.expected.resting),
      met: i.resting === i.expected.resting,
      note: `${rate(i.expected.buys)} buys and ${rate(i.expected.sells)} sells placed: one side rests, the difference; the book swings between 0 and ${DEPTH} orders`,
    },
    {
      check: 'ledger balanced (held = brought in, per asset)',
      measured: i.assets.map((a) => `${a.asset} ${a.held}`).join(', '),
      target: i.assets.map((a) => `${a.asset} ${a.broughtIn}`).join(', '),
      met: balanced && i.negativeBalances === 0,
      note: `held: every balance's available + frozen plus fee income; ${i.negativeBalances} negative balances`,
    },
  ];
}

function verdicts(report: RunReport): Verdict[] {
  const max = new Map(report.max.map((l) => [l.leg.name, l]));
  const atRate = new Map(report.atRate.map((l) => [l.leg.name, l]));
  const out: Verdict[] = [];
  const orders = max.get(ORDERS);
  const baseline = max.get(BASELINE);
  if (orders) {
    out.push({
      check: 'orders/s',
      measured: rate(orders.median.throughput),
      target: report.database === 'fleet' ? `≥ ${rate(FLEET_MIN_ORDERS_PER_S)} over the fleet` : `≥ ${rate(SQLITE_MIN_ORDERS_PER_S)} on SQLite`,
      met:
        report.database === 'sqlite'
          ? orders.median.throughput >= SQLITE_MIN_ORDERS_PER_S
          : report.database === 'fleet'
            ? orders.median.throughput >= FLEET_MIN_ORDERS_PER_S
            : undefined,
      note: `limited by: ${bottleneck(orders.median)}`,
    });
  }
  if (orders && baseline) {
    const ratio = orders.median.throughput / baseline.median.throughput;
    const paired = pairedMedian(orders.rounds.map((r) => r.throughput), baseline.rounds.map((r) => r.throughput), (o, b) => o / b);
    const serverBound = pairedMedian(orders.rounds.map((r) => r.serverCpuUs), baseline.rounds.map((r) => r.serverCpuUs), (o, b) => b / o);
    out.push({
      check: `orders throughput vs ${BASELINE}`,
      measured: percent(ratio),
      target: `≥ ${MIN_SHARE_OF_BASELINE * 100} %`,
      met: ratio >= MIN_SHARE_OF_BASELINE,
      note: `median of per-round ratios ${percent(paired)}; server CPU per request ${fixed(baseline.median.serverCpuUs, 0)} µs (${BASELINE}) and ${fixed(orders.median.serverCpuUs, 0)} µs (orders): server-bound estimate ${percent(serverBound)}`,
    });
  }
  const slow = atRate.get(ORDERS);
  if (slow) {
    const dropped = slow.median.dropped ?? 0;
    const notes = [`rounds: ${slow.rounds.map((r) => fixed(r.p99Ms, 1)).join(' / ')} ms`];
    const twin = atRate.get(BASELINE);
    if (twin) notes.push(`${BASELINE} at the same rate: ${fixed(twin.median.p99Ms, 2)} ms`);
    if (dropped > 0) notes.push(`${dropped} requests dropped (generator limit)`);
    out.push({
      check: `orders p99 at ${rateLabel}`,
      measured: `${fixed(slow.median.p99Ms, 2)} ms`,
      target: `< ${P99_TARGET_MS} ms`,
      met: slow.median.p99Ms < P99_TARGET_MS && dropped === 0,
      note: notes.join('; '),
    });
  }
  return out;
}

function render(report: RunReport, inspection: Inspection): string {
  return renderSection(report, {
    rateLabel,
    intro: [
      `Orders: limit orders of ${ORDER_AMOUNT} BTC on ${ORDER_SYMBOL} from two traders, half resting and half crossing (the book swings between 0 and ${DEPTH} resting orders); every request signed afresh with HmacSHA256.`,
    ],
    maxColumns: [
      ['machine CPU', (l) => percent(l.median.machineBusy)],
      ['limited by', (l) => bottleneck(l.median)],
    ],
    rateHeading: `At a fixed arrival rate of ${rateLabel} (open loop`,
    blocks: [['The database after the run:', verdictTable(consistency(inspection))]],
    verdicts: verdicts(report),
  });
}

runBenchmark({
  name: 'bench:orders',
  args,
  settings,
  allLegs: LEGS,
  legs,
  rateOf: () => fixedRate,
  rateLabel,
  provision,
  inspect,
  render,
  verdicts,
  problems: (inspection) => (allMet(consistency(inspection)) ? undefined : 'the database is not what the acknowledged orders imply'),
});
