/** The `type` of a Stripe error body; the SDK picks its error class from it and the HTTP status. */
export type StripeErrorType = "api_error" | "card_error" | "idempotency_error" | "invalid_request_error";

/** The `error` object of a Stripe error response, with the fields the SDK copies onto its error classes. */
export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
}

/**
 * An answer in Stripe's error shape. `recorded` says whether an idempotency key keeps it: Stripe stores the result of
 * a request that began to execute (a decline, a state conflict) but not one refused while its parameters were read,
 * so a caller can fix the request and retry with the same key.
 */
export class StripeApiError extends Error {
  override name = "StripeApiError" as const;
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly recorded: boolean,
  ) {
    super(body.message);
  }
}

/** Checks `name`, not `instanceof`, as the platform's guards do. */
export function isStripeApiError(err: unknown): err is StripeApiError {
  return err instanceof Error && err.name === "StripeApiError";
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;
}

/** A request refused while its parameters were read (nothing executed, nothing recorded under its key). */
function invalidParameter(param: string, message: string, code?: string): StripeApiError {
  const body: StripeErrorBody = { type: "invalid_request_error", message, param };
  if (code !== undefined) {
    body.code = code;
    body.doc_url = docUrl(code);
  }
  return new StripeApiError(400, body, false);
}

/** The answers the emulator gives when it says no, each shaped and coded as Stripe's. */
export const stripeErrors = {
  parameterMissing: (param: string) =>
    invalidParameter(param, `The parameter ${param} is required for this request.`, "parameter_missing"),
  parameterUnknown: (param: string) =>
    invalidParameter(param, `This request does not take a parameter named ${param}.`, "parameter_unknown"),
  invalidInteger: (param: string, raw: string) =>
    invalidParameter(param, `${param} must be a whole number, got "${raw}".`, "parameter_invalid_integer"),
  integerBelow: (param: string, minimum: number) =>
    invalidParameter(param, `${param} must be at least ${minimum}.`, "parameter_invalid_integer"),
  emptyString: (param: string) =>
    invalidParameter(param, `${param} must not be empty; leave it out instead.`, "parameter_invalid_empty"),
  invalidValue: (param: string, message: string) => invalidParameter(param, message),
  invalidEmail: (param: string, raw: string) =>
    invalidParameter(param, `${param} is not a valid email address: "${raw}".`, "email_invalid"),
  invalidUrl: (param: string, raw: string) =>
    invalidParameter(param, `${param} must be an absolute http or https URL, got "${raw}".`, "url_invalid"),
  amountTooSmall: (param: string, minimum: number, currency: string) =>
    invalidParameter(param, `${param} must be at least ${minimum} (minor units of ${currency}).`, "amount_too_small"),
  amountTooLarge: (param: string, maximum: number) =>
    invalidParameter(param, `${param} must be at most ${maximum}.`, "amount_too_large"),

  /** An id in the path that names nothing: 404, as Stripe answers for a missing object. */
  notFound: (kind: string, id: string) =>
    new StripeApiError(
      404,
      {
        type: "invalid_request_error",
        code: "resource_missing",
        doc_url: docUrl("resource_missing"),
        message: `There is no ${kind} with id '${id}'.`,
        param: "id",
      },
      false,
    ),
  /** An id in a parameter that names nothing: 400 with that parameter, as Stripe answers. */
  missingReference: (kind: string, id: string, param: string) =>
    invalidParameter(param, `There is no ${kind} with id '${id}'.`, "resource_missing"),
  unrecognizedUrl: (method: string, path: string) =>
    new StripeApiError(
      404,
      { type: "invalid_request_error", message: `The emulator does not serve ${method} ${path}.` },
      false,
    ),
  malformedBody: (message: string) => new StripeApiError(400, { type: "invalid_request_error", message }, false),
  bodyTooLarge: (limit: number) =>
    new StripeApiError(
      413,
      { type: "invalid_request_error", message: `The request body is larger than ${limit} bytes.` },
      false,
    ),
  noApiKey: () =>
    new StripeApiError(
      401,
      {
        type: "invalid_request_error",
        message: "No API key was sent. Send it as 'Authorization: Bearer sk_test_…'.",
      },
      false,
    ),
  invalidApiKey: (masked: string) =>
    new StripeApiError(
      401,
      { type: "invalid_request_error", message: `The API key ${masked} is not valid for this emulator.` },
      false,
    ),

  /** The object is in a state that does not allow the action (recorded: execution had begun). */
  unexpectedState: (message: string, param?: string, extra: Partial<StripeErrorBody> = {}) =>
    new StripeApiError(
      400,
      {
        type: "invalid_request_error",
        code: "payment_intent_unexpected_state",
        doc_url: docUrl("payment_intent_unexpected_state"),
        message,
        ...(param === undefined ? {} : { param }),
        ...extra,
      },
      true,
    ),
  /** A refund the charge cannot take (recorded, as the state checks are). */
  refundRefused: (code: string, message: string, param?: string) =>
    new StripeApiError(
      400,
      {
        type: "invalid_request_error",
        code,
        doc_url: docUrl(code),
        message,
        ...(param === undefined ? {} : { param }),
      },
      true,
    ),
  /** A failed payment attempt, 402 with the card error and the intent as it now stands. */
  cardError: (body: Omit<StripeErrorBody, "type">) =>
    new StripeApiError(
      402,
      { type: "card_error", ...body, ...(body.code === undefined ? {} : { doc_url: docUrl(body.code) }) },
      true,
    ),

  idempotencyMismatch: (key: string) =>
    new StripeApiError(
      400,
      {
        type: "idempotency_error",
        message:
          `The idempotency key '${key}' was first used with other parameters or another endpoint. ` +
          "A different request needs a different key.",
      },
      false,
    ),
  idempotencyKeyInUse: (key: string) =>
    new StripeApiError(
      409,
      {
        type: "invalid_request_error",
        code: "idempotency_key_in_use",
        doc_url: docUrl("idempotency_key_in_use"),
        message: `Another request with the idempotency key '${key}' is still running; retry when it has finished.`,
      },
      false,
    ),
  idempotencyKeyTooLong: (length: number) =>
    new StripeApiError(
      400,
      {
        type: "invalid_request_error",
        message: `An idempotency key may be at most 255 characters long; this one has ${length}.`,
      },
      false,
    ),
  internal: () =>
    new StripeApiError(
      500,
      { type: "api_error", message: "The emulator failed while handling this request; see its log." },
      true,
    ),
};
