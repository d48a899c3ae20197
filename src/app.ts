// The container built at start-up: every dependency is created here and handed to whoever needs it,
// so tests can build the same application with another database, clock, logger or mailer.
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { RollingWindowCounter, type RateCharge } from './domain/rate-limits.js';
import type { ReplayGuard } from './domain/request-auth.js';
import { createLogger } from './logging.js';
import { Metrics } from './metrics.js';
import { loadMasterKey } from './security/master-key.js';
import { SecretBox } from './security/secret-box.js';
import { MasterKeyService } from './services/master-key.js';
import { AccountService } from './services/accounts.js';
import type { PasswordHasher } from './security/password-hashing.js';
import { ApiKeyService } from './services/api-keys.js';
import { AuditLog } from './services/audit.js';
import { AuthenticatorService } from './services/authenticator.js';
import { CandleService } from './services/candles.js';
import { BackgroundJobs } from './services/background-jobs.js';
import { EmailCodeService } from './services/email-codes.js';
import { ExchangeService } from './services/exchange.js';
import { LocalBus, type EventBus } from './services/event-bus.js';
import { PostgresBus } from './storage/postgres-bus.js';
import { RedisBus } from './storage/redis-bus.js';
import { WithdrawalService } from './services/withdrawals.js';
import { KeyDirectory } from './services/key-directory.js';
import { KeyLifecycleService } from './services/key-lifecycle.js';
import { KeyWarningService } from './services/key-warnings.js';
import { LedgerService } from './services/ledger.js';
import { countedMailer, createMailer, type Mailer } from './services/mailer.js';
import { SecuritySettingsService } from './services/security-settings.js';
import { SecurityVerification } from './services/security-verification.js';
import { SessionService } from './services/sessions.js';
import { SignInService } from './services/sign-in.js';
import { SubscribeKeyService } from './services/subscribe-keys.js';
import { StreamHub } from './services/streams.js';
import { StoredCandleSource, type CandleSource } from './services/candle-source.js';
import { ThrottleService } from './services/throttle.js';
import { openDatabase, type Database } from './storage/database.js';
import { RedisReplayGuard, SharedState } from './storage/redis.js';
import { DatabaseReplayGuard, MemoryReplayGuard } from './storage/replay.js';

export interface App {
  config: Config;
  logger: Logger;
  database: Database;
  now: () => number;
  /** What GET /metrics reports; the WebSocket server counts its sockets and subscriptions here too. */
  metrics: Metrics;
  mailer: Mailer;
  /** Seals under the master key; opens what it or KEYGATE_MASTER_KEY_PREVIOUS sealed. */
  secretBox: SecretBox;
  /** Master-key rotation and its status (the CLI). */
  masterKeys: MasterKeyService;
  accounts: AccountService;
  apiKeys: ApiKeyService;
  keyDirectory: KeyDirectory;
  ledger: LedgerService;
  replayGuard: ReplayGuard;
  /** The fleet's Redis, when REDIS_URL is set. */
  shared: SharedState | undefined;
  /** Counts a public request against its client IP's window; false when the window is full. */
  hitPublicLimit(charge: RateCharge): Promise<boolean>;
  sessions: SessionService;
  throttle: ThrottleService;
  emailCodes: EmailCodeService;
  authenticator: AuthenticatorService;
  signIn: SignInService;
  keyLifecycle: KeyLifecycleService;
  security: SecuritySettingsService;
  audit: AuditLog;
  keyWarnings: KeyWarningService;
  jobs: BackgroundJobs;
  exchange: ExchangeService;
  /** Klines and 24-hour statistics, from the candles the engines write with their trades. */
  candles: CandleService;
  withdrawals: WithdrawalService;
  subscribeKeys: SubscribeKeyService;
  /** The WebSocket API's streams (listening to the bus once the server starts them). */
  streams: StreamHub;
  /** The exchange's bus (in-process, or Redis pub/sub or PostgreSQL's LISTEN/NOTIFY for a fleet). */
  bus: EventBus;
  /** true once the server is stopping: /readyz says so, so that a load balancer sends no more. */
  draining: boolean;
  close(): Promise<void>;
}

export interface AppOverrides {
  logger?: Logger;
  now?: () => number;
  /** Replaces the mailer that SMTP_URL selects. */
  mailer?: Mailer;
  /** false: do not run the exchange's matching engine in this process (the CLI). */
  exchange?: boolean;
  /** Wraps or replaces the Argon2id password hasher (a test counts its calls). */
  passwordHasher?: PasswordHasher;
  /** Where kbar history comes from (the streams' CandleSource). */
  candles?: CandleSource;
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const now = overrides.now ?? Date.now;
  const metrics = new Metrics();
  // Counters cost next to nothing and are always kept (the WebSocket server and the services count
  // into them); timing every query and Redis round trip, and the process's own metrics, only when served.
  const measured = config.metrics.serve !== 'off';
  if (measured) metrics.collectProcessMetrics();
  const database = await openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    observeQuery: measured ? (pool, sql, ms, failed) => metrics.observeQuery(pool, sql, ms, failed) : undefined,
  });
  metrics.watchPools(() => database.poolUse());
  // During a rotation the previous key still opens what it sealed; only the current one seals.
  const secretBox = new SecretBox(loadMasterKey(config.masterKey, config.dataDir, logger), config.previousMasterKey ? [config.previousMasterKey] : []);
  const mailer = countedMailer(overrides.mailer ?? createMailer(config, logger), { sent: () => metrics.mailsSent.inc(), failed: () => metrics.mailsFailed.inc() });
  const keyDirectory = new KeyDirectory(database, secretBox);
  const shared = config.redisUrl
    ? new SharedState({ url: config.redisUrl, prefix: config.redisPrefix, logger, ...(measured ? { time: (command, run) => metrics.timeRedis(command, run) } : {}) })
    : undefined;
  if (shared) await shared.connect(now()).catch(() => undefined);
  const publicLimits = new RollingWindowCounter();
  // The bus that wakes markets' engines and carries what they did (and balance and key changes, for
  // the WebSocket streams): in-process on a lone SQLite server; between the servers of a fleet, Redis
  // pub/sub when the fleet has a Redis, PostgreSQL's LISTEN/NOTIFY otherwise.
  let bus: EventBus = new LocalBus();
  if (database.url && config.redisUrl) {
    const redisBus = new RedisBus(config.redisUrl, `${config.redisPrefix}bus:`, logger);
    await redisBus.start();
    bus = redisBus;
  } else if (database.url) {
    const postgresBus = new PostgresBus(database.url, database.relaxedDb, logger);
    await postgresBus.start();
    bus = postgresBus;
  }
  const subscribeKeys = new SubscribeKeyService(database, bus, now);
  const accounts = new AccountService(database, now, overrides.passwordHasher);
  const apiKeys = new ApiKeyService(
    database,
    secretBox,
    now,
    async (changed) => {
      keyDirectory.invalidate();
      await shared?.bumpGenerations(changed);
      await subscribeKeys.revokeFor(changed);
    },
    () => keyDirectory.flushUses(),
  );
  const throttle = new ThrottleService(database, now);
  const sessions = new SessionService(database, { idleMs: config.sessionIdleMs, absoluteMs: config.sessionMaxMs }, now);
  const emailCodes = new EmailCodeService(database, mailer, throttle, now, logger);
  const authenticator = new AuthenticatorService(database, secretBox, throttle, now, config.totpIssuer);
  const verification = new SecurityVerification(emailCodes, authenticator);
  const audit = new AuditLog(database, now, logger);
  const keyWarnings = new KeyWarningService(database, mailer, now, logger, () => keyDirectory.flushUses());
  const exchange = new ExchangeService(database, config.markets, now, bus, logger, metrics);
  if (overrides.exchange !== false) await exchange.start();
  const ledger = new LedgerService(database, config.markets, now, bus);
  const candles = new CandleService(database, (symbol) => exchange.market(symbol).symbol);
  const streams = new StreamHub({
    database,
    exchange,
    dayStats: (pair) => candles.dayStats(pair, now()),
    ledger,
    subscribeKeys,
    candles: overrides.candles ?? new StoredCandleSource(database, candles),
    subscriptionsGauge: metrics.wsSubscriptions,
    bus,
    config: config.ws,
    now,
    logger,
  });
  const jobs = new BackgroundJobs(database, keyWarnings, sessions, throttle, now, logger, subscribeKeys);
  return {
    config,
    logger,
    database,
    now,
    metrics,
    mailer,
    secretBox,
    masterKeys: new MasterKeyService(database),
    accounts,
    apiKeys,
    keyDirectory,
    ledger,
    // Many servers may share PostgreSQL, so their replay memory must be shared too: in Redis when
    // there is one, in the database otherwise.
    replayGuard: shared
      ? new RedisReplayGuard(shared, database.db, now)
      : database.dialect === 'postgres'
        ? new DatabaseReplayGuard(database.relaxedDb, now)
        : new MemoryReplayGuard(now),
    shared,
    hitPublicLimit: shared ? (charge) => shared.hit(charge, now()) : async (charge) => publicLimits.hit(charge, now()),
    sessions,
    throttle,
    emailCodes,
    authenticator,
    signIn: new SignInService(accounts, emailCodes, authenticator, sessions, throttle, audit, database, now),
    keyLifecycle: new KeyLifecycleService(apiKeys, authenticator, verification, audit),
    security: new SecuritySettingsService(emailCodes, authenticator, verification, audit),
    audit,
    keyWarnings,
    jobs,
    exchange,
    candles,
    withdrawals: new WithdrawalService(database, config.markets, now, bus),
    subscribeKeys,
    streams,
    bus,
    draining: false,
    async close() {
      streams.close();
      await jobs.stop();
      await keyDirectory.flushUses();
      await exchange.stop();
      await audit.close();
      await mailer.close();
      await shared?.close();
      await bus.close();
      await database.close();
    },
  };
}
