import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import { durationFromMs, FileDescriptorProtoSchema, file_google_protobuf_duration } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * google.rpc.RetryInfo, described in code rather than vendored with all of googleapis: the standard error detail that
 * tells a client how long to wait before trying again, understood by gRPC and Connect clients alike.
 */
const retryInfoFile = create(FileDescriptorProtoSchema, {
  name: "google/rpc/error_details.proto",
  package: "google.rpc",
  syntax: "proto3",
  dependency: ["google/protobuf/duration.proto"],
  messageType: [
    {
      name: "RetryInfo",
      field: [
        {
          name: "retry_delay",
          number: 1,
          type: 11,
          label: 1,
          typeName: ".google.protobuf.Duration",
          jsonName: "retryDelay",
        },
      ],
    },
  ],
});

export const RetryInfoSchema = createFileRegistry(retryInfoFile, (name) =>
  name === "google/protobuf/duration.proto" ? file_google_protobuf_duration : undefined,
).getMessage("google.rpc.RetryInfo") as DescMessage;

/** ResourceExhausted with the time to wait as a RetryInfo detail, for rate limits and other back-pressure. */
export function retryLaterError(message: string, retryAfterMs: number): ConnectError {
  const wait = Math.max(1, Math.ceil(retryAfterMs));
  return new ConnectError(message, Code.ResourceExhausted, undefined, [
    { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(wait) } },
  ]);
}

/** The wait a RetryInfo detail of `error` asks for, in milliseconds; undefined when it has none. */
export function retryDelayMs(error: ConnectError): number | undefined {
  const [info] = error.findDetails(RetryInfoSchema) as Array<{ retryDelay?: { seconds: bigint; nanos: number } }>;
  if (info?.retryDelay === undefined) return undefined;
  return Number(info.retryDelay.seconds) * 1000 + Math.round(info.retryDelay.nanos / 1e6);
}
