// The bundle routes (spec/API.md, issue 11's contract). Requests go
// through fetch with the CSRF token on writes, as the typed client does;
// refusals come back as ApiError with the RFC 9457 problem.
import { useQuery } from "@tanstack/react-query";
import { csrfHeaders, redirectToLogin, toApiError } from "../api/client";
import type { Bundle, BundlePage, CreateBundle, Manifest, PatchBundle } from "./types";

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      ...(method === "GET" ? {} : csrfHeaders()),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (res.status === 401) redirectToLogin();
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw toApiError(res.status, json);
  return json as T;
}

const enc = encodeURIComponent;

export const bundleApi = {
  list: (caseId: string, cursor?: string) =>
    call<BundlePage>("GET", `/api/v1/cases/${enc(caseId)}/bundles${cursor ? `?cursor=${enc(cursor)}` : ""}`),
  get: (id: string) => call<Bundle>("GET", `/api/v1/bundles/${enc(id)}`),
  create: (caseId: string, body: CreateBundle) => call<Bundle>("POST", `/api/v1/cases/${enc(caseId)}/bundles`, body),
  patch: (id: string, etag: string, body: PatchBundle) =>
    call<Bundle>("PATCH", `/api/v1/bundles/${enc(id)}`, body, { "If-Match": etag }),
  build: (id: string) => call<Bundle>("POST", `/api/v1/bundles/${enc(id)}/build`),
  seal: (id: string, etag: string) => call<Bundle>("POST", `/api/v1/bundles/${enc(id)}/seal`, undefined, { "If-Match": etag }),
  manifest: (id: string) => call<Manifest>("GET", `/api/v1/bundles/${enc(id)}/manifest`),
};

export const pdfUrl = (id: string) => `/api/v1/bundles/${enc(id)}/pdf`;
export const manifestUrl = (id: string) => `/api/v1/bundles/${enc(id)}/manifest`;

/** A case's bundles, newest first (the first page; a case has few). */
export function useCaseBundles(caseId: string) {
  return useQuery({ queryKey: ["bundles", caseId], queryFn: () => bundleApi.list(caseId) });
}

/** How often a building bundle is asked for its progress. */
export const pollMs = 1000;

/** One bundle; while it builds, polled for its progress. */
export function useBundle(id: string) {
  return useQuery({
    queryKey: ["bundle", id],
    queryFn: () => bundleApi.get(id),
    refetchInterval: (q) => (q.state.data?.state === "building" ? pollMs : false),
  });
}
