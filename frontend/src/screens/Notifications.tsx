// Consular notifications: an embassy liaison's inbox (its detained
// nationals, acknowledged here), or every notification for a ministry
// coordinator, withdrawn ones included.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { useSession } from "../app/session";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { Pager } from "../components/Pager";
import { useFilters } from "../components/Filters";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { custodyLabels, fullName, useCountryName, useFacilityLabel, type CustodyStatus } from "./personTypes";

const states = ["new", "overdue", "acknowledged", "withdrawn"] as const;
type State = (typeof states)[number];
const stateKey = {
  new: "notifications.state.new",
  overdue: "notifications.state.overdue",
  acknowledged: "notifications.state.acknowledged",
  withdrawn: "notifications.state.withdrawn",
} as const;

export function Notifications() {
  const { t, dateTime } = useI18n();
  const { can } = useSession();
  const embassy = can("consular.read");
  useTitle(t("notifications.title"));
  const country = useCountryName();
  const facility = useFacilityLabel();
  const qc = useQueryClient();
  const f = useFilters(["state", "cursor"] as const);
  const state = (states as readonly string[]).includes(f.state ?? "") ? (f.state as State) : undefined;
  const q = useQuery({
    queryKey: ["notifications", state ?? "", f.cursor ?? ""],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/notifications", {
          params: { query: { ...(state ? { state } : {}), ...(f.cursor ? { cursor: f.cursor } : {}) } },
        }),
      ),
  });
  const ack = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/notifications/{id}/ack", { params: { path: { id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["notifications"] }),
  });
  const shown = embassy ? states.filter((s) => s !== "withdrawn") : states;
  return (
    <>
      <h1>{t("notifications.title")}</h1>
      <p className="muted">{embassy ? t("notifications.introEmbassy") : t("notifications.introMinistry")}</p>
      <nav aria-label={t("notifications.filter")} className="tabs">
        <Link to="/notifications" aria-current={!state ? "page" : undefined}>
          {t("notifications.all")}
        </Link>
        {shown.map((s) => (
          <Link key={s} to={`/notifications?state=${s}`} aria-current={state === s ? "page" : undefined}>
            {t(stateKey[s])}
          </Link>
        ))}
      </nav>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {ack.isError && <ErrorMessage error={ack.error} />}
      {q.isSuccess &&
        (q.data.items.length === 0 ? (
          <p className="muted">{t("notifications.none")}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t("notifications.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("person.name")}</th>
                  <th scope="col">{t("person.nationality")}</th>
                  <th scope="col">{t("person.custody")}</th>
                  <th scope="col">{t("person.facility")}</th>
                  <th scope="col">{t("notifications.due")}</th>
                  <th scope="col">{t("notifications.state")}</th>
                  {embassy && (
                    <th scope="col">
                      <span className="visually-hidden">{t("notifications.acknowledge")}</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((n) => (
                  <tr key={n.id}>
                    <td>
                      <Link to={embassy ? `/consular/nationals/${n.person.id}` : `/persons/${n.person.id}`}>
                        {fullName(n.person)}
                      </Link>
                    </td>
                    <td>{country(n.person.nationality)}</td>
                    <td>{labelOf(t, custodyLabels, n.person.custody_status as CustodyStatus)}</td>
                    <td>{facility(n.person.facility)}</td>
                    <td>{dateTime(n.due_at)}</td>
                    <td>
                      <span className={`badge${n.state === "overdue" || n.state === "withdrawn" ? " flag" : ""}`}>
                        {t(stateKey[n.state])}
                      </span>
                      {n.acknowledged_at && (
                        <span className="muted"> {t("notifications.acknowledgedAt", { when: dateTime(n.acknowledged_at) })}</span>
                      )}
                    </td>
                    {embassy && (
                      <td>
                        {!n.acknowledged_at && (
                          <button type="button" className="btn" disabled={ack.isPending} onClick={() => ack.mutate(n.id)}>
                            {t("notifications.acknowledge")}
                            <span className="visually-hidden">: {fullName(n.person)}</span>
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {q.isSuccess && <Pager nextCursor={q.data.next_cursor} />}
    </>
  );
}
