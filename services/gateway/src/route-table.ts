import type { DescMethod } from "@bufbuild/protobuf";
import { contractRegistry, createReplicaRotation, type ReplicaRotation } from "@shop/platform";

/** Upstream origin per domain of the contract (`shop.<domain>.v1`): one URL, or one per replica of the service. */
export type Upstreams = Record<string, string | readonly string[]>;

export interface Route {
  method: DescMethod;
  /** The replicas of the service that owns the method, in rotation. */
  replicas: ReplicaRotation;
}

export interface RouteTableOptions {
  /** How long a replica that refused a connection gets no calls while others answer. Default 5 s. */
  keepOutMs?: number;
}

/**
 * Maps `/<package>.<Service>/<Method>` to the method's descriptor and its upstream replicas, from the contract: a new
 * RPC is routed as soon as it is in gen/, and a path outside the contract never reaches a service. Domains served by
 * the same replicas (identity and products) share one rotation, so both know a replica that refused.
 */
export function createRouteTable(
  upstreams: Upstreams,
  options: RouteTableOptions = {},
): (path: string) => Route | undefined {
  const rotations = new Map<string, ReplicaRotation>();
  const rotationOf = (urls: readonly string[]) => {
    const key = urls.join(",");
    let rotation = rotations.get(key);
    if (rotation === undefined) {
      rotation = createReplicaRotation(urls, { keepOutMs: options.keepOutMs });
      rotations.set(key, rotation);
    }
    return rotation;
  };
  const routes = new Map<string, Route>();
  for (const type of contractRegistry) {
    if (type.kind !== "service") continue;
    const domain = type.typeName.split(".")[1] ?? "";
    const upstream = upstreams[domain];
    if (upstream === undefined) continue;
    const replicas = rotationOf(typeof upstream === "string" ? [upstream] : upstream);
    for (const method of type.methods) routes.set(`/${type.typeName}/${method.name}`, { method, replicas });
  }
  return (path) => {
    const query = path.indexOf("?");
    return routes.get(query < 0 ? path : path.slice(0, query));
  };
}
