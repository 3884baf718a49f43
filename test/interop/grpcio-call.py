"""Unary calls with Python grpcio (gRPC C-core), messages built from a descriptor set at run time.

Usage: grpcio-call.py DESCRIPTOR_SET < CALLS_JSON
CALLS_JSON is a list of {"target": "host:port", "path": "/pkg.Service/Method", "request": object,
"metadata": [[key, value], ...]}. Prints one JSON list, in the same order, of
{"code": "OK" | status name, "details": str, "response": object | null}.
One process for every call, so the interpreter and the descriptor set load once.
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


def call_one(pool, channel, call):
    path = call["path"]
    service_name, method_name = path.strip("/").split("/")
    method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
    response_class = message_class(method.output_type)
    request = json_format.ParseDict(call["request"], message_class(method.input_type)())
    stub = channel.unary_unary(
        path,
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=response_class.FromString,
    )
    try:
        response = stub(request, metadata=[tuple(pair) for pair in call.get("metadata", [])], timeout=30)
        return {"code": "OK", "details": "", "response": json_format.MessageToDict(response)}
    except grpc.RpcError as error:
        return {"code": error.code().name, "details": error.details(), "response": None}


def main(argv):
    (set_path,) = argv
    pool = load_pool(set_path)
    calls = json.load(sys.stdin)
    channels = {}
    try:
        results = []
        for call in calls:
            target = call["target"]
            if target not in channels:
                channels[target] = grpc.insecure_channel(target)
            results.append(call_one(pool, channels[target], call))
    finally:
        for channel in channels.values():
            channel.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
