// Open a case file, or edit one (PATCH with If-Match: a stale form gets
// 412, explained with a reload).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import type { BodyOf } from "../api/types";
import { useTitle } from "../app/title";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { valuesOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { useCase, useCasePermissions } from "./CasePage";
import { caseKindLabels, fullOf, type Case, type CaseKind } from "./caseTypes";

type NewCaseBody = BodyOf<"/api/v1/cases", "post">;
type PatchBody = BodyOf<"/api/v1/cases/{id}", "patch">;

interface Values {
  title: string;
  kind: CaseKind;
  summary: string;
  notes: string;
  operation: { name: string; place: string; date: string | null };
}

function read(form: HTMLFormElement): Values {
  const f = new FormData(form);
  const s = (k: string) => String(f.get(k) ?? "").trim();
  return {
    title: s("title"),
    kind: s("kind") as CaseKind,
    summary: s("summary"),
    notes: s("notes"),
    operation: { name: s("operation.name"), place: s("operation.place"), date: s("operation.date") || null },
  };
}

function CaseFields({ c, error }: { c?: Case; error: unknown }) {
  const { t } = useI18n();
  const d = c ? fullOf(c) : null;
  return (
    <>
      <Field label={t("case.title")} error={fieldError(error, "title")}>
        {(p) => <input {...p} name="title" required maxLength={300} defaultValue={c?.title ?? ""} />}
      </Field>
      <Field label={t("case.kind")} error={fieldError(error, "kind")}>
        {(p) => (
          <select {...p} name="kind" defaultValue={c?.kind ?? "illegal_entry"}>
            {valuesOf(caseKindLabels).map((k) => (
              <option key={k} value={k}>
                {t(caseKindLabels[k])}
              </option>
            ))}
          </select>
        )}
      </Field>
      <fieldset>
        <legend>{t("case.operation")}</legend>
        <div className="grid2">
          <Field label={t("caseForm.operationName")} hint={t("caseForm.operationHint")} error={fieldError(error, "operation.name")}>
            {(p) => <input {...p} name="operation.name" maxLength={200} defaultValue={d?.operation?.name ?? ""} />}
          </Field>
          <Field label={t("caseForm.operationPlace")} error={fieldError(error, "operation.place")}>
            {(p) => <input {...p} name="operation.place" maxLength={200} defaultValue={d?.operation?.place ?? ""} />}
          </Field>
          <Field label={t("caseForm.operationDate")} error={fieldError(error, "operation.date")}>
            {(p) => <input {...p} type="date" name="operation.date" defaultValue={d?.operation?.date ?? ""} />}
          </Field>
        </div>
      </fieldset>
      <Field label={t("case.summary")} error={fieldError(error, "summary")}>
        {(p) => <textarea {...p} name="summary" rows={5} defaultValue={d?.summary ?? ""} />}
      </Field>
      <Field label={t("caseForm.notes")} hint={t("caseForm.notesHint")} error={fieldError(error, "notes")}>
        {(p) => <textarea {...p} name="notes" rows={4} defaultValue={d?.notes ?? ""} />}
      </Field>
    </>
  );
}

export function NewCase() {
  const { t } = useI18n();
  useTitle(t("caseForm.newTitle"));
  const navigate = useNavigate();
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (body: NewCaseBody) => unwrap(api.POST("/api/v1/cases", { body })),
    onSuccess: async (c) => {
      await qc.invalidateQueries({ queryKey: ["cases"] });
      navigate(`/cases/${c.id}`);
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const v = read(e.currentTarget);
    // A new case leaves empty operation fields out.
    const op = v.operation;
    create.mutate({
      ...v,
      operation: {
        ...(op.name ? { name: op.name } : {}),
        ...(op.place ? { place: op.place } : {}),
        ...(op.date ? { date: op.date } : {}),
      },
    });
  };
  return (
    <>
      <h1>{t("caseForm.newTitle")}</h1>
      <form className="stack" onSubmit={submit} noValidate>
        <CaseFields error={create.error} />
        {create.isError && <ErrorMessage error={create.error} />}
        <div className="btn-row">
          <button type="submit" className="btn" disabled={create.isPending}>
            {t("caseForm.create")}
          </button>
          <Link to="/cases">{t("common.cancel")}</Link>
        </div>
      </form>
    </>
  );
}

export function EditCase() {
  const { caseId = "" } = useParams();
  const { t } = useI18n();
  const q = useCase(caseId);
  useTitle(t("case.edit"));
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  return <EditCaseForm c={q.data.data} etag={q.data.etag} refetch={() => void q.refetch()} />;
}

function EditCaseForm({ c, etag, refetch }: { c: Case; etag: string; refetch: () => void }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const perms = useCasePermissions(c);
  const save = useMutation({
    mutationFn: (body: PatchBody) =>
      unwrap(api.PATCH("/api/v1/cases/{id}", { params: { path: { id: c.id }, header: { "If-Match": etag } }, body })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["case", c.id] });
      await qc.invalidateQueries({ queryKey: ["cases"] });
      navigate(`/cases/${c.id}`);
    },
  });
  if (!perms.edit) return <p className="alert">{t("shell.notForYou")}</p>;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    // A merge patch: empty operation fields are cleared with null.
    const v = read(e.currentTarget);
    const op = v.operation;
    save.mutate({
      ...v,
      operation: { name: op.name || null, place: op.place || null, date: op.date || null },
    });
  };
  const reload = () => {
    save.reset();
    refetch();
  };
  return (
    <>
      <h1>
        {t("case.edit")} <span className="muted">{c.reference}</span>
      </h1>
      {/* key: a reload after a conflict re-renders the fields with the new values */}
      <form className="stack" onSubmit={submit} noValidate key={etag}>
        <CaseFields c={c} error={save.error} />
        {save.isError && <ErrorMessage error={save.error} onReload={reload} />}
        <div className="btn-row">
          <button type="submit" className="btn" disabled={save.isPending}>
            {t("common.save")}
          </button>
          <Link to={`/cases/${c.id}`}>{t("common.cancel")}</Link>
        </div>
      </form>
    </>
  );
}
