// The container built at start-up: every dependency is created here and handed to whoever needs it,
// so tests can build the same application with another database, clock or logger.
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { ReplayGuard } from './domain/request-auth.js';
import { loadMasterKey } from './security/master-key.js';
import { SecretBox } from './security/secret-box.js';
import { AccountService } from './services/accounts.js';
import { ApiKeyService } from './services/api-keys.js';
import { KeyDirectory } from './services/key-directory.js';
import { LedgerService } from './services/ledger.js';
import { openDatabase, type Database } from './storage/database.js';
import { DatabaseReplayGuard, MemoryReplayGuard } from './storage/replay.js';

export interface App {
  config: Config;
  logger: Logger;
  database: Database;
  now: () => number;
  accounts: AccountService;
  apiKeys: ApiKeyService;
  keyDirectory: KeyDirectory;
  ledger: LedgerService;
  replayGuard: ReplayGuard;
  close(): Promise<void>;
}

export interface AppOverrides {
  logger?: Logger;
  now?: () => number;
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const now = overrides.now ?? Date.now;
  const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const secretBox = new SecretBox(loadMasterKey(config.masterKey, config.dataDir, logger));
  const keyDirectory = new KeyDirectory(database, secretBox);
  return {
    config,
    logger,
    database,
    now,
    accounts: new AccountService(database, now),
    apiKeys: new ApiKeyService(database, secretBox, now, () => keyDirectory.invalidate()),
    keyDirectory,
    ledger: new LedgerService(database, config.markets, now),
    // Many servers may share PostgreSQL, so their replay memory must be shared too.
    replayGuard: database.dialect === 'postgres' ? new DatabaseReplayGuard(database.db, now) : new MemoryReplayGuard(now),
    close: () => database.close(),
  };
}
