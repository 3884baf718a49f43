import { randomBytes } from "node:crypto";

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

/** 16 random base-32 characters (80 bits): unguessable, safe as a NATS subject token and in URLs. */
function randomToken(): string {
  const bytes = randomBytes(16);
  let token = "";
  for (const byte of bytes) token += alphabet[byte & 31];
  return token;
}

export function newProductId(): string {
  return `prd_${randomToken()}`;
}

export function newCollectionId(): string {
  return `col_${randomToken()}`;
}
