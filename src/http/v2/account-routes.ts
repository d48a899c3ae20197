// Signed endpoints about the key itself and the account's balances.
import type { App } from '../../app.js';
import { authorityExpiresAt, effectiveAuthority } from '../../domain/keys.js';
import { Decimal } from '../../domain/ledger.js';
import type { SignedEndpoint } from './signed.js';

export function accountEndpoints(app: App): SignedEndpoint[] {
  const assets = new Map(app.config.markets.assets.map((a) => [a.code, a]));

  const networkList = (code: string) =>
    (assets.get(code)?.networks ?? []).map((n) => ({
      isDefault: n.isDefault,
      withdrawFeeRate: '',
      name: n.name,
      withdrawMin: Number(n.withdrawMin),
      minLimit: Number(n.withdrawMin),
      minDeposit: Number(n.depositMin),
      feeAssetCode: code,
      withdrawFee: n.withdrawFee,
      type: 1,
      coin: code,
      network: n.name,
    }));

  const total = (b: { available: string; frozen: string }) => new Decimal(b.available).plus(b.frozen).toFixed();

  return [
    {
      path: 'supplement/api_Restrictions',
      authority: 'read',
      async handler({ key, now }) {
        const held = effectiveAuthority(key, now);
        return {
          ipRestrict: key.ips.length > 0,
          createTime: key.createdAt,
          enableReading: true,
          enableSpotTrading: held.includes('trade'),
          enableWithdrawals: held.includes('withdraw'),
          // Beyond LBank:
          enableFutures: held.includes('futures'),
          enableTransfer: held.includes('transfer'),
          tradingAuthorityExpirationTime: authorityExpiresAt(key),
        };
      },
    },
    {
      path: 'user_info',
      authority: 'read',
      async handler({ key }) {
        const balances = await app.ledger.balances(key.userId);
        const map = (pick: (b: (typeof balances)[number]) => string) => Object.fromEntries(balances.map((b) => [b.asset, pick(b)]));
        return {
          free: map((b) => b.available),
          freeze: map((b) => b.frozen),
          asset: map(total),
          // Valuation in BTC needs market prices, which come with the order book; BTC itself is exact.
          toBtc: map((b) => (b.asset === 'btc' ? total(b) : '0')),
        };
      },
    },
    {
      path: 'supplement/user_info',
      authority: 'read',
      async handler({ key }) {
        const balances = await app.ledger.balances(key.userId);
        return balances.map((b) => ({
          coin: b.asset,
          usableAmt: b.available,
          assetAmt: total(b),
          freezeAmt: b.frozen,
          networkList: networkList(b.asset),
        }));
      },
    },
    {
      path: 'supplement/user_info_account',
      authority: 'read',
      async handler({ key, now }) {
        const held = effectiveAuthority(key, now);
        const balances = await app.ledger.balances(key.userId);
        return {
          canTrade: held.includes('trade'),
          canWithdraw: held.includes('withdraw'),
          canDeposit: true,
          balances: balances.map((b) => ({ asset: b.asset, free: b.available, locked: b.frozen })),
        };
      },
    },
  ];
}
