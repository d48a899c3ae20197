// npm run bench:auth [-- --postgres] [--dry-run] [--check] [--profile] [--metrics] [--legs hmac,rsa]
//                      [--concurrency N] [--rounds R] [--seconds S] [--half-rounds R] [--half-seconds S]
//
// What signature authentication costs: throughput and latency of the signed
// POST /v2/supplement/api_Restrictions.do against the public GET /v2/timestamp.do, for an
// HmacSHA256 key and an RSA key. This process only orchestrates (harness.ts); the server and the
// load generator run in processes of their own (server.ts, load.ts), and all traffic stays on 127.0.0.1.
import { parseArgs } from 'node:util';
import type { App } from '../src/app.js';
import type { SignatureMethod } from '../src/domain/signing.js';
import { COMMON_OPTIONS, commonSettings, positive, runBenchmark, selectLegs } from './harness.js';
import type { Credentials, Leg } from './protocol.js';
import { fixed, pairedMedian, percent, renderSection, type RunReport, type Verdict } from './report.js';

/** Each signed leg is compared with the public leg signed the same way, so the client's work is the same in both. */
const LEGS: readonly Leg[] = [
  { name: 'public·hmac', target: 'public', keys: ['HmacSHA256'] },
  { name: 'hmac', target: 'restrictions', keys: ['HmacSHA256'] },
  { name: 'public·rsa', target: 'public', keys: ['RSA'] },
  { name: 'rsa', target: 'restrictions', keys: ['RSA'] },
];

/** The targets: signed throughput as a share of its public twin's, and p99 at half load. */
const THROUGHPUT_TARGETS = [
  { signed: 'hmac', public: 'public·hmac', min: 0.9 },
  { signed: 'rsa', public: 'public·rsa', min: 0.7 },
] as const;
const P99_TARGET_MS = 5;

const { values: args } = parseArgs({
  options: {
    ...COMMON_OPTIONS,
    'half-rounds': { type: 'string', default: '3' },
    'half-seconds': { type: 'string', default: '3' },
    /** A subset of legs, comma-separated (public-hmac, hmac, public-rsa, rsa); never written to BENCHMARKS.md. */
    legs: { type: 'string', default: LEGS.map((l) => l.name).join(',') },
  },
});

const legs = selectLegs(LEGS, args.legs);
const settings = commonSettings(args, Math.round(positive('half-rounds', args['half-rounds'])), positive('half-seconds', args['half-seconds']));

/** A user with one HmacSHA256 and one RSA key, both bound to 127.0.0.1 with Read authority. */
async function provision(app: App): Promise<Credentials> {
  const user = await app.accounts.create('bench@example.com', undefined);
  const make = async (method: SignatureMethod) => {
    const created = await app.apiKeys.create(user.id, { name: `bench-${method}`, method, ips: '127.0.0.1', authority: ['read'] });
    if (created.secret === null) throw new Error('no secret returned');
    return { apiKey: created.key.apiKey, secret: created.secret, method };
  };
  return { HmacSHA256: await make('HmacSHA256'), RSA: await make('RSA') };
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

runBenchmark({
  name: 'bench:auth',
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
