import { type DescMessage, hasOption } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, violationsToProto } from "@bufbuild/protovalidate";
import {
  field as fieldRules,
  message as messageRules,
  oneof as oneofRules,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { contractRegistry } from "../contract.js";

const ruleFree = new WeakMap<DescMessage, boolean>();

/**
 * True when neither the message nor any message it contains declares a protovalidate rule: such a request has nothing
 * to check, and skipping the validator saves its per-call setup. Worked out once per message type.
 */
export function hasNoRules(schema: DescMessage, visiting = new Set<DescMessage>()): boolean {
  const known = ruleFree.get(schema);
  if (known !== undefined) return known;
  if (visiting.has(schema)) return true; // a cycle: its rules, if any, are found where it started
  visiting.add(schema);
  let free = !hasOption(schema, messageRules) && !schema.oneofs.some((oneof) => hasOption(oneof, oneofRules));
  for (const f of schema.fields) {
    if (!free) break;
    if (hasOption(f, fieldRules)) free = false;
    else if (f.message !== undefined) free = hasNoRules(f.message, visiting);
  }
  visiting.delete(schema);
  if (visiting.size === 0 || !free) ruleFree.set(schema, free);
  return free;
}

/**
 * Enforces the contract's protovalidate rules before the handler runs. Bad input becomes InvalidArgument whose
 * message starts with the field path, with the violations attached as a typed error detail.
 */
export function validationInterceptor(): Interceptor {
  const validator = createValidator({ registry: contractRegistry });
  return (next) => (req) => {
    if (req.stream || hasNoRules(req.method.input)) return next(req);
    const result = validator.validate(req.method.input, req.message);
    if (result.kind === "invalid") {
      const [first] = result.violations;
      const summary = result.violations.map((v) => `${pathToString(v.field)}: ${v.message}`).join("; ");
      const [violations, schema] = violationsToProto(result.violations);
      return Promise.reject(
        new ConnectError(summary || String(first), Code.InvalidArgument, undefined, [
          { desc: schema, value: violations },
        ]),
      );
    }
    if (result.kind === "error") return Promise.reject(result.error);
    return next(req);
  };
}
