// Signed wallet endpoints: deposit addresses and history (Read), withdrawals (Withdraw), and
// intra-site transfers to another Keygate UID (Transfer).
import { createHash } from 'node:crypto';
import type { App } from '../../app.js';
import { LbankError } from './errors.js';
import type { SignedEndpoint } from './signed.js';
import { deposit, integerParam, legacyWithdrawal, optional, required, WITHDRAWAL_STATUS_NAMES, withdrawal } from './views.js';

const NINETY_DAYS_MS = 90 * 24 * 60 * 60 * 1000;

export function walletEndpoints(app: App): SignedEndpoint[] {
  const assets = app.config.markets.assets;

  /** A sandbox deposit address, stable per account, asset and network; nothing is ever sent to it. */
  const depositAddress = (uid: number, coin: string, networkName: string | undefined) => {
    const asset = assets.find((a) => a.code === coin.toLowerCase());
    if (!asset) throw new LbankError(10701, coin.slice(0, 32));
    const network = networkName ? asset.networks.find((n) => n.name.toLowerCase() === networkName.toLowerCase()) : (asset.networks.find((n) => n.isDefault) ?? asset.networks[0]);
    if (!network) throw new LbankError(10701, `${asset.code} has no network ${networkName?.slice(0, 32) ?? ''}`);
    const address = `sandbox${createHash('sha256').update(`${uid}:${asset.code}:${network.name}`).digest('hex').slice(0, 34)}`;
    return { asset: asset.code, network: network.name, address };
  };

  const networkName = (name: string | undefined) => (name === undefined ? undefined : (assets.flatMap((a) => a.networks).find((n) => n.name.toLowerCase() === name.toLowerCase())?.name ?? name));

  const timeRange = (params: Readonly<Record<string, string>>) => {
    const now = app.now();
    return { since: integerParam(params, 'startTime', now - NINETY_DAYS_MS, 0, Number.MAX_SAFE_INTEGER), until: integerParam(params, 'endTime', now, 0, Number.MAX_SAFE_INTEGER) };
  };

  const withdraw = async (userId: number, params: Readonly<Record<string, string>>, legacy: boolean) => {
    const internal = optional(params, 'type') === '1';
    const row = await app.withdrawals.request(userId, {
      coin: required(params, legacy ? 'assetCode' : 'coin'),
      amount: required(params, 'amount'),
      fee: optional(params, 'fee'),
      address: required(params, legacy ? 'account' : 'address'),
      networkName: networkName(optional(params, 'networkName')),
      memo: optional(params, 'memo'),
      clientId: optional(params, 'withdrawOrderId'),
      internal,
    });
    return { fee: row.fee, withdrawId: row.id };
  };

  return [
    {
      path: 'supplement/get_deposit_address',
      booleanResult: true,
      authority: 'read',
      async handler({ key, params }) {
        const found = depositAddress(key.userId, required(params, 'coin'), optional(params, 'networkName'));
        return { address: found.address, memo: null, coin: found.asset };
      },
    },
    {
      path: 'get_deposit_address',
      booleanResult: true,
      authority: 'read',
      async handler({ key, params }) {
        const found = depositAddress(key.userId, required(params, 'assetCode'), optional(params, 'netWork'));
        return { assetCode: found.asset, address: found.address, memo: null, netWork: found.network };
      },
    },
    ...(['supplement/deposit_history', 'deposit_history'] as const).map(
      (path): SignedEndpoint => ({
        path,
        authority: 'read',
        booleanResult: path.startsWith('supplement/'),
        async handler({ key, params }) {
          const status = optional(params, 'status');
          const coin = optional(params, path === 'deposit_history' ? 'assetCode' : 'coin') ?? optional(params, 'coin');
          // Sandbox deposits are credited at once: all of them are "2", successful.
          const records = status === undefined || status === '2' ? await app.withdrawals.deposits(key.userId, { ...timeRange(params), ...(coin ? { coin } : {}) }) : [];
          return { total: records.length, page_length: records.length, current_page: 1, depositOrders: records.map(deposit) };
        },
      }),
    ),
    {
      path: 'supplement/withdraws',
      booleanResult: true,
      authority: 'read',
      async handler({ key, params }) {
        const status = optional(params, 'status');
        if (status !== undefined && !WITHDRAWAL_STATUS_NAMES[status]) throw new LbankError(10003, 'status must be 1, 2, 3 or 4');
        const rows = await app.withdrawals.list(key.userId, {
          ...timeRange(params),
          ...(optional(params, 'coin') ? { coin: optional(params, 'coin') } : {}),
          ...(status ? { status: WITHDRAWAL_STATUS_NAMES[status] } : {}),
          ...(optional(params, 'withdrawOrderId') ? { clientId: optional(params, 'withdrawOrderId') } : {}),
        });
        return { total: rows.length, page_length: rows.length, current_page: 1, withdraws: rows.map(withdrawal) };
      },
    },
    {
      path: 'withdraws',
      authority: 'read',
      async handler({ key, params }) {
        const status = optional(params, 'status') ?? '0';
        if (status !== '0' && !WITHDRAWAL_STATUS_NAMES[status]) throw new LbankError(10003, 'status must be 0 (all), 1, 2, 3 or 4');
        const pageNo = integerParam(params, 'pageNo', 1, 1, 1_000_000);
        const pageSize = integerParam(params, 'pageSize', 20, 1, 100);
        const rows = await app.withdrawals.list(key.userId, {
          ...(optional(params, 'assetCode') ? { coin: optional(params, 'assetCode') } : {}),
          ...(status !== '0' ? { status: WITHDRAWAL_STATUS_NAMES[status] } : {}),
        });
        return { totalPages: Math.max(1, Math.ceil(rows.length / pageSize)), pageSize, pageNo, list: rows.slice((pageNo - 1) * pageSize, pageNo * pageSize).map(legacyWithdrawal) };
      },
    },
    {
      // type=1 moves funds to another Keygate account at once and needs Transfer instead of Withdraw.
      path: 'supplement/withdraw',
      booleanResult: true,
      authority: (params) => (params.type === '1' ? 'transfer' : 'withdraw'),
      handler: ({ key, params }) => withdraw(key.userId, params, false),
    },
    {
      path: 'withdraw',
      authority: (params) => (params.type === '1' ? 'transfer' : 'withdraw'),
      handler: ({ key, params }) => withdraw(key.userId, params, true),
    },
    {
      path: 'withdrawCancel',
      authority: 'withdraw',
      async handler({ key, params }) {
        const id = integerParam(params, 'withdrawId', 0, 1, 2_147_483_647);
        if (id === 0) throw new LbankError(10001, 'withdrawId');
        const row = await app.withdrawals.cancel(key.userId, id);
        return { withdrawId: String(row.id) };
      },
    },
  ];
}
