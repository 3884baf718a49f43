import { randomFillSync } from "node:crypto";

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
const tokenLength = 16;

// Entropy is drawn from the CSPRNG a block at a time (as node's randomUUID does): one call per 256 ids, not per id.
const entropy = Buffer.alloc(tokenLength * 256);
let used = entropy.length;

/** 16 random base-32 characters (80 bits): unguessable, safe as a NATS subject token and in URLs. */
function randomToken(): string {
  if (used === entropy.length) {
    randomFillSync(entropy);
    used = 0;
  }
  let token = "";
  for (let i = used; i < used + tokenLength; i++) token += alphabet[(entropy[i] as number) & 31];
  used += tokenLength;
  return token;
}

export function newProductId(): string {
  return `prd_${randomToken()}`;
}

export function newCollectionId(): string {
  return `col_${randomToken()}`;
}
