// Documents: the list (with download links), and the upload form with a
// progress bar. Used on the case page and, for embassies, on a national's
// page (the documents released to them).
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
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

export function DocumentTable({ items, caption }: { items: Document[]; caption: string }) {
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
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function useDocuments(scope: "case" | "person", id: string) {
  return useInfiniteQuery({
    queryKey: ["documents", scope, id],
    initialPageParam: "",
    queryFn: ({ pageParam }) => {
      const query = pageParam ? { cursor: pageParam } : {};
      return scope === "case"
        ? unwrap(api.GET("/api/v1/cases/{id}/documents", { params: { path: { id }, query } }))
        : unwrap(api.GET("/api/v1/persons/{id}/documents", { params: { path: { id }, query } }));
    },
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
}

/** A list of documents with "show more" paging. */
export function DocumentList({ scope, id, empty }: { scope: "case" | "person"; id: string; empty: string }) {
  const { t } = useI18n();
  const q = useDocuments(scope, id);
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  const items = q.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <p className="muted">{empty}</p>;
  return (
    <>
      <DocumentTable items={items} caption={t("doc.heading")} />
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
export function UploadDocument({ caseId, persons }: { caseId: string; persons: { id: string; name: string }[] }) {
  const { t, number } = useI18n();
  const qc = useQueryClient();
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [classification, setClassification] = useState<Classification>("restricted");
  const form = useRef<HTMLFormElement>(null);

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
      <h3 id="upload-heading">{t("doc.upload")}</h3>
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
        {persons.length > 0 && (
          <Field label={t("doc.person")} error={fieldError(error, "person_id")}>
            {(p) => (
              <select {...p} name="person_id" defaultValue="">
                <option value="">{t("doc.noPerson")}</option>
                {persons.map((x) => (
                  <option key={x.id} value={x.id}>
                    {x.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
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
