import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  type ReindexProgress,
  ReindexProgressSchema,
  type SearchService,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import type { CatalogReadModel, RebuildProgress, ResponseForm } from "./catalog-read-model.js";
import type { Reindex } from "./reindex-forwarding.js";

/**
 * Binary codecs (Connect proto, gRPC, gRPC-web) take the products' stored encodings; JSON needs objects. Every protocol
 * sets the response content type from the request's codec before the handler runs ("application/json",
 * "application/grpc+json", "application/grpc-web+json" for JSON).
 */
const responseForm = (context: HandlerContext): ResponseForm =>
  context.responseHeader.get("content-type")?.endsWith("json") ? "objects" : "bytes";

/**
 * The Connect implementation: every read goes to the read model; Reindex streams the progress of a rebuild, run here
 * or, when another replica writes the shared index, by that replica.
 */
export function createSearchServiceImpl(deps: {
  readModel: CatalogReadModel;
  reindex: Reindex;
}): ServiceImpl<typeof SearchService> {
  const { readModel, reindex } = deps;
  return {
    searchProducts: (request, context) => readModel.search(request, responseForm(context)),
    getProduct: (request, context) => readModel.getProduct(request.id, responseForm(context)),
    listCollections: async (request) => readModel.listCollections(request),

    async *reindex(): AsyncGenerator<ReindexProgress> {
      const queue: RebuildProgress[] = [];
      let wake: (() => void) | undefined;
      let failure: { error: unknown } | undefined;
      const push = (progress: RebuildProgress) => {
        queue.push(progress);
        wake?.();
      };
      // A rebuild outlives a caller that hangs up: it is the server's work, not the stream's.
      reindex(push).then(push, (error: unknown) => {
        failure = { error };
        wake?.();
      });
      for (;;) {
        for (let progress = queue.shift(); progress; progress = queue.shift()) {
          yield create(ReindexProgressSchema, {
            eventsApplied: BigInt(progress.applied),
            eventsTotal: BigInt(progress.total),
            indexVersion: progress.version,
            done: progress.done,
          });
          if (progress.done) return;
        }
        if (failure) throw failure.error;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}
