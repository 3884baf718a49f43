import type { DescMethod } from "@bufbuild/protobuf";
import { contractRegistry } from "@shop/platform";

/** Upstream origin per domain of the contract (`shop.<domain>.v1`). */
export type Upstreams = Record<string, string>;

export interface Route {
  method: DescMethod;
  upstream: string;
}

/**
 * Maps `/<package>.<Service>/<Method>` to the method's descriptor and its upstream, from the contract: a new RPC is
 * routed as soon as it is in gen/, and a path outside the contract never reaches a service.
 */
export function createRouteTable(upstreams: Upstreams): (path: string) => Route | undefined {
  const routes = new Map<string, Route>();
  for (const type of contractRegistry) {
    if (type.kind !== "service") continue;
    const domain = type.typeName.split(".")[1] ?? "";
    const upstream = upstreams[domain];
    if (upstream === undefined) continue;
    for (const method of type.methods) routes.set(`/${type.typeName}/${method.name}`, { method, upstream });
  }
  return (path) => routes.get(path.split("?")[0] ?? "");
}
