// How a forge proves a webhook came from it: Forgejo and Gitea sign the raw body (hex
// HMAC-SHA256 under the webhook's secret, in X-Forgejo-Signature / X-Gitea-Signature); GitLab
// sends the secret itself in X-Gitlab-Token. Both are checked in constant time on the bytes
// received, before any of them is parsed. `signForgeBody` is what a forge computes (tests).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The hex HMAC-SHA256 of `body` under `secret`, as Forgejo and Gitea send it. */
export function signForgeBody(secret: string, body: Uint8Array): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** sha256 hex of the body: what a replay under another delivery id is recognised by. */
export function bodyDigest(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

// Both sides hashed first: equal lengths for timingSafeEqual, and the time taken says nothing of
// how long the secret is or how much of it matched.
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** A Forgejo/Gitea signature header (hex, any case) checked against the body. */
export function verifyForgeSignature(secret: string, body: Uint8Array, signature: string): boolean {
  const given = signature.trim().toLowerCase();
  // Not hex of the right length: compared anyway (against garbage), so that a malformed header
  // takes as long as a wrong one.
  const wanted = signForgeBody(secret, body);
  const ok = sameBytes(Buffer.from(given, "utf8"), Buffer.from(wanted, "utf8"));
  return ok && /^[0-9a-f]{64}$/.test(given);
}

/** GitLab's X-Gitlab-Token: the configured secret itself. */
export function verifyForgeToken(secret: string, token: string): boolean {
  return sameBytes(Buffer.from(token, "utf8"), Buffer.from(secret, "utf8"));
}
