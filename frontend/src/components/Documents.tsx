// Documents: the list (with download links), and the upload form with a
// progress bar. Used on the case page and, for embassies, on a national's
// page (the documents released to them).
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useMutation } from "@tanstack/react-query";
import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { api, csrfHeaders, toApiError, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { upload, type UploadProgress } from "../api/upload";
import { useI18n } from "../i18n/i18n";
import {
  classificationLabels,
  documentKindLabels,
  labelOf,
  valuesOf,
  type Classification,
  type DocumentKind,
} from "../i18n/enums";
import { ErrorMessage, fieldError } from "./ErrorMessage";
import { CasePersonPicker } from "./CasePersonPicker";
import { Field } from "./Field";

export type Document = components["schemas"]["Document"];
type Metadata = components["schemas"]["DocumentMetadata"];

export function useFileSize() {
  const { locale } = useI18n();
  const tag = locale === "km" ? "km-KH" : "en-GB";
  return (bytes: number): string => {
    const units = ["byte", "kilobyte", "megabyte", "gigabyte"] as const;
    let n = bytes;
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return new Intl.NumberFormat(tag, {
      style: "unit",
      unit: units[i],
      unitDisplay: "short",
      maximumFractionDigits: i === 0 ? 0 : 1,
    }).format(n);
  };
}

export function DocumentTable({
  items,
  caption,
  actions,
}: {
  items: Document[];
  caption: string;
  actions?: (d: Document) => ReactNode;
}) {
  const { t, dateTime } = useI18n();
  const size = useFileSize();
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("doc.title")}</th>
            <th scope="col">{t("doc.kind")}</th>
            <th scope="col">{t("doc.classification")}</th>
            <th scope="col">{t("doc.version")}</th>
            <th scope="col">{t("doc.size")}</th>
            <th scope="col">{t("doc.added")}</th>
            <th scope="col">
              <span className="visually-hidden">{t("doc.download")}</span>
            </th>
            {actions && (
              <th scope="col">
                <span className="visually-hidden">{t("doc.actions")}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td>
                {d.title}
                <br />
                <span className="muted">{d.filename}</span>
                {d.withdrawn && (
                  <>
                    {" "}
                    <span className="badge danger">{t("doc.withdrawn")}</span>
                  </>
                )}
              </td>
              <td>{labelOf(t, documentKindLabels, d.kind)}</td>
              <td>{labelOf(t, classificationLabels, d.classification)}</td>
              <td>{d.version}</td>
              <td>{size(d.size)}</td>
              <td>{dateTime(d.updated_at)}</td>
              <td>
                <a href={`/api/v1/documents/${d.id}/content`} download={d.filename}>
                  {t("doc.download")}
                  <span className="visually-hidden">: {d.title}</span>
                </a>
              </td>
              {actions && <td>{actions(d)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Narrowing a case's list (GET /cases/{id}/documents ?kind= &person= &q=). */
export interface DocumentFilter {
  kind: DocumentKind | "";
  person: string;
  q: string;
}
const noFilter: DocumentFilter = { kind: "", person: "", q: "" };

function useDocuments(scope: "case" | "person", id: string, f: DocumentFilter) {
  return useInfiniteQuery({
    queryKey: ["documents", scope, id, f],
    initialPageParam: "",
    queryFn: ({ pageParam }) => {
      const query = pageParam ? { cursor: pageParam } : {};
      return scope === "case"
        ? unwrap(
            api.GET("/api/v1/cases/{id}/documents", {
              params: {
                path: { id },
                query: {
                  ...query,
                  ...(f.kind ? { kind: f.kind } : {}),
                  ...(f.person ? { person: f.person } : {}),
                  ...(f.q ? { q: f.q } : {}),
                },
              },
            }),
          )
        : unwrap(api.GET("/api/v1/persons/{id}/documents", { params: { path: { id }, query } }));
    },
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
}

/** The filters of a case's documents: kind, the person it is about, words of the title. */
function DocumentFilters({ caseId, onApply }: { caseId: string; onApply: (f: DocumentFilter) => void }) {
  const { t } = useI18n();
  const [person, setPerson] = useState("");
  return (
    <form
      className="filters"
      role="search"
      aria-label={t("doc.filters")}
      onSubmit={(e) => {
        e.preventDefault();
        const d = new FormData(e.currentTarget);
        onApply({ kind: String(d.get("kind") ?? "") as DocumentKind | "", person, q: String(d.get("q") ?? "").trim() });
      }}
    >
      <Field label={t("doc.filterTitle")}>{(a) => <input {...a} name="q" type="search" autoComplete="off" />}</Field>
      <Field label={t("doc.kind")}>
        {(a) => (
          <select {...a} name="kind" defaultValue="">
            <option value="">{t("doc.anyKind")}</option>
            {valuesOf(documentKindLabels).map((k) => (
              <option key={k} value={k}>
                {t(documentKindLabels[k])}
              </option>
            ))}
          </select>
        )}
      </Field>
      <CasePersonPicker caseId={caseId} label={t("doc.filterPerson")} onChange={setPerson} />
      <button type="submit" className="btn secondary">
        {t("filters.apply")}
      </button>
    </form>
  );
}

/** A list of documents with "show more" paging. */
export function DocumentList({
  scope,
  id,
  empty,
  canVersion,
  canWithdraw,
}: {
  scope: "case" | "person";
  id: string;
  empty: string;
  canVersion?: boolean;
  canWithdraw?: boolean;
}) {
  const { t } = useI18n();
  const [filter, setFilter] = useState<DocumentFilter>(noFilter);
  const q = useDocuments(scope, id, filter);
  const filtered = filter.kind !== "" || filter.person !== "" || filter.q !== "";
  const filters = scope === "case" ? <DocumentFilters caseId={id} onApply={setFilter} /> : null;
  if (q.isPending) return <>{filters}<p className="spinner">{t("common.loading")}</p></>;
  if (q.isError) return <>{filters}<ErrorMessage error={q.error} /></>;
  const items = q.data.pages.flatMap((p) => p.items);
  if (items.length === 0)
    return (
      <>
        {filters}
        <p className="muted" data-testid="docs-none">{filtered ? t("doc.noneMatch") : empty}</p>
      </>
    );
  return (
    <>
      {filters}
      <DocumentTable
        items={items}
        caption={t("doc.heading")}
        actions={
          canVersion || canWithdraw
            ? (d) =>
                d.withdrawn ? null : (
                  <DocumentActions d={d} canVersion={!!canVersion} canWithdraw={!!canWithdraw} scope={scope} scopeId={id} />
                )
            : undefined
        }
      />
      {q.hasNextPage && (
        <div className="pager">
          <button type="button" className="btn secondary" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
            {t("pager.more")}
          </button>
        </div>
      )}
    </>
  );
}

/** Upload form for a case's documents; the progress bar follows the bytes sent. */
export function UploadDocument({ caseId }: { caseId: string }) {
  const { t, number } = useI18n();
  const qc = useQueryClient();
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [classification, setClassification] = useState<Classification>("restricted");
  const form = useRef<HTMLFormElement>(null);
  const [resetKey, setResetKey] = useState(0); // a new key empties the person picker after an upload

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const file = data.get("file");
    setError(null);
    setDone(null);
    if (!(file instanceof File) || file.size === 0) {
      setError(new FileMissing());
      return;
    }
    const personId = String(data.get("person_id") ?? "");
    const meta: Metadata = {
      title: String(data.get("title") ?? "").trim(),
      kind: String(data.get("kind")) as DocumentKind,
      classification,
      consular_releasable: data.get("consular_releasable") === "on",
      person_id: personId || null,
    };
    setProgress({ loaded: 0, total: file.size });
    try {
      const doc = await upload<Document>(`/api/v1/cases/${caseId}/documents`, meta, file, setProgress);
      setDone(doc.title);
      form.current?.reset();
      setResetKey((k) => k + 1);
      setClassification("restricted");
      await qc.invalidateQueries({ queryKey: ["documents", "case", caseId] });
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  };

  const releasableAllowed = classification === "public" || classification === "restricted";
  const pct = progress && progress.total > 0 ? Math.round((progress.loaded / progress.total) * 100) : 0;
  const fileError = error instanceof FileMissing ? t("doc.fileRequired") : fieldError(error, "file");
  return (
    <form ref={form} className="stack" onSubmit={(e) => void submit(e)} aria-labelledby="upload-heading">
      <h3 id="upload-heading" tabIndex={-1}>
        {t("doc.upload")}
      </h3>
      <div className="grid2">
        <Field label={t("doc.title")} error={fieldError(error, "title")}>
          {(p) => <input {...p} name="title" required maxLength={300} />}
        </Field>
        <Field label={t("doc.kind")} error={fieldError(error, "kind")}>
          {(p) => (
            <select {...p} name="kind" defaultValue="evidence">
              {valuesOf(documentKindLabels).map((k) => (
                <option key={k} value={k}>
                  {t(documentKindLabels[k])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("doc.classification")} error={fieldError(error, "classification")}>
          {(p) => (
            <select
              {...p}
              name="classification"
              value={classification}
              onChange={(e) => setClassification(e.target.value as Classification)}
            >
              {valuesOf(classificationLabels).map((c) => (
                <option key={c} value={c}>
                  {t(classificationLabels[c])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <CasePersonPicker
          key={resetKey}
          caseId={caseId}
          label={t("doc.person")}
          hint={t("doc.personHint")}
          name="person_id"
          error={fieldError(error, "person_id")}
        />
      </div>
      {releasableAllowed && (
        <div className="checkbox">
          <input type="checkbox" id="consular_releasable" name="consular_releasable" />
          <label htmlFor="consular_releasable">{t("doc.releasable")}</label>
        </div>
      )}
      <Field label={t("doc.file")} hint={t("doc.fileHint")} error={fileError}>
        {(p) => <input {...p} type="file" name="file" />}
      </Field>
      {progress && (
        <div className="field">
          <label htmlFor="upload-progress">{t("doc.uploading", { pct: number(pct) })}</label>
          <progress id="upload-progress" max={progress.total || 1} value={progress.loaded} />
        </div>
      )}
      {error !== null && !(error instanceof FileMissing) && <ErrorMessage error={error} />}
      {done && (
        <div className="alert ok" role="status">
          <p>{t("doc.uploaded", { title: done })}</p>
        </div>
      )}
      <div className="btn-row">
        <button type="submit" className="btn" disabled={progress !== null}>
          {t("doc.uploadButton")}
        </button>
      </div>
    </form>
  );
}

class FileMissing extends Error {}

/** A new version (a file) or a withdrawal (with its reason, after a confirmation naming what happens). */
function DocumentActions({
  d,
  canVersion,
  canWithdraw,
  scope,
  scopeId,
}: {
  d: Document;
  canVersion: boolean;
  canWithdraw: boolean;
  scope: "case" | "person";
  scopeId: string;
}) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [mode, setMode] = useState<"" | "version" | "withdraw">("");
  const refresh = () => qc.invalidateQueries({ queryKey: ["documents", scope, scopeId] });
  const version = useMutation({
    mutationFn: async (file: File) => {
      const body = new FormData();
      body.append("file", file, file.name);
      const res = await fetch(`/api/v1/documents/${d.id}/versions`, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", ...csrfHeaders() },
      });
      const json: unknown = await res.json().catch(() => null);
      if (!res.ok) throw toApiError(res.status, json);
      return json;
    },
    onSuccess: () => {
      setMode("");
      void refresh();
    },
  });
  const withdraw = useMutation({
    mutationFn: (reason: string) =>
      unwrap(api.POST("/api/v1/documents/{id}/withdraw", { params: { path: { id: d.id } }, body: { reason } })),
    onSuccess: () => {
      setMode("");
      void refresh();
    },
  });
  return (
    <div className="doc-actions">
      {mode === "" && (
        <div className="btn-row">
          {canVersion && (
            <button type="button" className="btn secondary" onClick={() => setMode("version")}>
              {t("doc.newVersion")}
              <span className="visually-hidden">: {d.title}</span>
            </button>
          )}
          {canWithdraw && (
            <button type="button" className="btn secondary" onClick={() => setMode("withdraw")}>
              {t("doc.withdraw")}
              <span className="visually-hidden">: {d.title}</span>
            </button>
          )}
        </div>
      )}
      {mode === "version" && (
        <form
          className="stack"
          aria-label={t("doc.newVersionOf", { title: d.title })}
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget).get("file");
            if (f instanceof File && f.size > 0) version.mutate(f);
          }}
        >
          <Field label={t("doc.file")}>{(a) => <input {...a} type="file" name="file" required />}</Field>
          {version.isError && <ErrorMessage error={version.error} />}
          <div className="btn-row">
            <button type="submit" className="btn" disabled={version.isPending}>
              {t("doc.uploadVersion")}
            </button>
            <button type="button" className="btn secondary" onClick={() => setMode("")}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      )}
      {mode === "withdraw" && (
        <form
          className="stack alert warn"
          role="alertdialog"
          aria-label={t("doc.withdrawConfirm", { title: d.title })}
          onSubmit={(e) => {
            e.preventDefault();
            withdraw.mutate(String(new FormData(e.currentTarget).get("reason") ?? "").trim());
          }}
        >
          <p>{t("doc.withdrawWhat")}</p>
          <Field label={t("doc.withdrawReason")} error={fieldError(withdraw.error, "reason")}>
            {(a) => <textarea {...a} name="reason" rows={2} required maxLength={2000} />}
          </Field>
          {withdraw.isError && <ErrorMessage error={withdraw.error} />}
          <div className="btn-row">
            <button type="submit" className="btn danger" disabled={withdraw.isPending}>
              {t("doc.withdrawDo")}
            </button>
            <button type="button" className="btn secondary" onClick={() => setMode("")}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
