import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { type Order, OrderSchema, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { InvalidInputError, type Principal, principalKey, type TokenIssuer, type TokenKeySet } from "@shop/platform";
import type { CatalogPrices } from "./domain/catalog-prices.js";
import { isOrderAccessToken, orderAccessToken } from "./domain/order-access.js";
import { orderIdFor } from "./domain/order-ids.js";
import { priceLines } from "./domain/pricing.js";
import { hasLinesOf, sellerView } from "./domain/seller-view.js";
import { cancelOrder, fulfillOrder, refundOrder } from "./order-operations.js";
import type { OrderReadModel } from "./order-read-model.js";
import type { OrderRecovery } from "./order-recovery.js";
import { continueCheckout, isStalledBeforePayment, releaseStock, runCheckout, type SagaPorts } from "./order-saga.js";
import { isOrderConflict, type StoredOrder } from "./store/order-event-store.js";
import type { RecoveryClaims } from "./store/recovery-claims.js";

export interface OrderServiceDeps {
  ports: SagaPorts;
  prices: CatalogPrices;
  readModel: OrderReadModel;
  tokens: TokenIssuer;
  tokenKeys: TokenKeySet;
  sessionSeconds: number;
  /** Resolves once the catalog and the orders are replayed; checkouts wait for it. */
  ready: Promise<void>;
  /** RecoverOrders runs a pass of it now. */
  recovery: OrderRecovery;
  /** The claims recovery takes: a retry resuming a stalled checkout takes its order's too. */
  claims: RecoveryClaims;
}

/** Same answer as for an order that does not exist: an order id alone must not confirm that the order exists. */
const notFound = (id: string) => new ConnectError(`order ${id} not found`, Code.NotFound);

/** Who may read an order: its access token, its customer's own session, or an operator. */
function mayRead(order: Order, principal: Principal, accessToken: string, keys: TokenKeySet): boolean {
  if (principal.role === Role.OPERATOR) return true;
  if (principal.role === Role.CUSTOMER && principal.subject === order.customerId) return true;
  // Sellers see the orders with a line of theirs, and of those only their lines (sellerView).
  if (principal.role === Role.SELLER && hasLinesOf(order, principal.subject)) return true;
  return accessToken !== "" && isOrderAccessToken(accessToken, order.id, keys);
}

/** The order as this caller may see it: a seller gets only their own lines. */
function viewFor(order: Order, principal: Principal): Order {
  return principal.role === Role.SELLER ? sellerView(order, principal.subject) : order;
}

/** Who may change an order: its customer's own session or an operator (CancelOrder); a seller of a line (Fulfill). */
function mayChange(order: Order, principal: Principal): boolean {
  if (principal.role === Role.OPERATOR) return true;
  if (principal.role === Role.CUSTOMER) return principal.subject === order.customerId;
  return principal.role === Role.SELLER && hasLinesOf(order, principal.subject);
}

/** What a CreateOrder asks for, as far as resuming its checkout goes. */
interface RequestedCheckout {
  lines: ReadonlyArray<{ sku: string; quantity: bigint }>;
  paymentMethod: string;
}

/** A retry names the same items as the call that placed the order (prices may have changed since; they stay). */
function sameLines(order: Order, requested: RequestedCheckout["lines"]): boolean {
  return (
    order.lines.length === requested.length &&
    order.lines.every((line, i) => line.sku === requested[i]?.sku && line.quantity === requested[i]?.quantity)
  );
}

/** The Connect implementation: authorize per order, price from the catalog, run the saga, read the projection. */
export function createOrderServiceImpl(deps: OrderServiceDeps): Partial<ServiceImpl<typeof OrderService>> {
  const { ports, readModel } = deps;
  const principalOf = (ctx: HandlerContext) => ctx.values.get(principalKey);
  const authorizedOrder = async (id: string, principal: Principal) => {
    const stored = await readModel.get(id);
    if (stored === undefined || !mayChange(stored.order, principal)) throw notFound(id);
    return stored.order;
  };
  const withAccessToken = (order: Order) =>
    create(OrderSchema, { ...order, accessToken: orderAccessToken(order.id, deps.tokenKeys) });

  /** The order as its stream has it, after someone else (another call of the same request, the webhook) advanced it. */
  const standing = async (stored: StoredOrder) => {
    if (stored.order.state === OrderState.CANCELLED) {
      // Cancelled while this checkout ran: a hold it made after the cancel released holds is let go now, not left
      // to run out (nothing to release is fine).
      await releaseStock(ports, stored, "order cancelled during checkout").catch(() => undefined);
    }
    return stored.order;
  };

  /**
   * With the order's claim held: a checkout an earlier call of the same request placed and that stopped before its
   * payment started (e.g. the inventory was unavailable) resumes; any other order is answered as it stands.
   */
  const resumeClaimed = async (orderId: string, req: RequestedCheckout): Promise<Order | undefined> => {
    const current = await ports.store.load(orderId);
    if (current === undefined) return undefined;
    if (!isStalledBeforePayment(current.order) || !sameLines(current.order, req.lines)) return standing(current);
    try {
      return await continueCheckout(ports, current, req.paymentMethod);
    } catch (err) {
      if (!isOrderConflict(err)) throw err;
      const after = await ports.store.load(orderId);
      return after === undefined ? current.order : standing(after);
    }
  };

  /**
   * Runs `resume` holding the order's claim, as recovery does, so that two retries, or a retry and recovery, never
   * drive one order at once (a first call still running is fenced by the order stream's expected sequence, as it is
   * against recovery). Without the claim someone else is driving the order: the caller gets it as it stands.
   */
  const withClaim = async (order: Order, resume: () => Promise<Order>): Promise<Order> => {
    if (!(await deps.claims.claim(order.id))) return (await ports.store.load(order.id))?.order ?? order;
    try {
      return await resume();
    } finally {
      await deps.claims.release(order.id).catch(() => undefined);
    }
  };

  /** A retry of a request already placed: its stalled checkout resumes; otherwise the order is answered as it is. */
  const retried = async (order: Order, req: RequestedCheckout) => {
    if (!isStalledBeforePayment(order) || !sameLines(order, req.lines)) return order;
    // The read model may lag behind the order's stream: the claim holder resumes from the stream itself.
    return withClaim(order, async () => (await resumeClaimed(order.id, req)) ?? order);
  };

  return {
    async startCustomerSession(_req, ctx) {
      // Called with a customer's own (unexpired) token it renews that session: same customer, new token, so orders
      // placed before stay theirs. Anyone else starts a new customer.
      const principal = principalOf(ctx);
      const customerId =
        principal.role === Role.CUSTOMER ? principal.subject : `cus_${crypto.randomUUID().replaceAll("-", "")}`;
      const token = await deps.tokens.issue(
        { role: Role.CUSTOMER, subject: customerId },
        { ttlSeconds: deps.sessionSeconds },
      );
      return { token, customerId, expireTime: timestampFromMs(Date.now() + deps.sessionSeconds * 1000) };
    },

    async createOrder(req, ctx) {
      const principal = principalOf(ctx);
      const customerId = principal.role === Role.CUSTOMER ? principal.subject : req.customerId;
      if (principal.role === Role.CUSTOMER && req.customerId !== "" && req.customerId !== principal.subject) {
        throw new InvalidInputError("customer_id", "a customer orders for themself: leave it empty");
      }
      if (customerId === "") throw new InvalidInputError("customer_id", "name the customer the order is for");
      const orderId = orderIdFor(principal.subject, req.requestId);
      await deps.ready;
      // A retry of a request already placed returns that order; it is never placed (nor charged) twice. The model
      // answers from memory for orders it knows; one it does not know yet (placed a moment ago, or on another
      // replica) loses the OrderPlaced append below and is answered from its subject.
      const existing = readModel.has(orderId) ? await readModel.get(orderId) : undefined;
      if (existing !== undefined) return withAccessToken(await retried(existing.order, req));
      let priced: ReturnType<typeof priceLines>;
      try {
        priced = priceLines(req.lines, deps.prices.lookup);
      } catch (err) {
        // A retry of an order placed while its product was still on sale returns that order, not a refusal.
        const placedBefore = await readModel.get(orderId);
        if (placedBefore !== undefined) return withAccessToken(await retried(placedBefore.order, req));
        throw err;
      }
      const placed = create(OrderSchema, {
        id: orderId,
        customerId,
        email: req.email,
        lines: priced.lines,
        subtotal: priced.subtotal,
        total: priced.subtotal,
        shippingAddress: req.shippingAddress,
        state: OrderState.PENDING,
      });
      try {
        return withAccessToken(await runCheckout(ports, placed, req.requestId, req.paymentMethod));
      } catch (err) {
        if (!isOrderConflict(err)) throw err;
        // Another call with the same request id, or the webhook, advanced the order first: answer with where it is,
        // or resume it if that call's checkout stopped before the payment started.
        const current = await ports.store.load(orderId);
        if (current === undefined) throw err;
        return withAccessToken(await retried(await standing(current), req));
      }
    },

    async getOrder(req, ctx) {
      const stored = await readModel.get(req.id);
      const principal = principalOf(ctx);
      if (stored === undefined || !mayRead(stored.order, principal, req.accessToken, deps.tokenKeys)) {
        throw notFound(req.id);
      }
      return viewFor(stored.order, principal);
    },

    async listOrders(req, ctx) {
      const principal = principalOf(ctx);
      const customerId = principal.role === Role.CUSTOMER ? principal.subject : req.customerId || undefined;
      const sellerId = principal.role === Role.SELLER ? principal.subject : undefined;
      const page = readModel.list({ customerId, sellerId, state: req.state }, req.pageSize, req.pageToken);
      return { ...page, orders: page.orders.map((order) => viewFor(order, principal)) };
    },

    // Others than the order's customer, its sellers and operators get not_found, as from GetOrder.
    async cancelOrder(req, ctx) {
      const principal = principalOf(ctx);
      await authorizedOrder(req.id, principal);
      const by = principal.role === Role.OPERATOR ? "the shop" : "you";
      return viewFor(await cancelOrder(ports, req.id, req.reason || `Cancelled by ${by}.`), principal);
    },

    async refundOrder(req, ctx) {
      await authorizedOrder(req.id, principalOf(ctx));
      return refundOrder(ports, req.id, { amount: req.amount, reason: req.reason, requestId: req.requestId });
    },

    async fulfillOrder(req, ctx) {
      const principal = principalOf(ctx);
      await authorizedOrder(req.id, principal);
      const shipment = { trackingNumber: req.trackingNumber, carrier: req.carrier };
      return viewFor(await fulfillOrder(ports, req.id, shipment), principal);
    },

    async recoverOrders(req) {
      const olderThanMs = req.olderThan ? durationMs(req.olderThan) : undefined;
      return { orders: await deps.recovery.recoverNow({ dryRun: req.dryRun, olderThanMs, limit: req.limit }) };
    },
  };
}

/** Registers the orders' routes on a Connect router. */
export function orderRoutes(deps: OrderServiceDeps): (router: ConnectRouter) => void {
  return (router) => router.service(OrderService, createOrderServiceImpl(deps));
}
