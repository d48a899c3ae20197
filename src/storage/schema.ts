// Table shapes as Kysely sees them. Times are epoch milliseconds; amounts are decimal strings.
import type { Generated } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  uid: string;
  email: string;
  password_hash: string | null;
  created_at: number;
}

export interface ApiKeysTable {
  id: Generated<number>;
  api_key: string;
  user_id: number;
  name: string;
  method: string;
  /** JSON array of canonical IP strings. */
  ips: string;
  /** Comma-separated authority names. */
  authority: string;
  /** HMAC secret sealed by the SecretBox; null for RSA keys and once a key is deleted. */
  secret_sealed: string | null;
  /** RSA public key as base64 SPKI DER. */
  public_key: string | null;
  status: string;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
  last_used_ip: string | null;
}

export interface BalancesTable {
  user_id: number;
  asset: string;
  available: string;
  frozen: string;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  user_id: number;
  asset: string;
  available_delta: string;
  frozen_delta: string;
  reason: string;
  ref_type: string | null;
  ref_id: string | null;
  created_at: number;
}

export interface DepositsTable {
  id: Generated<number>;
  user_id: number;
  asset: string;
  network: string;
  amount: string;
  address: string;
  txid: string;
  status: string;
  created_at: number;
}

export interface ReplayNoncesTable {
  api_key: string;
  echostr: string;
  expires_at: number;
}

export interface SessionsTable {
  /** Random id from the cookie, looked up; the secret half is only stored as a digest. */
  id: string;
  user_id: number;
  secret_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
}

export interface EmailCodesTable {
  id: Generated<number>;
  email: string;
  purpose: string;
  /** SHA-256 of the code bound to its address and purpose. */
  code_hash: string;
  created_at: number;
  expires_at: number;
  wrong_tries: Generated<number>;
}

export interface AuthenticatorsTable {
  user_id: number;
  /** The TOTP seed (base32) sealed by the SecretBox. */
  seed_sealed: string;
  created_at: number;
  /** Null while the seed awaits its first code. */
  bound_at: number | null;
  /** The time step of the last accepted code; a code is accepted once. */
  last_used_step: number | null;
}

/** The addresses each account has logged in from (what exempts its owner from the account-wide login throttle). */
export interface LoginAddressesTable {
  user_id: number;
  ip: string;
  last_login_at: number;
}

export interface ThrottleCountersTable {
  scope: string;
  subject: string;
  window_start: number;
  count: number;
}

export interface AuditEventsTable {
  id: Generated<number>;
  user_id: number;
  at: number;
  type: string;
  ip: string | null;
  api_key: string | null;
  /** A short JSON object: a key's name, a rejection's reason, a failed login's cause. */
  detail: string | null;
  count: Generated<number>;
  /** For aggregated events (key, minute, reason); null otherwise. */
  bucket: string | null;
}

export interface KeyWarningsTable {
  api_key: string;
  kind: string;
  reference_at: number;
  sent_at: number;
}

export interface OrdersTable {
  /** Arrival sequence: time priority within a price level. */
  id: Generated<number>;
  order_id: string;
  user_id: number;
  symbol: string;
  /** LBank's type string: buy, sell_market, buy_maker, … */
  type: string;
  price: string | null;
  quantity: string | null;
  quote_budget: string | null;
  executed_qty: string;
  executed_quote: string;
  /** Quantity still resting on the book (0 once final). */
  remaining_qty: string;
  frozen_asset: string;
  frozen_remaining: string;
  status: number;
  custom_id: string | null;
  created_at: number;
  updated_at: number;
  /** 0 while the order waits, funds frozen, for its market's engine; 1 once the engine has taken it. */
  matched: Generated<number>;
}

/** Cancellations asked for on any server, applied by the market's engine in arrival order. */
export interface OrderCancelsTable {
  id: Generated<number>;
  order_id: string;
  symbol: string;
  requested_at: number;
}

/** Which engine may write a market: taking a market over raises its epoch, which fences the last holder off. */
export interface MarketLeasesTable {
  symbol: string;
  epoch: number;
  holder: string;
  taken_at: number;
}

/** The top of each market's book as its engine last committed it, for every server to answer depth from. */
export interface MarketDepthTable {
  symbol: string;
  /** JSON [[price, quantity], …], best first. */
  asks: string;
  bids: string;
  updated_at: number;
  /** Rises by one with every batch its engine commits. */
  version: Generated<number>;
}

/** The servers of a fleet, each seen within the last few seconds: how markets are shared out among them. */
export interface FleetMembersTable {
  server_id: string;
  seen_at: number;
}

export interface TradesTable {
  id: Generated<number>;
  symbol: string;
  price: string;
  quantity: string;
  quote_quantity: string;
  taker_side: string;
  maker_order_id: string;
  taker_order_id: string;
  maker_user_id: number;
  taker_user_id: number;
  maker_fee: string;
  maker_fee_asset: string;
  maker_fee_rate: string;
  taker_fee: string;
  taker_fee_asset: string;
  taker_fee_rate: string;
  created_at: number;
}

/** A market's trades in one bucket of one stored resolution (domain/candles.ts). */
export interface CandlesTable {
  symbol: string;
  /** A stored resolution: minute1, minute5, hour1, hour4, day1, month1. */
  resolution: string;
  /** Start of the bucket, epoch ms (UTC). */
  start: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quote_volume: string;
  trades: number;
}

/** The id of the last trade of each market that its candles include. */
export interface CandleProgressTable {
  symbol: string;
  last_trade_id: number;
}

export interface FeeIncomeTable {
  asset: string;
  amount: string;
}

export interface FeeRatesTable {
  user_id: number;
  maker: string;
  taker: string;
}

export interface WithdrawalsTable {
  id: Generated<number>;
  user_id: number;
  /** 'chain' (settled by the administrator) or 'transfer' (to another Keygate UID, settled at once). */
  kind: string;
  asset: string;
  network: string;
  address: string;
  memo: string | null;
  amount: string;
  fee: string;
  to_user_id: number | null;
  client_id: string | null;
  txid: string | null;
  status: string;
  created_at: number;
  updated_at: number;
}

/** Subscribe keys of the WebSocket API's private streams; only a digest of each key is kept. */
export interface SubscribeKeysTable {
  digest: string;
  api_key: string;
  user_id: number;
  created_at: number;
  expires_at: number;
  /** Why the key died before its time (api_key_disabled, api_key_deleted, read_lost); null while it may live. */
  revoked: string | null;
}

export interface Schema {
  users: UsersTable;
  api_keys: ApiKeysTable;
  balances: BalancesTable;
  ledger_entries: LedgerEntriesTable;
  deposits: DepositsTable;
  replay_nonces: ReplayNoncesTable;
  sessions: SessionsTable;
  email_codes: EmailCodesTable;
  authenticators: AuthenticatorsTable;
  throttle_counters: ThrottleCountersTable;
  login_addresses: LoginAddressesTable;
  audit_events: AuditEventsTable;
  key_warnings: KeyWarningsTable;
  orders: OrdersTable;
  order_cancels: OrderCancelsTable;
  market_leases: MarketLeasesTable;
  market_depth: MarketDepthTable;
  fleet_members: FleetMembersTable;
  trades: TradesTable;
  candles: CandlesTable;
  candle_progress: CandleProgressTable;
  fee_income: FeeIncomeTable;
  fee_rates: FeeRatesTable;
  withdrawals: WithdrawalsTable;
  subscribe_keys: SubscribeKeysTable;
}
