import type { PaymentIntentObject } from "./domain/stripe-objects.js";
import type { StripeApi } from "./stripe-api.js";

/** An HTTP answer of the challenge page. */
export interface PageAnswer {
  status: number;
  headers: Record<string, string>;
  html: string;
}

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char] as string);
}

/** "€12.50" from 1250 eur, with the currency's own number of decimals. */
function formatAmount(amount: number, currency: string): string {
  const format = new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() });
  return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
}

function page(status: number, title: string, body: string, headers: Record<string, string> = {}): PageAnswer {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 30rem; margin: 4rem auto; padding: 0 1rem; color: #1d1d1f; }
button { font: inherit; padding: 0.6rem 1.1rem; margin: 0.4rem 0.4rem 0 0; border-radius: 6px; border: 1px solid #8a8a8e; cursor: pointer; }
#complete { background: #1a7f37; border-color: #1a7f37; color: #fff; }
.note { color: #6e6e73; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
  return {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
      ...headers,
    },
    html,
  };
}

function describe(intent: PaymentIntentObject): string {
  const what = intent.description === null ? "" : ` for ${escapeHtml(intent.description)}`;
  return `<p>Payment <code>${escapeHtml(intent.id)}</code> of <strong>${escapeHtml(
    formatAmount(intent.amount, intent.currency),
  )}</strong>${what}.</p>`;
}

const note =
  "<p class=\"note\">Shop's Stripe emulator shows this page in place of the card issuer's 3-D Secure check. " +
  "No real card or bank is involved.</p>";

/** Where the customer is sent back to, with the query parameters Stripe appends to a `return_url`. */
function returnTo(returnUrl: string, intent: PaymentIntentObject, outcome: "complete" | "fail"): string {
  const url = new URL(returnUrl);
  url.searchParams.set("payment_intent", intent.id);
  url.searchParams.set("payment_intent_client_secret", intent.client_secret);
  url.searchParams.set("redirect_status", outcome === "complete" ? "succeeded" : "failed");
  return url.toString();
}

/**
 * The `return_url` a storefront put on the challenge address (`…/3d_secure/3ds_…?return_url=…`), for a payment its
 * server confirmed without one (the orders service confirms server-side, before the browser is involved). Only http(s).
 */
function queryReturnUrl(raw: string | null | undefined): string | null | "invalid" {
  if (raw === null || raw === undefined || raw === "") return null;
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.toString() : "invalid";
  } catch {
    return "invalid";
  }
}

const badReturnUrl = () =>
  page(400, "Invalid return address", `<p><code>return_url</code> must be an absolute http or https URL.</p>${note}`);

const missing = () =>
  page(404, "Authentication not found", `<p>There is no pending authentication at this address.</p>${note}`);

/**
 * The 3-D Secure challenge page at `next_action.redirect_to_url.url`: GET shows the payment with "Complete
 * authentication" and "Fail authentication" buttons (one form, field `outcome` = `complete` | `fail`); POST applies the
 * choice and sends the customer to the `return_url` (303), or says how it ended when there is none. The confirmation's
 * `return_url` wins; without one, a `return_url` query parameter on the page's address is used (the form posts back to
 * the same address, query included). Needs no API key: the unguessable address is the customer's credential, as on
 * Stripe.
 */
export function createChallengePage(api: StripeApi) {
  return {
    show(challengeId: string, returnUrlParam?: string | null): PageAnswer {
      if (queryReturnUrl(returnUrlParam) === "invalid") return badReturnUrl();
      const found = api.challenge(challengeId);
      if (found?.intent === undefined) return missing();
      const { challenge, intent } = found;
      if (challenge.outcome !== undefined || intent.status !== "requires_action") {
        return page(
          200,
          "Authentication finished",
          `${describe(intent)}<p>This authentication is no longer pending; the payment's status is ` +
            `<code>${escapeHtml(intent.status)}</code>.</p>${note}`,
        );
      }
      return page(
        200,
        "Confirm this payment",
        `${describe(intent)}
<form method="post">
<button type="submit" id="complete" name="outcome" value="complete">Complete authentication</button>
<button type="submit" id="fail" name="outcome" value="fail">Fail authentication</button>
</form>
${note}`,
      );
    },
    submit(challengeId: string, outcome: string | undefined, returnUrlParam?: string | null): PageAnswer {
      const fromQuery = queryReturnUrl(returnUrlParam);
      if (fromQuery === "invalid") return badReturnUrl();
      if (outcome !== "complete" && outcome !== "fail") {
        return page(400, "Unknown choice", `<p>Send <code>outcome=complete</code> or <code>outcome=fail</code>.</p>`);
      }
      const result = api.authenticate(challengeId, outcome);
      if (result.kind === "missing") return missing();
      if (result.kind === "stale") {
        const status =
          result.intent === undefined ? "" : ` The payment's status is <code>${result.intent.status}</code>.`;
        return page(
          409,
          "Authentication no longer pending",
          `<p>This authentication has already ended.${status}</p>${note}`,
        );
      }
      const returnUrl = api.challenge(challengeId)?.challenge.returnUrl ?? fromQuery;
      if (returnUrl !== null) {
        const location = returnTo(returnUrl, result.intent, outcome);
        return page(303, "Returning to the shop", `<p><a href="${escapeHtml(location)}">Continue</a></p>`, {
          Location: location,
        });
      }
      const done = outcome === "complete" ? "Authentication completed" : "Authentication failed";
      return page(
        200,
        done,
        `${describe(result.intent)}<p>The payment's status is now <code>${escapeHtml(result.intent.status)}</code>. ` +
          `You can close this page.</p>${note}`,
      );
    },
  };
}

/** The challenge page's two operations. */
export type ChallengePage = ReturnType<typeof createChallengePage>;
