// A fleet for tests: several `keygate serve` processes (the built CLI, as an operator runs it) on one
// fresh PostgreSQL database and one Redis, each test run with a key prefix of its own; plus an admin
// App in this process on the same database and Redis, as the CLI would be, for setting things up.
// Servers listen on 127.0.0.1 and stop by themselves: each runs under `timeout`.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { TEST_MASTER_KEY } from './server.js';

const MAIN = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
/** However a test ends, no server outlives it by more than this. */
const SERVER_LIFETIME_S = 900;

export const SHARED_REDIS_URL = process.env.KEYGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface FleetServer {
  name: string;
  baseUrl: string;
  /** The node process itself (not the `timeout` around it), for kill -9. */
  pid: number;
  logs: string[];
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
}

export interface Fleet {
  database: TestDatabase;
  env: NodeJS.ProcessEnv;
  servers: FleetServer[];
  admin: App;
  start(name: string, extraEnv?: Record<string, string>): Promise<FleetServer>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function childPid(parent: number): number {
  for (let i = 0; i < 50; i++) {
    try {
      const out = execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).trim();
      if (out) return Number(out.split('\n')[0]);
    } catch {
      // not forked yet
    }
    execFileSync('sleep', ['0.02']);
  }
  throw new Error(`no child of ${parent}`);
}

export async function startServerProcess(name: string, env: NodeJS.ProcessEnv): Promise<FleetServer> {
  const child: ChildProcess = spawn('timeout', ['-k', '5', String(SERVER_LIFETIME_S), process.execPath, MAIN, 'serve'], {
    env: { ...env, HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        const match = /Keygate serves on (http:\/\/[\d.]+:\d+)/.exec(line);
        if (match) resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before serving:\n${logs.join('\n')}`)));
  });
  const pid = childPid(child.pid!);
  return {
    name,
    baseUrl,
    pid,
    logs,
    exited,
    signal: (signal) => {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
  };
}

export async function startFleet(count: number, options: { env?: Record<string, string>; redisUrl?: string } = {}): Promise<Fleet> {
  const database = await createTestDatabase('postgres');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.databaseUrl,
    REDIS_URL: options.redisUrl ?? SHARED_REDIS_URL,
    KEYGATE_REDIS_PREFIX: `keygate-test:${randomBytes(6).toString('hex')}:`,
    KEYGATE_MASTER_KEY: TEST_MASTER_KEY,
    KEYGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'keygate-fleet-')),
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const admin = await createApp(loadConfig(env), { logger: pino({ level: 'warn' }), exchange: false });
  const servers: FleetServer[] = [];
  const fleet: Fleet = {
    database,
    env,
    servers,
    admin,
    async start(name, extraEnv = {}) {
      const server = await startServerProcess(name, { ...env, ...extraEnv });
      servers.push(server);
      return server;
    },
    async stop() {
      for (const server of servers) server.signal('SIGKILL');
      await Promise.all(servers.map((s) => s.exited));
      await admin.close();
      await database.drop();
      rmSync(env.KEYGATE_DATA_DIR!, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < count; i++) await fleet.start(`server-${i + 1}`);
  return fleet;
}

/** A redis-server of the test's own on a free port (never the shared one), which the test may kill and restart. */
export interface OwnRedis {
  url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keygate-redis-'));
  let child: ChildProcess | undefined;
  const redis: OwnRedis = {
    url: `redis://127.0.0.1:${port}/0`,
    async start() {
      child = spawn('timeout', ['-k', '5', String(SERVER_LIFETIME_S), 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        try {
          execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error('redis-server did not start');
    },
    async kill() {
      if (!child) return;
      const exited = new Promise((r) => child!.once('exit', r));
      try {
        execFileSync('pkill', ['-9', '-P', String(child.pid)]);
      } catch {
        // already gone
      }
      child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
  };
  await redis.start();
  return redis;
}

/** The server id a fleet server logged at start (which markets' leases name it by). */
export function serverIdOf(server: FleetServer): string {
  for (const line of server.logs) {
    const match = /"serverId":"([0-9a-f-]{36})"/.exec(line);
    if (match) return match[1]!;
  }
  throw new Error(`${server.name} logged no serverId`);
}

/** Polls `probe` every 50 ms until it gives a value, or fails after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
