// The benchmark's own database is made as a test's is (test/support/databases.ts): SQLite in a
// temporary directory, or a fresh PostgreSQL database created on the local server and dropped
// afterwards.
import type { DatabaseKind, TestDatabase } from '../test/support/databases.js';

export type { DatabaseKind };
export type BenchDatabase = TestDatabase;

export async function createBenchDatabase(kind: DatabaseKind): Promise<BenchDatabase> {
  // KEYGATE_BENCH_POSTGRES_URL names the PostgreSQL server as KEYGATE_TEST_POSTGRES_URL does for the
  // tests; the module reads that when it is loaded, hence the import here.
  if (process.env.KEYGATE_BENCH_POSTGRES_URL) process.env.KEYGATE_TEST_POSTGRES_URL = process.env.KEYGATE_BENCH_POSTGRES_URL;
  const { createTestDatabase } = await import('../test/support/databases.js');
  return createTestDatabase(kind);
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
