// Admin: the audit trail, for people. Names and references instead of ids
// (resolved by the server), filters by date range, user, action, refusals
// only and case reference (in the URL, so a filtered trail can be shared),
// CSV export of what the filters match, the latest signed checkpoint, and
// "verify now".
import { useMutation, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, toApiError, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { FilterForm, useFilters } from "../components/Filters";
import { Pager } from "../components/Pager";
import { useI18n, type MessageKey } from "../i18n/i18n";
import { labelOf } from "../i18n/enums";
import type { components } from "../api/schema";

type AuditEvent = components["schemas"]["AuditEvent"];
type Outcome = AuditEvent["outcome"];
const outcomeLabels = {
  ok: "audit.outcome.ok",
  denied: "audit.outcome.denied",
  not_found: "audit.outcome.not_found",
  error: "audit.outcome.error",
} as const satisfies Record<Outcome, MessageKey>;

/** The actions people look for, in the order the action filter offers them. */
export const auditActions = [
  "auth.sign_in",
  "auth.sign_in_refused",
  "auth.sign_out",
  "case.create",
  "case.read",
  "case.update",
  "case.list",
  "case.status_change",
  "case.persons.read",
  "case.person.link",
  "case.person.unlink",
  "case.share.create",
  "case.share.revoke",
  "person.create",
  "person.read",
  "person.update",
  "person.screen",
  "person.list",
  "document.upload",
  "document.read",
  "document.content.read",
  "document.list",
  "document.version.create",
  "document.withdraw",
  "consular.list",
  "consular.read",
  "notification.acknowledge",
  "visit.request",
  "visit.answer",
  "import.commit",
  "agency.create",
  "agency.update",
  "user.list",
  "audit.events.list",
  "audit.verify",
] as const;

// `case` (an id) keeps links to a case's trail working; people filter by reference.
const filterKeys = ["from", "to", "actor", "action", "case", "case_reference", "refused", "cursor"] as const;

/** A date (YYYY-MM-DD) as the start of that day in the user's time zone, RFC 3339. */
function dayStart(d: string, plusDays = 0): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return undefined;
  const t = new Date(`${d}T00:00:00`);
  t.setDate(t.getDate() + plusDays);
  return t.toISOString();
}

function eventQuery(f: Record<(typeof filterKeys)[number], string>) {
  const from = dayStart(f.from);
  const to = dayStart(f.to, 1); // "to" is inclusive: events before the next day
  return {
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.case ? { case: f.case } : {}),
    ...(f.case_reference && !f.case ? { case_reference: f.case_reference } : {}),
    ...(f.refused === "true" ? { refused: true } : {}),
    ...(f.cursor ? { cursor: f.cursor } : {}),
  };
}

export function Audit() {
  const { t, dateTime, label, locale } = useI18n();
  useTitle(t("audit.title"));
  const f = useFilters(filterKeys);
  const query = eventQuery(f);
  const q = useQuery({
    queryKey: ["audit", query],
    queryFn: () => unwrap(api.GET("/api/v1/audit/events", { params: { query: { ...query, limit: 50 } } })),
  });
  const users = useQuery({
    queryKey: ["users", "all"],
    staleTime: 5 * 60_000,
    queryFn: () => unwrap(api.GET("/api/v1/users", { params: { query: { limit: 200 } } })),
  });
  const csv = new URLSearchParams({ format: "csv" });
  for (const [k, v] of Object.entries(query)) if (k !== "cursor") csv.set(k, String(v));
  const actionName = (a: string) => label("auditaction", a);
  return (
    <>
      <h1>{t("audit.title")}</h1>
      <p className="muted">{t("audit.intro")}</p>
      <Checkpoint />
      <FilterForm label={t("audit.filters")}>
        {f.case && <input type="hidden" name="case" value={f.case} />}
        <Field label={t("audit.from")}>{(p) => <input {...p} type="date" name="from" defaultValue={f.from} />}</Field>
        <Field label={t("audit.to")}>{(p) => <input {...p} type="date" name="to" defaultValue={f.to} />}</Field>
        <Field label={t("audit.user")}>
          {(p) => (
            <select {...p} name="actor" defaultValue={f.actor}>
              <option value="">{t("audit.anyUser")}</option>
              {(users.data?.items ?? []).map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name || u.username} ({u.username || u.subject}, {u.agency.code})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("audit.action")}>
          {(p) => (
            <select {...p} name="action" defaultValue={f.action}>
              <option value="">{t("audit.anyAction")}</option>
              {auditActions.map((a) => (
                <option key={a} value={a}>
                  {actionName(a)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("audit.caseReference")} hint={t("audit.caseReferenceHint")}>
          {(p) => <input {...p} name="case_reference" defaultValue={f.case_reference} autoComplete="off" />}
        </Field>
        <div className="checkbox">
          <input type="checkbox" id="audit-refused" name="refused" value="true" defaultChecked={f.refused === "true"} />
          <label htmlFor="audit-refused">{t("audit.refusedOnly")}</label>
        </div>
      </FilterForm>
      <p>
        <a className="btn secondary" href={`/api/v1/audit/events?${csv.toString()}`} download="audit-events.csv">
          {t("audit.exportCsv")}
        </a>
      </p>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess && (
        <>
          {q.data.items.length === 0 ? (
            <p data-testid="audit-none">{t("audit.none")}</p>
          ) : (
            <div className="table-wrap">
              <table className="cardable" data-testid="audit-table">
                <caption className="visually-hidden">{t("audit.title")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("audit.time")}</th>
                    <th scope="col">{t("audit.actor")}</th>
                    <th scope="col">{t("audit.action")}</th>
                    <th scope="col">{t("audit.object")}</th>
                    <th scope="col">{t("audit.caseReference")}</th>
                    <th scope="col">{t("audit.outcome")}</th>
                    <th scope="col">{t("audit.index")}</th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.items.map((e) => (
                    <tr key={e.id} className={e.outcome === "denied" || e.outcome === "not_found" ? "refused" : undefined}>
                      <td data-label={t("audit.time")}>{dateTime(e.time)}</td>
                      <td data-label={t("audit.actor")}>
                        {e.actor_name || e.actor_username || e.actor_subject || t("audit.nobody")}
                        {e.actor_username && e.actor_username !== e.actor_name && (
                          <span className="muted"> ({e.actor_username})</span>
                        )}
                        <br />
                        <span className="muted">{(locale === "km" && e.agency_name_km) || e.agency_name || e.agency_code}</span>
                      </td>
                      <td data-label={t("audit.action")}>
                        {actionName(e.action)}
                        {actionName(e.action) !== e.action && (
                          <>
                            <br />
                            <code className="muted">{e.action}</code>
                          </>
                        )}
                      </td>
                      <td data-label={t("audit.object")}>
                        {e.object_type ? label("audittype", e.object_type) : "—"}
                        {e.object_label && <> {e.object_label}</>}
                      </td>
                      <td data-label={t("audit.caseReference")}>
                        {e.case_reference ? (
                          <Link to={`/admin/audit?case_reference=${encodeURIComponent(e.case_reference)}`}>{e.case_reference}</Link>
                        ) : (
                          "—"
                        )}
                      </td>
                      <td data-label={t("audit.outcome")}>
                        {e.outcome === "ok" ? (
                          labelOf(t, outcomeLabels, e.outcome)
                        ) : (
                          <span className="badge danger">{labelOf(t, outcomeLabels, e.outcome)}</span>
                        )}
                      </td>
                      <td data-label={t("audit.index")}>{e.tree_index ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager nextCursor={q.data.next_cursor} />
        </>
      )}
    </>
  );
}

/** The latest signed checkpoint (tree size and root), and "verify now". */
function Checkpoint() {
  const { t, number } = useI18n();
  const cp = useQuery({
    queryKey: ["audit", "checkpoint"],
    queryFn: async () => {
      const res = await fetch("/api/v1/audit/checkpoint", { credentials: "same-origin", headers: { Accept: "text/plain" } });
      if (res.status === 404) return null; // nothing sequenced yet
      if (!res.ok) throw toApiError(res.status, await res.json().catch(() => null));
      const text = await res.text();
      const [origin = "", size = "", root = ""] = text.split("\n");
      return { origin, size: Number(size), root, text };
    },
  });
  const verify = useMutation({
    mutationFn: () => unwrap(api.GET("/api/v1/audit/verify")),
    onSuccess: () => void cp.refetch(),
  });
  return (
    <section className="card checkpoint" aria-labelledby="checkpoint-h">
      <h2 id="checkpoint-h">{t("audit.checkpoint")}</h2>
      {cp.isPending && <p className="spinner">{t("common.loading")}</p>}
      {cp.isError && <ErrorMessage error={cp.error} />}
      {cp.isSuccess && cp.data === null && <p>{t("audit.checkpointNone")}</p>}
      {cp.isSuccess && cp.data && (
        <dl className="props" data-testid="checkpoint">
          <dt>{t("audit.checkpointOrigin")}</dt>
          <dd>{cp.data.origin}</dd>
          <dt>{t("audit.checkpointSize")}</dt>
          <dd>{number(cp.data.size)}</dd>
          <dt>{t("audit.checkpointRoot")}</dt>
          <dd>
            <code className="wrap">{cp.data.root}</code>
          </dd>
        </dl>
      )}
      <p className="hint">{t("audit.checkpointHint")}</p>
      <div className="btn-row">
        <button type="button" className="btn" disabled={verify.isPending} onClick={() => verify.mutate()}>
          {t("audit.verifyNow")}
        </button>
      </div>
      {verify.isPending && <p className="spinner">{t("audit.verifying")}</p>}
      {verify.isError && <ErrorMessage error={verify.error} />}
      {verify.isSuccess && (
        <div className={verify.data.ok ? "alert ok" : "alert"} role="status" data-testid="verify-result">
          <p>
            {verify.data.ok
              ? t("audit.verifyOk", { size: number(verify.data.size), checkpoints: number(verify.data.checkpoints) })
              : t("audit.verifyBad", { index: String(verify.data.first_bad_index ?? "—"), problem: verify.data.problem ?? "" })}
          </p>
        </div>
      )}
    </section>
  );
}
