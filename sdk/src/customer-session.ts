import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createShopClient, createShopClientWith, type ShopClient, type ShopClientOptions } from "./shop-client.js";

/** A guest's session: a client that calls as the customer and keeps its token fresh. */
export interface CustomerSession {
  /** Every service's client, calling as the customer (CreateOrder, GetOrder, ListOrders); renews the session itself. */
  client: ShopClient;
  /** The current customer bearer token. */
  readonly token: string;
  /** Whose orders the session places and lists; a renewal keeps it (see `renew`). */
  readonly customerId: string;
  /** When the current token stops being accepted (1 h after it was issued, by default). */
  readonly expiresAt: Date;
  /**
   * Renews the session now: StartCustomerSession called with the current token gives a new token for the same
   * customer, so ListOrders keeps showing the orders placed before. Only when the server refuses the old token
   * (expired, or the deployment rotated its keys) does this start a new customer; orders placed before stay readable
   * with the access token CreateOrder returned.
   */
  renew(): Promise<void>;
}

/** A client's options without its credential (the session is the credential) or transport (it carries the session). */
export interface CustomerSessionOptions
  extends Omit<ShopClientOptions, "credential" | "apiKey" | "token" | "transport"> {
  /** The guest's email, given to StartCustomerSession again at every renewal. */
  email: string;
  /**
   * How long before expiry a call starts a new session instead of sending the old token, so no call leaves with a
   * token about to lapse. Default 5 minutes, or a fifth of the session's lifetime when that is shorter.
   */
  renewBeforeMs?: number;
  /** The clock renewal is decided by (milliseconds since the epoch); tests move it instead of waiting. */
  now?: () => number;
}

interface SessionState {
  token: string;
  customerId: string;
  expiresAtMs: number;
  renewAtMs: number;
}

/**
 * Starts a guest's session from an email (the public, rate-limited `StartCustomerSession`) and returns a client that
 * calls as that customer, so a storefront needs no API key to check out. The client starts a new session before the
 * current one expires, and once more if the server refuses a token as unauthenticated (the call had not run, so it is
 * sent again with the new token).
 */
export async function startCustomerSession(options: CustomerSessionOptions): Promise<CustomerSession> {
  const { email, renewBeforeMs = 5 * 60_000, now = Date.now, ...clientOptions } = options;
  const anonymous = createShopClient(clientOptions);

  /** A new session, or, given the current one while it is still valid, that session renewed for the same customer. */
  async function begin(renewing?: SessionState): Promise<SessionState> {
    const started = now();
    const valid = renewing !== undefined && !(started >= renewing.expiresAtMs);
    const session = await anonymous.orders
      .startCustomerSession({ email }, valid ? { headers: { authorization: `Bearer ${renewing.token}` } } : undefined)
      .catch((err: unknown) => {
        // The server no longer accepts the token (its keys were rotated): a new session, as a new customer.
        if (!valid || ConnectError.from(err).code !== Code.Unauthenticated) throw err;
        return anonymous.orders.startCustomerSession({ email });
      });
    const expiresAtMs = session.expireTime === undefined ? Number.NaN : timestampMs(session.expireTime);
    const margin = Math.min(renewBeforeMs, Math.max(0, expiresAtMs - started) / 5);
    return { token: session.token, customerId: session.customerId, expiresAtMs, renewAtMs: expiresAtMs - margin };
  }

  let current = await begin();
  let renewing: Promise<SessionState> | undefined;
  const renew = (): Promise<SessionState> => {
    renewing ??= begin(current)
      .then((state) => {
        current = state;
        return state;
      })
      .finally(() => {
        renewing = undefined;
      });
    return renewing;
  };

  const authenticate: Interceptor = (next) => async (req) => {
    // A session without a known expiry (no expire_time) is only renewed when the server refuses it.
    let sent = now() >= current.renewAtMs ? await renew() : current;
    req.header.set("authorization", `Bearer ${sent.token}`);
    try {
      return await next(req);
    } catch (err) {
      if (req.signal.aborted || ConnectError.from(err).code !== Code.Unauthenticated) throw err;
      sent = sent === current ? await renew() : current;
      req.header.set("authorization", `Bearer ${sent.token}`);
      return next(req);
    }
  };

  return {
    client: createShopClientWith(clientOptions, authenticate),
    get token() {
      return current.token;
    },
    get customerId() {
      return current.customerId;
    },
    get expiresAt() {
      return new Date(current.expiresAtMs);
    },
    async renew() {
      await renew();
    },
  };
}
