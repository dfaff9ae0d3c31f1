// Admin: the audit trail, filtered by case or action (the case's trail is
// this list with ?case=ID).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { compact, FilterForm, useFilters } from "../components/Filters";
import { Pager } from "../components/Pager";
import { useI18n, type MessageKey } from "../i18n/i18n";
import { labelOf } from "../i18n/enums";
import type { components } from "../api/schema";

type Outcome = components["schemas"]["AuditEvent"]["outcome"];
const outcomeLabels = {
  ok: "audit.outcome.ok",
  denied: "audit.outcome.denied",
  not_found: "audit.outcome.not_found",
  error: "audit.outcome.error",
} as const satisfies Record<Outcome, MessageKey>;

export function Audit() {
  const { t, dateTime } = useI18n();
  useTitle(t("audit.title"));
  const f = useFilters(["case", "action", "cursor"] as const);
  const q = useQuery({
    queryKey: ["audit", f],
    queryFn: () =>
      unwrap(api.GET("/api/v1/audit/events", { params: { query: { ...compact(f), limit: 50 } } })),
  });
  return (
    <>
      <h1>{t("audit.title")}</h1>
      <p className="muted">{t("audit.intro")}</p>
      <FilterForm label={t("audit.filters")}>
        <Field label={t("audit.case")}>{(p) => <input {...p} name="case" defaultValue={f.case} size={38} />}</Field>
        <Field label={t("audit.action")} hint={t("audit.actionHint")}>
          {(p) => <input {...p} name="action" defaultValue={f.action} />}
        </Field>
      </FilterForm>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess && (
        <>
          {q.data.items.length === 0 ? (
            <p>{t("audit.none")}</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">{t("audit.title")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("audit.time")}</th>
                    <th scope="col">{t("audit.actor")}</th>
                    <th scope="col">{t("audit.action")}</th>
                    <th scope="col">{t("audit.object")}</th>
                    <th scope="col">{t("audit.outcome")}</th>
                    <th scope="col">{t("audit.index")}</th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.items.map((e) => (
                    <tr key={e.id}>
                      <td>{dateTime(e.time)}</td>
                      <td>
                        {e.actor_name || e.actor_subject}
                        <br />
                        <span className="muted">{e.agency_code}</span>
                      </td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                      <td>
                        {e.object_type} <span className="muted">{e.object_id}</span>
                      </td>
                      <td>{labelOf(t, outcomeLabels, e.outcome)}</td>
                      <td>{e.tree_index ?? "—"}</td>
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
