import { createRegistry, type DescMethod, getOption, hasOption } from "@bufbuild/protobuf";
import { access, file_shop_common_v1_access, type Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { event as eventOption, file_shop_events_v1_event } from "@shop/contracts/shop/events/v1/event_pb.js";
import { file_shop_identity_v1_api_key_service } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { file_shop_identity_v1_events } from "@shop/contracts/shop/identity/v1/events_pb.js";
import { file_shop_inventory_v1_events } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { file_shop_inventory_v1_inventory_service } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { file_shop_orders_v1_events } from "@shop/contracts/shop/orders/v1/events_pb.js";
import { file_shop_orders_v1_order_service } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { file_shop_products_v1_events } from "@shop/contracts/shop/products/v1/events_pb.js";
import { file_shop_products_v1_product_service } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { file_shop_search_v1_search_service } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { type EventContract, eventContract } from "@shop/event-wire";

/** Every file of the contract, so JSON codecs, event decoding and contract tests see the same types. */
export const contractRegistry = createRegistry(
  file_shop_common_v1_access,
  file_shop_events_v1_event,
  file_shop_identity_v1_api_key_service,
  file_shop_identity_v1_events,
  file_shop_products_v1_product_service,
  file_shop_products_v1_events,
  file_shop_inventory_v1_inventory_service,
  file_shop_inventory_v1_events,
  file_shop_orders_v1_order_service,
  file_shop_orders_v1_events,
  file_shop_search_v1_search_service,
);

// Options are decoded from the descriptor on every `getOption` call; descriptors never change, so each is read once.
const rolesByMethod = new WeakMap<DescMethod, readonly Role[]>();

/** Roles allowed to call a method, from its `(shop.common.v1.access)` option; empty when the option is missing. */
export function allowedRoles(method: DescMethod): readonly Role[] {
  let roles = rolesByMethod.get(method);
  if (roles === undefined) {
    roles = Object.freeze(hasOption(method, access) ? [...getOption(method, access).allow] : []);
    rolesByMethod.set(method, roles);
  }
  return roles;
}

export type { EventContract };
export { eventContract };

/** Every event message in the contract. */
export function allEventContracts(): EventContract[] {
  const events: EventContract[] = [];
  for (const type of contractRegistry) {
    if (type.kind === "message" && hasOption(type, eventOption)) events.push(eventContract(type));
  }
  return events;
}
