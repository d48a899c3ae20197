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

export interface Schema {
  users: UsersTable;
  api_keys: ApiKeysTable;
  balances: BalancesTable;
  ledger_entries: LedgerEntriesTable;
  deposits: DepositsTable;
  replay_nonces: ReplayNoncesTable;
}
