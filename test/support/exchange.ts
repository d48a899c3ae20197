// Helpers for exchange tests: funded accounts with keys, and the ledger invariant.
import { expect } from 'vitest';
import { LbankClient } from '../../src/client/index.js';
import type { Authority } from '../../src/domain/keys.js';
import { Decimal } from '../../src/domain/ledger.js';
import { ledgerTotals } from '../../src/storage/ledger.js';
import type { RunningKeygate } from './server.js';

export interface Trader {
  userId: number;
  uid: string;
  apiKey: string;
  secret: string;
  client: LbankClient;
}

let counter = 0;

export async function trader(keygate: RunningKeygate, funds: Record<string, string>, authority: Authority[] = ['read', 'trade'], ips = '127.0.0.1'): Promise<Trader> {
  const user = await keygate.app.accounts.create(`trader${++counter}-${Date.now()}@example.com`, undefined);
  for (const [asset, amount] of Object.entries(funds)) await keygate.app.ledger.credit(user.id, asset, amount);
  const method = ips === '' ? 'RSA' : 'HmacSHA256';
  const key = await keygate.app.apiKeys.create(user.id, { name: 'bot', method, ips, authority });
  return { userId: user.id, uid: user.uid, apiKey: key.key.apiKey, secret: key.secret!, client: new LbankClient({ baseUrl: keygate.baseUrl, apiKey: key.key.apiKey, secret: key.secret! }) };
}

/** For every asset: all accounts' available + frozen plus fee income = deposits − completed withdrawals. */
export async function expectLedgerBalanced(keygate: RunningKeygate): Promise<void> {
  await keygate.app.exchange.idle();
  const { held, broughtIn } = await ledgerTotals(keygate.app.database.db);
  const assets = new Set([...held.keys(), ...broughtIn.keys()]);
  expect(assets.size).toBeGreaterThan(0);
  for (const asset of assets) {
    expect((held.get(asset) ?? new Decimal(0)).toFixed(), asset).toBe((broughtIn.get(asset) ?? new Decimal(0)).toFixed());
  }
  // No balance is ever negative.
  const negative = await keygate.app.database.db.selectFrom('balances').selectAll().execute();
  for (const b of negative) {
    expect(new Decimal(b.available).isNegative() || new Decimal(b.frozen).isNegative(), `${b.user_id}/${b.asset}`).toBe(false);
  }
}

export async function balance(keygate: RunningKeygate, t: Trader, asset: string): Promise<{ available: string; frozen: string }> {
  const row = (await keygate.app.ledger.balances(t.userId)).find((b) => b.asset === asset);
  return { available: row?.available ?? '0', frozen: row?.frozen ?? '0' };
}
