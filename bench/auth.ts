// npm run bench:auth [-- --postgres | --fleet] [--dry-run] [--check] [--profile] [--metrics] [--legs hmac,rsa]
//                      [--concurrency N] [--rounds R] [--seconds S] [--half-rounds R] [--half-seconds S]
//                      [--stored-keys N --active-keys M]
//
// What signature authentication costs: throughput and latency of the signed
// POST /v2/supplement/api_Restrictions.do against the public GET /v2/timestamp.do, for an
// HmacSHA256 key and an RSA key. This process only orchestrates (harness.ts); the server and the
// load generator run in processes of their own (server.ts, load.ts), and all traffic stays on 127.0.0.1.
import { parseArgs } from 'node:util';
import type { App } from '../src/app.js';
import type { SignatureMethod } from '../src/domain/signing.js';
import { COMMON_OPTIONS, commonSettings, FLEET_SIZE, positive, runBenchmark, selectLegs } from './harness.js';
import { newApiKeyId, newHmacSecret } from '../src/domain/keys.js';
import { secretContext } from '../src/services/api-keys.js';
import { median, type Credentials, type Leg } from './protocol.js';
import { fixed, pairedMedian, percent, percentAgainst, renderSection, type RunReport, type Verdict } from './report.js';

const { values: args } = parseArgs({
  options: {
    ...COMMON_OPTIONS,
    'half-rounds': { type: 'string', default: '3' },
    'half-seconds': { type: 'string', default: '3' },
    /** A subset of legs, comma-separated (public-hmac, hmac, public-rsa, rsa, hmac-many); never written to BENCHMARKS.md. */
    legs: { type: 'string' },
    /**
     * Many stored keys: N keys in the database, of which the last leg signs with M in turn, against the
     * hmac leg's one key (the key caches must hold the active set, not thrash).
     */
    'stored-keys': { type: 'string', default: '0' },
    'active-keys': { type: 'string', default: '100000' },
  },
});
const storedKeys = Math.round(Number(args['stored-keys']));
const activeKeys = Math.min(storedKeys, Math.round(positive('active-keys', args['active-keys'])));
if (!Number.isFinite(storedKeys) || storedKeys < 0) throw new Error(`--stored-keys must be a whole number, got "${args['stored-keys']}"`);
const MANY = 'hmac·many';
const manyKeyNames = Array.from({ length: activeKeys }, (_, i) => `many-${i}`);

const WITH_METRICS = 'hmac·metrics';
/**
 * Each signed leg is compared with the public leg signed the same way, so the client's work is the same
 * in both. A --metrics run measures the signed HMAC leg on a server without metrics (the first) against
 * the same leg on its twin with metrics on (the second): the two servers get the same work.
 */
const LEGS: readonly Leg[] = args.metrics
  ? [
      { name: 'hmac', target: 'restrictions', keys: ['HmacSHA256'], server: 0 },
      { name: WITH_METRICS, target: 'restrictions', keys: ['HmacSHA256'], server: 1 },
    ]
  : [
      { name: 'public·hmac', target: 'public', keys: ['HmacSHA256'] },
      { name: 'hmac', target: 'restrictions', keys: ['HmacSHA256'] },
      { name: 'public·rsa', target: 'public', keys: ['RSA'] },
      { name: 'rsa', target: 'restrictions', keys: ['RSA'] },
      // Warmed with every active key on every server, as servers behind a load balancer are in steady state.
      ...(storedKeys > 0 ? [{ name: MANY, target: 'restrictions' as const, keys: manyKeyNames, warmRequests: activeKeys * (args.fleet ? FLEET_SIZE : 1) }] : []),
    ];
/** What metrics may cost the signed path's throughput (the target). */
const METRICS_MAX_COST = 0.03;
/** The many-keys leg may cost at most this much throughput against the hmac leg. */
const MANY_KEYS_MAX_COST = 0.1;

/**
 * The issues' targets: signed throughput as a share of its public twin's, and p99 at half load. On a
 * fleet (two servers on PostgreSQL and Redis) the HMAC target is 0.80 and RSA is reported only.
 */
const THROUGHPUT_TARGETS = [
  { signed: 'hmac', public: 'public·hmac', min: 0.9, fleetMin: 0.8 },
  { signed: 'rsa', public: 'public·rsa', min: 0.7, fleetMin: undefined },
] as const;
const P99_TARGET_MS = 5;


const legs = selectLegs(LEGS, args.legs ?? LEGS.map((l) => l.name).join(','));
const settings = commonSettings(args, Math.round(positive('half-rounds', args['half-rounds'])), positive('half-seconds', args['half-seconds']));

/** A user with one HmacSHA256 and one RSA key, both bound to 127.0.0.1 with Read authority. */
async function provision(app: App): Promise<Credentials> {
  const user = await app.accounts.create('bench@example.com', undefined);
  const make = async (method: SignatureMethod) => {
    const created = await app.apiKeys.create(user.id, { name: `bench-${method}`, method, ips: '127.0.0.1', authority: ['read'] });
    if (created.secret === null) throw new Error('no secret returned');
    return { apiKey: created.key.apiKey, secret: created.secret, method };
  };
  const credentials: Credentials = { HmacSHA256: await make('HmacSHA256'), RSA: await make('RSA') };
  if (storedKeys > 0) Object.assign(credentials, await provisionMany(app));
  return credentials;
}

/**
 * `storedKeys` keys written straight into the database in batches (the 5-key quota is the portal's
 * rule, not the signed path's), each sealed as the service seals one; returns the first `activeKeys`.
 */
async function provisionMany(app: App): Promise<Credentials> {
  const user = await app.accounts.create('bench-many@example.com', undefined);
  const credentials: Credentials = {};
  const now = Date.now();
  const BATCH = 2000;
  for (let start = 0; start < storedKeys; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(storedKeys, start + BATCH); i++) {
      const apiKey = newApiKeyId();
      const secret = newHmacSecret();
      if (i < activeKeys) credentials[`many-${i}`] = { apiKey, secret, method: 'HmacSHA256' };
      rows.push({
        api_key: apiKey,
        user_id: user.id,
        name: `many-${i}`,
        method: 'HmacSHA256',
        ips: JSON.stringify(['127.0.0.1']),
        authority: 'read',
        secret_sealed: app.secretBox.seal(secret, secretContext(apiKey)),
        public_key: null,
        status: 'enabled',
        created_at: now,
        updated_at: now,
      });
    }
    await app.database.db.insertInto('api_keys').values(rows).execute();
    if ((start / BATCH) % 50 === 0) process.stderr.write(`bench:auth: ${start + rows.length} of ${storedKeys} keys stored\n`);
  }
  return credentials;
}

function verdicts(report: RunReport): Verdict[] {
  const max = new Map(report.max.map((l) => [l.leg.name, l]));
  const half = new Map(report.atRate.map((l) => [l.leg.name, l]));
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
    const min = report.database === 'fleet' ? t.fleetMin : t.min;
    out.push({ check: `${t.signed} throughput vs ${t.public}`, measured: percentAgainst(ratio, min), target: min === undefined ? 'reported' : `≥ ${min * 100} %`, met: min === undefined ? undefined : ratio >= min, note: notes.join('; ') });
  }
  const metered = max.get(WITH_METRICS);
  const plain = max.get('hmac');
  if (metered && plain) {
    // As the other throughput targets: the legs' medians (they ran in turn in every round, on twin
    // servers); the round-by-round ratio and the servers' CPU per request say how steady that is.
    const cost = 1 - metered.median.throughput / plain.median.throughput;
    const paired = 1 - pairedMedian(metered.rounds.map((r) => r.throughput), plain.rounds.map((r) => r.throughput), (m, p) => m / p);
    const cpu = median(metered.rounds.map((r) => r.serverCpuUs)) / median(plain.rounds.map((r) => r.serverCpuUs)) - 1;
    out.push({
      check: `${WITH_METRICS} (metrics on, scraped every second) vs hmac (metrics off)`,
      measured: `${percent(cost)} slower`,
      target: `< ${METRICS_MAX_COST * 100} % slower`,
      met: cost < METRICS_MAX_COST,
      note: `median round by round ${percent(paired)} slower; server CPU per request (median of rounds) ${fixed(median(plain.rounds.map((r) => r.serverCpuUs)), 0)} µs without and ${fixed(median(metered.rounds.map((r) => r.serverCpuUs)), 0)} µs with metrics (${cpu >= 0 ? '+' : ''}${percent(cpu)})`,
    });
  }
  const many = max.get(MANY);
  const one = max.get('hmac');
  if (many && one) {
    const cost = 1 - many.median.throughput / one.median.throughput;
    out.push({
      check: `${MANY} (${activeKeys.toLocaleString('en')} of ${storedKeys.toLocaleString('en')} stored keys in turn) vs hmac (one key)`,
      measured: `${percent(cost)} slower`,
      target: `< ${MANY_KEYS_MAX_COST * 100} % slower`,
      met: cost < MANY_KEYS_MAX_COST,
      note: `server CPU per request ${fixed(one.median.serverCpuUs, 0)} µs (hmac) and ${fixed(many.median.serverCpuUs, 0)} µs (${MANY})`,
    });
  }
  for (const t of THROUGHPUT_TARGETS) {
    const signed = half.get(t.signed);
    if (!signed) continue;
    const twin = half.get(t.public);
    const dropped = signed.median.dropped ?? 0;
    const notes = [`rounds: ${signed.rounds.map((r) => fixed(r.p99Ms, 1)).join(' / ')} ms`];
    if (twin) notes.push(`${t.public} at half load: ${fixed(twin.median.p99Ms, 2)} ms`);
    if (dropped > 0) notes.push(`${dropped} requests dropped (generator limit)`);
    // The p99 target is a lone server's; on a fleet (four processes and two databases on two CPUs) it is reported.
    const fleet = report.database === 'fleet';
    out.push({
      check: `${t.signed} p99 at half of max load`,
      measured: `${fixed(signed.median.p99Ms, 2)} ms`,
      target: fleet ? 'reported' : `< ${P99_TARGET_MS} ms`,
      met: fleet ? undefined : signed.median.p99Ms < P99_TARGET_MS && dropped === 0,
      note: notes.join('; '),
    });
  }
  return out;
}

runBenchmark({
  name: 'bench:auth',
  metricsTwin: true,
  args,
  settings,
  allLegs: LEGS,
  legs,
  // Half of each leg's own maximum, offered at a fixed rate whatever the latency.
  rateOf: (max) => max.median.throughput / 2,
  rateLabel: 'half load',
  provision,
  render: (report) => renderSection(report, { rateLabel: 'half load', rateHeading: "Half of each leg's maximum (open loop, fixed arrival rate", verdicts: verdicts(report) }),
  verdicts,
});
