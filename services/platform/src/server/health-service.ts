import { create, createFileRegistry, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";

/**
 * grpc.health.v1.Health, described in code rather than vendored as a .proto: load balancers and Kubernetes probes
 * call it over plain gRPC. Only Check is served; Watch is not needed by any probe we support.
 */
const healthFile = create(FileDescriptorProtoSchema, {
  name: "grpc/health/v1/health.proto",
  package: "grpc.health.v1",
  syntax: "proto3",
  messageType: [
    { name: "HealthCheckRequest", field: [{ name: "service", number: 1, type: 9, label: 1, jsonName: "service" }] },
    {
      name: "HealthCheckResponse",
      field: [
        {
          name: "status",
          number: 1,
          type: 14,
          label: 1,
          typeName: ".grpc.health.v1.HealthCheckResponse.ServingStatus",
          jsonName: "status",
        },
      ],
      enumType: [
        {
          name: "ServingStatus",
          value: [
            { name: "UNKNOWN", number: 0 },
            { name: "SERVING", number: 1 },
            { name: "NOT_SERVING", number: 2 },
            { name: "SERVICE_UNKNOWN", number: 3 },
          ],
        },
      ],
    },
  ],
  service: [
    {
      name: "Health",
      method: [
        {
          name: "Check",
          inputType: ".grpc.health.v1.HealthCheckRequest",
          outputType: ".grpc.health.v1.HealthCheckResponse",
        },
      ],
    },
  ],
});

export const HealthService = createFileRegistry(healthFile, () => undefined).getService(
  "grpc.health.v1.Health",
) as DescService;

const SERVING = 1;
const NOT_SERVING = 2;

/** Registers Health.Check; `isReady` decides SERVING vs NOT_SERVING (e.g. false while shutting down). */
export function registerHealth(router: ConnectRouter, isReady: () => boolean): void {
  router.service(HealthService, {
    check: () => ({ status: isReady() ? SERVING : NOT_SERVING }),
  } as never);
}
