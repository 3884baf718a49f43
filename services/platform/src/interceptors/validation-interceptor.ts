import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { contractRegistry } from "../contract.js";

/**
 * Enforces the contract's protovalidate rules before the handler runs. Bad input becomes InvalidArgument whose
 * message starts with the field path, with the violations attached as a typed error detail.
 */
export function validationInterceptor(): Interceptor {
  const validator = createValidator({ registry: contractRegistry });
  return (next) => async (req) => {
    if (!req.stream) {
      const result = validator.validate(req.method.input, req.message);
      if (result.kind === "invalid") {
        const [first] = result.violations;
        const summary = result.violations.map((v) => `${pathToString(v.field)}: ${v.message}`).join("; ");
        const [violations, schema] = violationsToProto(result.violations);
        throw new ConnectError(summary || String(first), Code.InvalidArgument, undefined, [
          { desc: schema, value: violations },
        ]);
      }
      if (result.kind === "error") throw result.error;
    }
    return next(req);
  };
}
