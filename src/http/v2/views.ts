// The shapes LBank (and the clients written for it) use for orders, trades and transfers.
import { Decimal } from '../../domain/ledger.js';
import type { DepositRecord } from '../../storage/ledger.js';
import type { OrderRow, TradeRow } from '../../storage/exchange.js';
import type { WithdrawalRow } from '../../services/withdrawals.js';
import { LbankError } from './errors.js';

export function required(params: Readonly<Record<string, string>>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new LbankError(10001, name);
  return value;
}

export function optional(params: Readonly<Record<string, string>>, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

export function integerParam(params: Readonly<Record<string, string>>, name: string, fallback: number, min: number, max: number, code: 10003 | 10018 = 10003): number {
  const value = optional(params, name);
  if (value === undefined) return fallback;
  if (!/^\d{1,12}$/.test(value) || Number(value) < min || Number(value) > max) throw new LbankError(code, `${name} must be a whole number from ${min} to ${max}`);
  return Number(value);
}

export function paging(params: Readonly<Record<string, string>>): { page: number; pageLength: number } {
  return { page: integerParam(params, 'current_page', 1, 1, 1_000_000), pageLength: integerParam(params, 'page_length', 100, 1, 200, 10018) };
}

function averagePrice(order: OrderRow): string {
  const executed = new Decimal(order.executed_qty);
  return executed.isZero() ? '0' : new Decimal(order.executed_quote).div(executed).toDecimalPlaces(18).toFixed();
}

/** The order object of the supplement endpoints (orders_info, orders_info_no_deal, orders_info_history). */
export function supplementOrder(order: OrderRow) {
  const origQuote = order.quote_budget ?? (order.price && order.quantity ? new Decimal(order.price).times(order.quantity).toFixed() : '0');
  return {
    symbol: order.symbol,
    orderId: order.order_id,
    clientOrderId: order.custom_id,
    price: order.price ?? '0',
    origQty: order.quantity ?? '0',
    executedQty: order.executed_qty,
    cummulativeQuoteQty: order.executed_quote,
    origQuoteOrderQty: origQuote,
    time: order.created_at,
    updateTime: order.updated_at,
    type: order.type,
    status: order.status,
  };
}

/** The order object of the original v2 endpoints (orders_info and friends). */
export function legacyOrder(order: OrderRow) {
  return {
    symbol: order.symbol,
    amount: order.quantity ?? order.executed_qty,
    create_time: order.created_at,
    price: order.price ?? '0',
    avg_price: averagePrice(order),
    type: order.type,
    order_id: order.order_id,
    deal_amount: order.executed_qty,
    status: order.status,
    ...(order.custom_id !== null ? { custom_id: order.custom_id } : {}),
  };
}

/** What a cancellation answers. */
export function cancelledOrder(order: OrderRow) {
  return {
    symbol: order.symbol,
    orderId: order.order_id,
    origClientOrderId: order.custom_id,
    price: order.price ?? '0',
    origQty: order.quantity ?? '0',
    executedQty: order.executed_qty,
    status: order.status,
    tradeType: order.type,
  };
}

/** A trade as the account on one side of it sees it. */
export function ownTrade(trade: TradeRow, userId: number, orderTypes: ReadonlyMap<string, string>) {
  // Self-trades: the account is both; it is reported as the taker, whose order caused the trade.
  const isMaker = trade.maker_user_id === userId && trade.taker_user_id !== userId;
  const orderId = isMaker ? trade.maker_order_id : trade.taker_order_id;
  const side = isMaker ? (trade.taker_side === 'buy' ? 'sell' : 'buy') : trade.taker_side;
  return {
    isMaker,
    isBuyer: side === 'buy',
    orderId,
    orderType: orderTypes.get(orderId) ?? side,
    fee: isMaker ? trade.maker_fee : trade.taker_fee,
    feeRate: isMaker ? trade.maker_fee_rate : trade.taker_fee_rate,
  };
}

export function legacyTrade(trade: TradeRow, userId: number, orderTypes: ReadonlyMap<string, string>) {
  const own = ownTrade(trade, userId, orderTypes);
  return {
    txUuid: String(trade.id),
    orderUuid: own.orderId,
    tradeType: own.orderType,
    dealTime: trade.created_at,
    dealPrice: trade.price,
    dealQuantity: trade.quantity,
    dealVolumePrice: trade.quote_quantity,
    tradeFee: own.fee,
    tradeFeeRate: own.feeRate,
    isMaker: own.isMaker,
  };
}

export function supplementTrade(trade: TradeRow, userId: number, orderTypes: ReadonlyMap<string, string>) {
  const own = ownTrade(trade, userId, orderTypes);
  return {
    symbol: trade.symbol,
    id: String(trade.id),
    orderId: own.orderId,
    price: trade.price,
    qty: trade.quantity,
    quoteQty: trade.quote_quantity,
    commission: own.fee,
    time: trade.created_at,
    isMaker: own.isMaker,
    isBuyer: own.isBuyer,
  };
}

/** LBank's transfer status codes: deposits 2 = successful; withdrawals 1 applying, 2 cancelled, 3 failed, 4 completed. */
const WITHDRAWAL_STATUS: Record<string, string> = { applying: '1', cancelled: '2', rejected: '3', completed: '4' };
export const WITHDRAWAL_STATUS_NAMES: Record<string, 'applying' | 'cancelled' | 'rejected' | 'completed'> = { '1': 'applying', '2': 'cancelled', '3': 'rejected', '4': 'completed' };

export function deposit(record: DepositRecord) {
  // No `id` field: clients tell deposits from withdrawals by it.
  return { insertTime: record.createdAt, amount: record.amount, address: record.address, networkName: record.network, txId: record.txid, coin: record.asset, status: '2' };
}

export function withdrawal(row: WithdrawalRow) {
  return {
    id: row.id,
    amount: row.amount,
    address: row.address,
    fee: row.fee,
    networkName: row.network,
    coin: row.asset,
    withdrawOrderId: row.client_id,
    transferType: row.kind === 'transfer' ? 'internal transfer' : 'withdrawal',
    txId: row.txid ?? '',
    feeAssetCode: row.asset,
    applyTime: row.created_at,
    status: WITHDRAWAL_STATUS[row.status] ?? row.status,
  };
}

export function legacyWithdrawal(row: WithdrawalRow) {
  return { id: row.id, assetCode: row.asset, address: row.address, amount: row.amount, fee: row.fee, time: row.created_at, txHash: row.txid ?? '', status: WITHDRAWAL_STATUS[row.status] ?? row.status };
}
