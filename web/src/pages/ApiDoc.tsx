// API Doc: how to sign a request to Keygate's LBank v2–compatible API, in short, and where the portal's
// own JSON API is described.
export function ApiDocPage() {
  const origin = window.location.origin;
  return (
    <article className="api-doc">
      <h1>API Doc</h1>
      <p className="page-lead">
        Keygate speaks LBank's v2 REST API: point an LBank client (ccxt, LBank's SDKs, hummingbot) at <code>{origin}</code> instead of LBank, with a
        key from My API.
      </p>
      <h2>Signing a request</h2>
      <p>
        Every private endpoint is <code>POST /v2/&lt;path&gt;.do</code>, signed exactly as on LBank:
      </p>
      <ol>
        <li>
          Take all parameters except <code>sign</code>, plus <code>timestamp</code> (epoch ms), <code>signature_method</code> (<code>HmacSHA256</code> or{' '}
          <code>RSA</code>) and <code>echostr</code> (30–40 letters and digits); leave out empty values, sort by name and join as <code>name=value</code> with{' '}
          <code>&amp;</code>.
        </li>
        <li>Take the MD5 of that string as 32 upper-case hex characters.</li>
        <li>
          Sign it: HmacSHA256 with the Secret Key, as lower-case hex; or RSA-SHA256 with the private key, as base64.
        </li>
        <li>
          Send <code>api_key</code> and <code>sign</code> with the parameters, and <code>timestamp</code>, <code>signature_method</code> and <code>echostr</code>{' '}
          as HTTP headers.
        </li>
      </ol>
      <h2>Authority</h2>
      <ul>
        <li>
          <strong>Read only</strong>: balances and the key's own restrictions (<code>supplement/api_Restrictions</code>, <code>user_info</code>). Always on.
        </li>
        <li>
          <strong>Trade</strong>: placing and cancelling orders.
        </li>
        <li>
          <strong>Withdraw</strong>: withdrawals. Do not enable it for trading bots; it needs an IP binding.
        </li>
        <li>
          <strong>Transfer</strong>: transfers to another Keygate account, settled at once and for good. Do not enable it for trading bots; it needs an IP
          binding, as Withdraw does.
        </li>
      </ul>
      <h2>IP binding</h2>
      <p>
        A key bound to IP addresses answers only requests from them. HmacSHA256 keys must be bound and are valid permanently; an RSA key without IP
        addresses keeps Read, but its other authority lapses 30 days after creation.
      </p>
      <h2>The portal's JSON API</h2>
      <p>
        These pages run on a JSON API under <code>/api/v1</code>, which another front end can use as well. Its OpenAPI 3.1 description, to generate a
        client from, is at{' '}
        <a href="/api/v1/openapi.json" type="application/json">
          /api/v1/openapi.json
        </a>
        .
      </p>
    </article>
  );
}
