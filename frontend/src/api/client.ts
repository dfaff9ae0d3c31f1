// The typed API client: openapi-fetch over the types generated from
// api/openapi.yaml (src/api/schema.d.ts, `npm run gen:api`). It sends the
// CSRF token on state-changing requests and sends the browser to sign-in
// when the session is gone.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Problem = components["schemas"]["Problem"];
export type FieldError = NonNullable<Problem["errors"]>[number];

let csrfToken = "";

/** Remembers the CSRF token from /api/v1/me for later writes. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function csrfHeaders(): Record<string, string> {
  return csrfToken ? { "X-CSRF-Token": csrfToken } : {};
}

export function loginUrl(): string {
  const here = window.location.pathname + window.location.search;
  return `/auth/login?return_to=${encodeURIComponent(here)}`;
}

let redirecting = false;

/** Sends the browser to sign in, coming back to the current page. */
export function redirectToLogin(): void {
  if (redirecting) return;
  redirecting = true;
  window.location.assign(loginUrl());
}

/** An answer other than 2xx, with the RFC 9457 problem when there is one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** The message for one field, from the problem's `errors` list. */
  fieldError(field: string): string | undefined {
    return this.problem?.errors?.find((e) => e.field === field)?.message;
  }
}

function isProblem(v: unknown): v is Problem {
  return typeof v === "object" && v !== null && "status" in v && "title" in v;
}

export function toApiError(status: number, body: unknown): ApiError {
  return new ApiError(status, isProblem(body) ? body : null);
}

const auth: Middleware = {
  onRequest({ request }) {
    if (request.method !== "GET" && request.method !== "HEAD" && csrfToken) {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) redirectToLogin();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(auth);

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Resolves to the body of a 2xx answer, or throws an ApiError. */
/**
 * The JSON of a successful answer. Lists that can also answer CSV (Accept:
 * text/csv) have a string in their generated type; the app asks for JSON, so
 * the string is left out.
 */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<Exclude<T, string>> {
  const r = await call;
  if (r.response.ok) return r.data as Exclude<T, string>;
  throw toApiError(r.response.status, r.error);
}

/** Like unwrap, also returning the ETag (for a later If-Match). */
export async function unwrapWithETag<T>(call: Promise<Result<T>>): Promise<{ data: Exclude<T, string>; etag: string }> {
  const r = await call;
  if (r.response.ok) return { data: r.data as Exclude<T, string>, etag: r.response.headers.get("ETag") ?? "" };
  throw toApiError(r.response.status, r.error);
}
