"""One unary call with Python grpcio (gRPC C-core), messages built from a descriptor set at run time.

Usage: grpcio-call.py DESCRIPTOR_SET TARGET /pkg.Service/Method REQUEST_JSON [key=value metadata ...] [--timeout S]
Prints one JSON line: {"code": "OK" | status name, "details": str, "response": object | null}.
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def load_pool(path):
    files = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as handle:
        files.ParseFromString(handle.read())
    pool = descriptor_pool.DescriptorPool()
    pending = list(files.file)
    # Add files once their imports are in the pool, whatever order the set lists them in.
    while pending:
        added = [f for f in pending if all(_has_file(pool, d) for d in f.dependency)]
        if not added:
            raise SystemExit("descriptor set has unresolvable imports")
        for f in added:
            pool.Add(f)
            pending.remove(f)
    return pool


def _has_file(pool, name):
    try:
        pool.FindFileByName(name)
        return True
    except KeyError:
        return False


def message_class(descriptor):
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(descriptor.file.pool).GetPrototype(descriptor)


def main(argv):
    timeout = None
    if "--timeout" in argv:
        at = argv.index("--timeout")
        timeout = float(argv[at + 1])
        del argv[at : at + 2]
    set_path, target, path, request_json, *metadata_args = argv
    pool = load_pool(set_path)
    service_name, method_name = path.strip("/").split("/")
    method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
    request_class = message_class(method.input_type)
    response_class = message_class(method.output_type)
    request = json_format.Parse(request_json, request_class())
    metadata = [tuple(item.split("=", 1)) for item in metadata_args]
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            path,
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        try:
            response = call(request, metadata=metadata, timeout=timeout)
            result = {"code": "OK", "details": "", "response": json_format.MessageToDict(response)}
        except grpc.RpcError as error:
            result = {"code": error.code().name, "details": error.details(), "response": None}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
