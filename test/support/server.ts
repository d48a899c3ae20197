// Starts a real Keygate server on 127.0.0.1 (an ephemeral port) over a test database.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildHttpServer } from '../../src/http/server.js';
import type { Mailer } from '../../src/services/mailer.js';
import type { PasswordHasher } from '../../src/security/password-hashing.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';

export interface RunningKeygate {
  app: App;
  baseUrl: string;
  database: TestDatabase;
  /** Environment that points the CLI at the same database and master key. */
  env: NodeJS.ProcessEnv;
  /** Everything the server logged, one JSON line each. */
  logs: string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  now?: () => number;
  /** Reuse a database (to restart a server over the same data). */
  database?: TestDatabase;
  /** Replaces the mailer that SMTP_URL selects. */
  mailer?: Mailer;
  /** Wraps the password hasher (to count the hashes verified). */
  passwordHasher?: PasswordHasher;
  /** Runs after the server is built and before it listens (e.g. to add a route for a test). */
  beforeListen?: (server: FastifyInstance, app: App) => void;
}

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startKeygate(kind: DatabaseKind, options: StartOptions = {}): Promise<RunningKeygate> {
  const database = options.database ?? (await createTestDatabase(kind));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KEYGATE_DATA_DIR: database.dataDir,
    KEYGATE_MASTER_KEY: TEST_MASTER_KEY,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  if (database.databaseUrl) env.DATABASE_URL = database.databaseUrl;
  else delete env.DATABASE_URL;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig(env);
  const app = await createApp(config, {
    logger: pino({ level: config.logLevel }, sink),
    ...(options.now ? { now: options.now } : {}),
    ...(options.mailer ? { mailer: options.mailer } : {}),
    ...(options.passwordHasher ? { passwordHasher: options.passwordHasher } : {}),
  });
  const server = buildHttpServer(app);
  options.beforeListen?.(server, app);
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as { port: number };
  let stopped = false;
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    database,
    env,
    logs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
