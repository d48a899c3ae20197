// The WebSocket API on a fleet of two real `keygate serve` processes (PostgreSQL, Redis): the stock
// ccxt pro suite (as in ws-ccxt.test.ts) with its socket on one server and the market's engine on the
// other; and private streams on one server stopping when the key is disabled by another process (the
// admin) or its subscribe key is destroyed through the other server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { DEFAULT_CATALOGUE } from '../src/domain/markets.js';
import { serverIdOf, startFleet, until, type Fleet, type FleetServer } from './support/fleet.js';
import { signedPost } from './support/requests.js';
import { openSocket, type TestSocket } from './support/ws.js';
import { ccxtProSuite } from './support/ws-ccxt-suite.js';


interface Started {
  fleet: Fleet;
  /** Sockets connect here… */
  a: FleetServer;
  /** …and this one runs the market's engine. */
  b: FleetServer;
  market: string;
  dir: string;
}

let started: Promise<Started> | undefined;
/** One fleet for the whole file. Every market is priced like btc_usdt, so that the suite can use whichever runs on b. */
function fleetOnce(): Promise<Started> {
  started ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-ws-fleet-'));
    const file = join(dir, 'markets.json');
    writeFileSync(file, JSON.stringify({ ...DEFAULT_CATALOGUE, markets: DEFAULT_CATALOGUE.markets.map((m) => ({ ...m, priceAccuracy: 2, quantityAccuracy: 4, minTranQua: '0.0001' })) }));
    const fleet = await startFleet(2, { env: { KEYGATE_RATE_LIMITS: 'off', KEYGATE_MARKETS: file } });
    const [a, b] = fleet.servers as [FleetServer, FleetServer];
    const onB = serverIdOf(b);
    const market = await until('a usdt market to run on the second server', async () => {
      const rows = await fleet.admin.database.db.selectFrom('market_leases').select(['symbol', 'holder']).execute();
      return rows.find((r) => r.holder === onB && r.symbol.endsWith('_usdt'))?.symbol;
    }, 15_000);
    return { fleet, a, b, market, dir };
  })();
  return started;
}

let counter = 0;
async function funded(fleet: Fleet, funds: Record<string, string>) {
  const user = await fleet.admin.accounts.create(`ws-fleet-${++counter}-${Date.now()}@example.com`, undefined);
  for (const [asset, amount] of Object.entries(funds)) await fleet.admin.ledger.credit(user.id, asset, amount);
  const key = await fleet.admin.apiKeys.create(user.id, { name: 'bot', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'trade'] });
  return { userId: user.id, apiKey: key.key.apiKey, secret: key.secret!, on: (server: FleetServer) => new LbankClient({ baseUrl: server.baseUrl, apiKey: key.key.apiKey, secret: key.secret! }) };
}

ccxtProSuite('ccxt pro with its socket on one server and the market’s engine on the other', async () => {
  const { fleet, a, market } = await fleetOnce();
  return { baseUrl: a.baseUrl, market, trader: (funds) => funded(fleet, funds), stop: async () => undefined };
});

describe('private streams across the fleet', () => {
  let fleet: Fleet;
  let a: FleetServer;
  let b: FleetServer;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    ({ fleet, a, b } = await fleetOnce());
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    const { dir } = await fleetOnce();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops private streams on one server when the key is disabled by another process, or its subscribe key destroyed through the other server', async () => {
    const t = await funded(fleet, { usdt: '100' });
    const keyOn = async (server: FleetServer) => (await signedPost(server.baseUrl, 'subscribe/get_key', t.on(server))).body.data as string;
    const first = await keyOn(b);
    const ws = await openSocket(a.baseUrl);
    sockets.push(ws);
    ws.send({ action: 'subscribe', subscribe: 'assetUpdate', subscribeKey: first });
    await ws.next((f) => f.type === 'assetUpdate');
    expect((await signedPost(b.baseUrl, 'subscribe/destroy_key', t.on(b), { params: { subscribeKey: first } })).body.result).toBe('true');
    expect(await ws.next((f) => f.status === 'error')).toMatchObject({ message: 'subscribeKey is unknown or was destroyed', subscribe: 'assetUpdate' });

    const second = await keyOn(a);
    const from = ws.frames.length;
    ws.send({ action: 'subscribe', subscribe: 'orderUpdate', subscribeKey: second, pair: 'all' });
    ws.send({ action: 'subscribe', subscribe: 'assetUpdate', subscribeKey: second });
    await ws.next((f) => f.type === 'assetUpdate', { from });
    await fleet.admin.apiKeys.setStatus(t.apiKey, 'disabled');
    const stopped = await ws.next((f) => f.status === 'error' && f.subscribe === 'orderUpdate', { from });
    expect(stopped.message).toBe('the API key that made this subscribeKey was disabled');
    await ws.next((f) => f.status === 'error' && f.subscribe === 'assetUpdate', { from });
  });
});
