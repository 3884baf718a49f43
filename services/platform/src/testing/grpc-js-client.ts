import { create, type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";

function withDependencies(file: DescFile, into: Map<string, DescFile> = new Map()): Map<string, DescFile> {
  for (const dependency of file.dependencies) withDependencies(dependency, into);
  into.set(file.name, file);
  return into;
}

/** A method of the dynamic client: plain-object request in, plain-object response out (proto-loader conventions). */
export type DynamicUnaryCall = (request: object, metadata?: grpc.Metadata) => Promise<Record<string, unknown>>;

/**
 * A client for `service` built only from its descriptor by an independent gRPC implementation (@grpc/grpc-js with
 * proto-loader), to prove the services speak standard gRPC rather than just what connect-es understands.
 */
export function grpcJsClient(
  service: DescService,
  address: string,
  credential?: string,
): { call(method: string, request: object): Promise<Record<string, unknown>>; close(): void } {
  const files = [...withDependencies(service.file).values()].map((file) => file.proto);
  const set = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }));
  const definition = loadFileDescriptorSetFromBuffer(Buffer.from(set), {
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const Constructor = grpc.loadPackageDefinition(definition);
  let ctor: unknown = Constructor;
  for (const part of service.typeName.split(".")) ctor = (ctor as Record<string, unknown>)[part];
  const client = new (ctor as typeof grpc.Client)(
    address.replace(/^https?:\/\//, ""),
    grpc.credentials.createInsecure(),
  ) as grpc.Client &
    Record<
      string,
      (
        req: object,
        md: grpc.Metadata,
        cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void,
      ) => void
    >;
  return {
    call(method, request) {
      const metadata = new grpc.Metadata();
      if (credential) metadata.set("authorization", `Bearer ${credential}`);
      const name = method.charAt(0).toLowerCase() + method.slice(1);
      return new Promise((resolve, reject) => {
        const fn = client[name] ?? client[method];
        if (fn === undefined) return reject(new Error(`${service.typeName} has no method ${method}`));
        fn.call(client, request, metadata, (err, res) => (err ? reject(err) : resolve(res)));
      });
    },
    close: () => client.close(),
  };
}
