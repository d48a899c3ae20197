// The last instant of the receive window, over real HTTP on SQLite (memory guard) and PostgreSQL
// (database guard): a timestamp exactly recvWindow old is still accepted, so its echostr must still be
// remembered then, however many copies of the request arrive in that millisecond.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient, newEchostr } from '../src/client/index.js';
import { DATABASE_KINDS } from './support/databases.js';
import { signedPost, type Reply } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const RESTRICTIONS = 'supplement/api_Restrictions';

describe.each(DATABASE_KINDS)('the edge of the receive window on %s', (kind) => {
  let keygate: RunningKeygate;
  let client: LbankClient;
  let window: number;
  /** When set, the server's clock stands still at this instant. */
  let frozenAt: number | undefined;

  beforeAll(async () => {
    keygate = await startKeygate(kind, { now: () => frozenAt ?? Date.now() });
    window = keygate.app.config.recvWindowMs;
    const user = await keygate.app.accounts.create('edge@example.com', undefined);
    const key = await keygate.app.apiKeys.create(user.id, { name: 'edge', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    client = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: key.key.apiKey, secret: key.secret! });
  });
  afterEach(() => {
    frozenAt = undefined;
  });
  afterAll(async () => keygate?.stop());

  const code = (reply: Reply) => {
    expect(reply.status).toBeLessThan(500);
    return reply.body.error_code;
  };

  it('refuses a request replayed at exactly timestamp + window, while the timestamp itself is still accepted', async () => {
    const timestamp = Date.now();
    const echostr = newEchostr();
    frozenAt = timestamp;
    expect(code(await signedPost(keygate.baseUrl, RESTRICTIONS, client, { timestamp, echostr }))).toBe(0);

    frozenAt = timestamp + window;
    // A new request with that timestamp is inside the window at this instant...
    expect(code(await signedPost(keygate.baseUrl, RESTRICTIONS, client, { timestamp }))).toBe(0);
    // ...so the copy of the first one must still be known.
    const replay = await signedPost(keygate.baseUrl, RESTRICTIONS, client, { timestamp, echostr });
    expect(code(replay)).toBe(10600);
    expect(replay.body.msg).toContain('already used');

    // One millisecond later the timestamp itself is refused.
    frozenAt = timestamp + window + 1;
    const late = await signedPost(keygate.baseUrl, RESTRICTIONS, client, { timestamp, echostr });
    expect(code(late)).toBe(10600);
    expect(late.body.msg).toContain('outside the receive window');
  });

  it('accepts exactly one of many copies that land in the last millisecond of the window', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const timestamp = Date.now() - 10_000 * (attempt + 1);
      frozenAt = timestamp + window;
      // One signed request (HMAC is deterministic), sent 40 times at once.
      const echostr = newEchostr();
      const copies = await Promise.all(Array.from({ length: 40 }, () => signedPost(keygate.baseUrl, RESTRICTIONS, client, { timestamp, echostr })));
      const codes = copies.map(code);
      expect(codes.filter((c) => c === 0)).toHaveLength(1);
      expect(codes.filter((c) => c === 10600)).toHaveLength(39);
    }
  });
});
