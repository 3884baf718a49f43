import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/**
 * Where credentials could end up in a log line, censored by pino before the line is written: request headers (in the
 * shapes Node and the Fetch API give them) and fields named after a credential (NATS's `pass`, `auth_token` and `seed`
 * among them). Nothing logs them today; this is the net under a future `logger.debug({ headers })`.
 */
const credentialPaths = [
  "authorization",
  "cookie",
  "credential",
  "token",
  "secret",
  "apiKey",
  "password",
  "pass",
  "auth_token",
  "seed",
  "headers.authorization",
  "headers.cookie",
  'headers["x-api-key"]',
  "*.authorization",
  "*.credential",
  "*.token",
  "*.secret",
  "*.apiKey",
  "*.password",
  "*.pass",
  "*.auth_token",
  "*.seed",
  "*.headers.authorization",
  "*.headers.cookie",
  '*.headers["x-api-key"]',
];

/**
 * JSON logs on stdout, one line per event, with the service name on every line. `destination` replaces stdout
 * (tests capture the lines).
 */
export function createLogger(service: string, level = "info", destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: credentialPaths, censor: "[redacted]" },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
