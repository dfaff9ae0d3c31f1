// A case's status and (for supervisors of the owner agency) the change of
// status, including the referral to a court.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import type { BodyOf } from "../api/types";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { labelOf, valuesOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { useAgencies } from "./CaseShares";
import { caseStatusLabels, fullOf, nextStatuses, type Case, type CaseStatus } from "./caseTypes";
import { useAgencyName } from "../components/agencyName";

type StatusChange = BodyOf<"/api/v1/cases/{id}/status", "post">;

export function CaseStatusSection({ c, etag, canChange }: { c: Case; etag: string; canChange: boolean }) {
  const { t } = useI18n();
  const agencyName = useAgencyName();
  const qc = useQueryClient();
  const next = nextStatuses[c.status] ?? [];
  const [status, setStatus] = useState<CaseStatus | "">("");
  const agencies = useAgencies();
  const courts = (agencies.data?.items ?? []).filter((a) => a.kind === "court");
  const change = useMutation({
    mutationFn: (body: StatusChange) =>
      unwrap(
        api.POST("/api/v1/cases/{id}/status", {
          params: { path: { id: c.id }, header: { "If-Match": etag } },
          body,
        }),
      ),
    onSuccess: async () => {
      setStatus("");
      await qc.invalidateQueries({ queryKey: ["case", c.id] });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!status) return;
    const f = new FormData(e.currentTarget);
    const body: StatusChange = { status, note: String(f.get("note") ?? "") };
    if (status === "before_court") {
      body.court_agency_id = String(f.get("court_agency_id") ?? "");
      body.hearing_date = String(f.get("hearing_date") ?? "");
      body.legal_basis = String(f.get("legal_basis") ?? "");
    }
    change.mutate(body);
  };
  const reload = () => {
    change.reset();
    void qc.invalidateQueries({ queryKey: ["case", c.id] });
  };
  const err = change.error;
  return (
    <section aria-labelledby="status-h">
      <h2 id="status-h">{t("case.status")}</h2>
      <p>
        {t("status.current")} <strong>{labelOf(t, caseStatusLabels, c.status)}</strong>
      </p>
      <StatusHistory caseId={c.id} />
      {canChange && next.length > 0 && (
        <form className="stack" onSubmit={submit} aria-labelledby="status-form-h">
          <h3 id="status-form-h">{t("status.change")}</h3>
          <Field
            label={t("status.new")}
            hint={c.status === "open" ? t("status.referAfterInvestigation") : undefined}
            error={fieldError(err, "status")}
          >
            {(p) => (
              <select {...p} name="status" value={status} onChange={(e) => setStatus(e.target.value as CaseStatus)} required>
                <option value="" disabled>
                  {t("status.choose")}
                </option>
                {valuesOf(caseStatusLabels)
                  .filter((s) => next.includes(s))
                  .map((s) => (
                    <option key={s} value={s}>
                      {s === "before_court" ? t("status.refer") : t(caseStatusLabels[s])}
                    </option>
                  ))}
              </select>
            )}
          </Field>
          {status === "before_court" && (
            <fieldset>
              <legend>{t("status.referral")}</legend>
              <div className="grid2">
                <Field label={t("case.court")} error={fieldError(err, "court_agency_id")}>
                  {(p) => (
                    <select {...p} name="court_agency_id" required defaultValue={c.court_agency?.id ?? ""}>
                      <option value="" disabled>
                        {t("status.chooseCourt")}
                      </option>
                      {courts.map((a) => (
                        <option key={a.id} value={a.id}>
                          {agencyName(a)}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field label={t("case.hearingDate")} error={fieldError(err, "hearing_date")}>
                  {(p) => <input {...p} type="date" name="hearing_date" required defaultValue={c.hearing_date ?? ""} />}
                </Field>
              </div>
              <Field label={t("case.legalBasis")} error={fieldError(err, "legal_basis")}>
                {(p) => (
                  <input {...p} name="legal_basis" required maxLength={500} defaultValue={fullOf(c)?.legal_basis ?? ""} />
                )}
              </Field>
            </fieldset>
          )}
          <Field label={t("status.note")} error={fieldError(err, "note")}>
            {(p) => <textarea {...p} name="note" maxLength={2000} />}
          </Field>
          {change.isError && <ErrorMessage error={change.error} onReload={reload} />}
          <div className="btn-row">
            <button type="submit" className="btn" disabled={change.isPending || !status}>
              {t("status.submit")}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

// The case's past status changes, oldest first. Its query key sits under
// ["case", id], so a status change refreshes it too.
function StatusHistory({ caseId }: { caseId: string }) {
  const { t, dateTime } = useI18n();
  const history = useQuery({
    queryKey: ["case", caseId, "history"],
    queryFn: () => unwrap(api.GET("/api/v1/cases/{id}/history", { params: { path: { id: caseId } } })),
  });
  const items = history.data?.items ?? [];
  return (
    <div>
      <h3>{t("status.history")}</h3>
      {history.isError && <ErrorMessage error={history.error} />}
      {history.isSuccess && items.length === 0 && <p>{t("status.historyEmpty")}</p>}
      {items.length > 0 && (
        <ol className="history">
          {items.map((h, i) => (
            <li key={i}>
              <time dateTime={h.changed_at}>{dateTime(h.changed_at)}</time>{" "}
              {h.from_status ? labelOf(t, caseStatusLabels, h.from_status) : "—"} →{" "}
              <strong>{labelOf(t, caseStatusLabels, h.to_status)}</strong>
              {h.note && <> — {h.note}</>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
