import { Code, ConnectError } from "@connectrpc/connect";

/** Exit codes scripts can trust: 0 ok, 1 usage, 2 server or validation error. */
export const exitCode = { ok: 0, usage: 1, failed: 2 } as const;

/** A mistake on the command line, found before anything was sent. */
export class UsageError extends Error {
  override name = "UsageError" as const;
}

export function isUsageError(err: unknown): err is UsageError {
  return err instanceof Error && err.name === "UsageError";
}

const nextSteps: Partial<Record<Code, string>> = {
  [Code.Unauthenticated]: "run `shop login` with a valid API key",
  [Code.PermissionDenied]: "this key's role may not do that; ask an operator for a key with the right role",
  [Code.Unavailable]: "is the platform running? start it with `npm start`, or check `shop config get endpoint`",
  [Code.Aborted]: "someone changed it meanwhile: read it again (`get`) and retry with the new revision",
  [Code.NotFound]: "check the id with the matching `list` command",
  [Code.InvalidArgument]: "fix the named field and run the command again",
  [Code.Unimplemented]: "the platform at this endpoint does not offer that yet: update it, or check the endpoint",
  [Code.DeadlineExceeded]: "the platform is slow to answer; retry, or check its health at /readyz",
};

/** fetch reports a refused connection as a TypeError ("fetch failed"); for the user that is an unreachable platform. */
function unreachable(err: unknown): ConnectError | undefined {
  const cause = err instanceof ConnectError ? err.cause : err;
  if (!(cause instanceof TypeError) || !/fetch failed/.test(cause.message)) return undefined;
  const code = (cause.cause as NodeJS.ErrnoException | undefined)?.code;
  return new ConnectError(`cannot reach the platform${code ? ` (${code})` : ""}`, Code.Unavailable);
}

/** One line saying what went wrong and one saying what to do next. */
export function describeError(err: unknown): { message: string; exit: number } {
  if (isUsageError(err)) return { message: `error: ${err.message}`, exit: exitCode.usage };
  const connectError = unreachable(err) ?? ConnectError.from(err);
  const hint = nextSteps[connectError.code];
  const message = `error: ${connectError.rawMessage} (${Code[connectError.code]})${hint ? `\nhint: ${hint}` : ""}`;
  return { message, exit: exitCode.failed };
}
