// Consular visit requests about one person: the embassy requests one (dates
// and a note); officers of the agency holding the person answer it (a date
// and place, or a refusal with its reason); both see where it stands.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import type { ResponseOf } from "../api/types";
import { useI18n } from "../i18n/i18n";
import { ErrorMessage, fieldError } from "./ErrorMessage";
import { Field } from "./Field";

type Visit = ResponseOf<"/api/v1/persons/{id}/visits", "get">["items"][number];

const statusKey = {
  requested: "visits.status.requested",
  scheduled: "visits.status.scheduled",
  refused: "visits.status.refused",
} as const;

export function Visits({ personId, canRequest, canAnswer }: { personId: string; canRequest: boolean; canAnswer: boolean }) {
  const { t, date, dateTime } = useI18n();
  const q = useQuery({
    queryKey: ["visits", personId],
    queryFn: () => unwrap(api.GET("/api/v1/persons/{id}/visits", { params: { path: { id: personId } } })),
  });
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  const items = q.data.items;
  if (items.length === 0 && !canRequest && !canAnswer) return null;
  return (
    <section aria-labelledby="visits-h">
      <h2 id="visits-h">{t("visits.title")}</h2>
      {items.length === 0 ? (
        <p className="muted">{t("visits.none")}</p>
      ) : (
        <ul className="plain">
          {items.map((v) => (
            <li key={v.id} className="card">
              <p>
                <span className={`badge${v.status === "refused" ? " flag" : ""}`}>{t(statusKey[v.status])}</span>{" "}
                {v.overdue && <span className="badge flag">{t("visits.overdue")}</span>}{" "}
                {t("visits.requestedBy", { embassy: v.embassy, when: dateTime(v.requested_at) })}
              </p>
              <p>{t("visits.preferred", { from: date(v.preferred_from), to: date(v.preferred_to) })}</p>
              {v.note && <p className="prewrap">{v.note}</p>}
              {v.status === "scheduled" && (
                <p>
                  <strong>{t("visits.scheduledFor", { when: dateTime(v.visit_at), place: v.place ?? "" })}</strong>
                </p>
              )}
              {v.status === "refused" && (
                <p>
                  <strong>{t("visits.refusedBecause", { reason: v.refusal_reason ?? "" })}</strong>
                </p>
              )}
              {v.status === "requested" && canAnswer && <AnswerVisit visit={v} personId={personId} />}
            </li>
          ))}
        </ul>
      )}
      {canRequest && <RequestVisit personId={personId} />}
    </section>
  );
}

function RequestVisit({ personId }: { personId: string }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [done, setDone] = useState(false);
  const m = useMutation({
    mutationFn: (body: { preferred_from: string; preferred_to: string; note: string }) =>
      unwrap(api.POST("/api/v1/persons/{id}/visits", { params: { path: { id: personId } }, body })),
    onSuccess: () => {
      setDone(true);
      void qc.invalidateQueries({ queryKey: ["visits", personId] });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setDone(false);
    m.mutate({
      preferred_from: String(f.get("preferred_from") ?? ""),
      preferred_to: String(f.get("preferred_to") ?? ""),
      note: String(f.get("note") ?? "").trim(),
    });
  };
  return (
    <form onSubmit={submit} aria-labelledby="visit-request-h" className="card">
      <h3 id="visit-request-h">{t("visits.request")}</h3>
      <div className="grid2">
        <Field label={t("visits.preferredFrom")} error={fieldError(m.error, "preferred_from")}>
          {(a) => <input {...a} type="date" name="preferred_from" required />}
        </Field>
        <Field label={t("visits.preferredTo")} error={fieldError(m.error, "preferred_to")}>
          {(a) => <input {...a} type="date" name="preferred_to" required />}
        </Field>
      </div>
      <Field label={t("visits.note")} error={fieldError(m.error, "note")}>
        {(a) => <textarea {...a} name="note" maxLength={2000} rows={3} />}
      </Field>
      {m.isError && <ErrorMessage error={m.error} />}
      {done && <p role="status">{t("visits.requested")}</p>}
      <button type="submit" className="btn" disabled={m.isPending}>
        {t("visits.requestSubmit")}
      </button>
    </form>
  );
}

function AnswerVisit({ visit, personId }: { visit: Visit; personId: string }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [mode, setMode] = useState<"scheduled" | "refused">("scheduled");
  const m = useMutation({
    mutationFn: (body: { status: "scheduled" | "refused"; visit_at?: string; place?: string; refusal_reason?: string }) =>
      unwrap(api.POST("/api/v1/visits/{id}/answer", { params: { path: { id: visit.id } }, body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["visits", personId] }),
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    if (mode === "scheduled") {
      const at = String(f.get("visit_at") ?? "");
      m.mutate({ status: "scheduled", visit_at: at ? new Date(at).toISOString() : undefined, place: String(f.get("place") ?? "").trim() });
    } else {
      m.mutate({ status: "refused", refusal_reason: String(f.get("refusal_reason") ?? "").trim() });
    }
  };
  return (
    <form onSubmit={submit} aria-label={t("visits.answer")}>
      <fieldset>
        <legend>{t("visits.answer")}</legend>
        <label>
          <input type="radio" name="mode" checked={mode === "scheduled"} onChange={() => setMode("scheduled")} />{" "}
          {t("visits.schedule")}
        </label>{" "}
        <label>
          <input type="radio" name="mode" checked={mode === "refused"} onChange={() => setMode("refused")} />{" "}
          {t("visits.refuse")}
        </label>
      </fieldset>
      {mode === "scheduled" ? (
        <div className="grid2">
          <Field label={t("visits.visitAt")} error={fieldError(m.error, "visit_at")}>
            {(a) => <input {...a} type="datetime-local" name="visit_at" required />}
          </Field>
          <Field label={t("visits.place")} error={fieldError(m.error, "place")}>
            {(a) => <input {...a} name="place" maxLength={300} required />}
          </Field>
        </div>
      ) : (
        <Field label={t("visits.refusalReason")} error={fieldError(m.error, "refusal_reason")}>
          {(a) => <textarea {...a} name="refusal_reason" maxLength={2000} rows={2} required />}
        </Field>
      )}
      {m.isError && <ErrorMessage error={m.error} />}
      <button type="submit" className="btn" disabled={m.isPending}>
        {t("visits.send")}
      </button>
    </form>
  );
}
