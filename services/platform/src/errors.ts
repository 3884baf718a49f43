import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Domain errors: services throw these from their domain and store code; `toConnectError` maps them to Connect codes
 * in this one place. Guards check `name`, not `instanceof`, so errors crossing package copies still match.
 */
export class NotFoundError extends Error {
  override name = "NotFoundError" as const;
}

export class AlreadyExistsError extends Error {
  override name = "AlreadyExistsError" as const;
}

/** The caller's view is out of date (stale revision): re-read and retry. */
export class StaleRevisionError extends Error {
  override name = "StaleRevisionError" as const;
}

/** The resource is in a state that does not allow the operation (e.g. committing an expired reservation). */
export class PreconditionError extends Error {
  override name = "PreconditionError" as const;
}

/** Not enough of something (stock, quota). */
export class ExhaustedError extends Error {
  override name = "ExhaustedError" as const;
}

/** Input that passed the contract's rules but breaks a domain rule; `field` is the request field path. */
export class InvalidInputError extends Error {
  override name = "InvalidInputError" as const;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A dependency (database, broker) is not reachable right now; callers may retry. */
export class UnavailableError extends Error {
  override name = "UnavailableError" as const;
}

const codeByName: Record<string, Code> = {
  NotFoundError: Code.NotFound,
  AlreadyExistsError: Code.AlreadyExists,
  StaleRevisionError: Code.Aborted,
  PreconditionError: Code.FailedPrecondition,
  ExhaustedError: Code.ResourceExhausted,
  InvalidInputError: Code.InvalidArgument,
  UnavailableError: Code.Unavailable,
};

export function isDomainError(err: unknown): err is Error {
  return err instanceof Error && err.name in codeByName;
}

/**
 * Turns anything thrown by a handler into what the caller may see. Domain errors keep their message; anything else
 * becomes a bare Internal error that only carries the request id, so stack traces and SQL never leave the process.
 */
export function toConnectError(err: unknown, requestId: string): { error: ConnectError; internal: boolean } {
  if (err instanceof ConnectError) return { error: err, internal: false };
  if (isDomainError(err)) return { error: new ConnectError(err.message, codeByName[err.name]), internal: false };
  return {
    error: new ConnectError(`internal error; quote request id ${requestId} when reporting it`, Code.Internal),
    internal: true,
  };
}
