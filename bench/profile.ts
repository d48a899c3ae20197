// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went, by self time per
// function and per package, so that `--profile` can say what dominates a request's cost.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (µs) per name that `name` gives a frame, and the profile's total. */
function selfTimes(path: string, name: (frame: ProfileNode['callFrame']) => string): { times: Map<string, number>; total: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const times = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    if (!frame) return;
    const key = name(frame);
    times.set(key, (times.get(key) ?? 0) + delta);
  });
  return { times, total };
}

function list({ times, total }: { times: Map<string, number>; total: number }, top: number): string {
  return [...times]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n');
}

const shortFile = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/');

/**
 * Where a frame belongs: a package (node_modules/kysely), a directory of this project
 * (dist/src/storage), Node's own code (node:), or V8's pseudo-frames ((garbage collector), (idle)).
 * Native code called from JavaScript — better-sqlite3 running a statement, an fsync — counts as
 * its caller's.
 */
function area(frame: ProfileNode['callFrame']): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : `(native) ${frame.functionName}`;
  // Kysely's SQLite driver calls better-sqlite3, which runs the statement (and a commit's fsync) synchronously.
  if (frame.functionName === 'executeQuery' && url.endsWith('/sqlite-driver.js')) return 'SQLite running statements (native, commits included)';
  if (url.startsWith('node:')) return 'node: (HTTP, streams, crypto…)';
  const match = /\/(node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(url) ?? /\/(dist\/(?:src|bench|test)\/[^/]+)/.exec(url);
  return match ? match[1]!.replace(/\.js$/, '') : shortFile(url);
}

export function summariseProfile(path: string, top: number): string {
  const byFunction = selfTimes(path, (frame) => `${frame.functionName || '(anonymous)'} ${frame.url ? `${shortFile(frame.url)}:${frame.lineNumber + 1}` : ''}`.trim());
  return `${list(byFunction, top)}\n  by area:\n${list(selfTimes(path, area), 15)}`;
}
