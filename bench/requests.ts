// One benchmark request, signed afresh by the project's own client (src/client).
import { LbankClient, type SignedRequestParts } from '../src/client/index.js';
import { OrderFlow } from './order-flow.js';
import type { Credentials, Leg } from './protocol.js';

export const PUBLIC_PATH = '/v2/timestamp.do';
export const RESTRICTIONS_PATH = '/v2/supplement/api_Restrictions.do';
export const ORDER_PATH = '/v2/supplement/create_order.do';

export interface BenchRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /**
   * For a leg of many keys, the server's turn: the key's place plus the pass over the keys, so that each
   * pass sends every key to the next server and K keys × S servers requests reach every server with
   * every key (otherwise a key could always reach the same one).
   */
  serverTurn?: number;
}

export class RequestFactory {
  readonly #clients = new Map<string, LbankClient>();
  /** One order flow per order leg, kept across phases: the server's book carries over too. */
  readonly #flows = new Map<string, OrderFlow>();
  /** Per leg, the next of its keys to sign with: a leg of many keys uses them in turn. */
  readonly #turns = new Map<string, number>();

  constructor(
    private readonly baseUrl: string,
    private readonly credentials: Credentials,
  ) {}

  #client(name: string | undefined): LbankClient {
    const key = name === undefined ? undefined : this.credentials[name];
    if (name === undefined || !key) throw new Error(`no credentials for key "${name}"`);
    let client = this.#clients.get(name);
    if (!client) {
      client = new LbankClient({ baseUrl: this.baseUrl, apiKey: key.apiKey, secret: key.secret, method: key.method });
      this.#clients.set(name, client);
    }
    return client;
  }

  #flow(leg: Leg): OrderFlow {
    let flow = this.#flows.get(leg.name);
    if (!flow) {
      flow = new OrderFlow();
      this.#flows.set(leg.name, flow);
    }
    return flow;
  }

  /** Signs a fresh parameter set (new echostr and timestamp) with the leg's key. */
  make(leg: Leg): BenchRequest {
    if (leg.target === 'order') {
      const order = this.#flow(leg).next();
      return post(ORDER_PATH, this.#client(leg.keys[order.trader]).sign(order.params));
    }
    const turn = this.#turns.get(leg.name) ?? 0;
    this.#turns.set(leg.name, turn + 1);
    const signed = this.#client(leg.keys[turn % leg.keys.length]).sign();
    const serverTurn = leg.keys.length > 1 ? (turn % leg.keys.length) + Math.floor(turn / leg.keys.length) : undefined;
    if (leg.target === 'restrictions') return { ...post(RESTRICTIONS_PATH, signed), ...(serverTurn !== undefined ? { serverTurn } : {}) };
    // The public endpoint ignores the parameters; sending them keeps the two requests alike.
    return { method: 'GET', path: `${PUBLIC_PATH}?${new URLSearchParams(signed.params).toString()}`, headers: { ...signed.headers }, body: undefined };
  }
}

function post(path: string, { params, headers }: SignedRequestParts): BenchRequest {
  const form = new URLSearchParams(params).toString();
  return {
    method: 'POST',
    path,
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(form)) },
    body: form,
  };
}

/** A request only counts if the server accepted it: a broken signature or a refused order must not look fast. */
export function accepted(status: number | undefined, body: string): boolean {
  // LBank answers some endpoints (create_order among them) with the boolean true, others with "true".
  return status === 200 && (body.includes('"result":"true"') || body.includes('"result":true'));
}
