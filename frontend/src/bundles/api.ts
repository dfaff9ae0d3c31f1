// The bundle routes (spec/API.md) through the typed client; refusals come
// back as ApiError with the RFC 9457 problem.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { CreateBundle, PatchBundle } from "./types";

const path = (id: string) => ({ params: { path: { id } } });

export const bundleApi = {
  list: (caseId: string, cursor?: string) =>
    unwrap(api.GET("/api/v1/cases/{id}/bundles", { params: { path: { id: caseId }, query: cursor ? { cursor } : {} } })),
  get: (id: string) => unwrap(api.GET("/api/v1/bundles/{id}", path(id))),
  create: (caseId: string, body: CreateBundle) =>
    unwrap(api.POST("/api/v1/cases/{id}/bundles", { params: { path: { id: caseId } }, body })),
  patch: (id: string, etag: string, body: PatchBundle) =>
    unwrap(api.PATCH("/api/v1/bundles/{id}", { params: { path: { id }, header: { "If-Match": etag } }, body })),
  build: (id: string) => unwrap(api.POST("/api/v1/bundles/{id}/build", path(id))),
  seal: (id: string, etag: string) =>
    unwrap(api.POST("/api/v1/bundles/{id}/seal", { params: { path: { id }, header: { "If-Match": etag } } })),
};

export const pdfUrl = (id: string) => `/api/v1/bundles/${encodeURIComponent(id)}/pdf`;
export const manifestUrl = (id: string) => `/api/v1/bundles/${encodeURIComponent(id)}/manifest`;

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
