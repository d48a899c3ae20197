// The benchmark's own database: SQLite in a temporary directory, or a fresh PostgreSQL database
// created on the local server and dropped afterwards (as test/support/databases.ts does for tests).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type DatabaseKind = 'sqlite' | 'postgres';

const ADMIN_URL = process.env.KEYGATE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  kind: DatabaseKind;
  dataDir: string;
  databaseUrl: string | undefined;
  drop(): Promise<void>;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(kind: DatabaseKind): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keygate-bench-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'sqlite') return { kind, dataDir, databaseUrl: undefined, drop: async () => removeDir() };
  const name = `keygate_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    kind,
    dataDir,
    databaseUrl: url.toString(),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      removeDir();
    },
  };
}

/** The file system type holding a path (from /proc/mounts; Linux only), for the report. */
export function fileSystemOf(path: string, mounts: string): string {
  let best = { mount: '', type: 'unknown' };
  for (const line of mounts.split('\n')) {
    const [, mount, type] = line.split(' ');
    if (mount && type && (path === mount || path.startsWith(mount === '/' ? '/' : `${mount}/`)) && mount.length > best.mount.length) {
      best = { mount, type };
    }
  }
  return best.type;
}
