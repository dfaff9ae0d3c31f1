// The ministry's overdue list: consular notifications not acknowledged in
// time (consular.overdue_after) and visit requests not answered in time
// (consular.visit_overdue_after), the oldest first, with the agency concerned.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { useI18n } from "../i18n/i18n";
import { fullName, useCountryName } from "./personTypes";

function age(from: string, now = Date.now()): number {
  return Math.max(0, Math.floor((now - new Date(from).getTime()) / 3_600_000));
}

export function Overdue() {
  const { t, dateTime } = useI18n();
  useTitle(t("overdue.title"));
  const country = useCountryName();
  const notes = useQuery({
    queryKey: ["notifications", "overdue", "all"],
    queryFn: () => unwrap(api.GET("/api/v1/notifications", { params: { query: { state: "overdue", limit: 200 } } })),
  });
  const visits = useQuery({
    queryKey: ["visits", "overdue"],
    queryFn: () => unwrap(api.GET("/api/v1/visits", { params: { query: { state: "overdue", limit: 200 } } })),
  });
  return (
    <>
      <h1>{t("overdue.title")}</h1>
      <section aria-labelledby="overdue-notes-h">
        <h2 id="overdue-notes-h">{t("overdue.notifications")}</h2>
        {notes.isPending && <p className="spinner">{t("common.loading")}</p>}
        {notes.isError && <ErrorMessage error={notes.error} />}
        {notes.isSuccess &&
          (notes.data.items.length === 0 ? (
            <p className="muted">{t("overdue.noneNotifications")}</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">{t("overdue.notifications")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("person.name")}</th>
                    <th scope="col">{t("overdue.embassyOf")}</th>
                    <th scope="col">{t("notifications.due")}</th>
                    <th scope="col">{t("overdue.age")}</th>
                  </tr>
                </thead>
                <tbody>
                  {[...notes.data.items].reverse().map((n) => (
                    <tr key={n.id}>
                      <td>
                        <Link to={`/persons/${n.person.id}`}>{fullName(n.person)}</Link>
                      </td>
                      <td>{country(n.country)}</td>
                      <td>{dateTime(n.due_at)}</td>
                      <td>{t("overdue.hours", { n: age(n.due_at) })}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
      </section>
      <section aria-labelledby="overdue-visits-h">
        <h2 id="overdue-visits-h">{t("overdue.visits")}</h2>
        {visits.isPending && <p className="spinner">{t("common.loading")}</p>}
        {visits.isError && <ErrorMessage error={visits.error} />}
        {visits.isSuccess &&
          (visits.data.items.length === 0 ? (
            <p className="muted">{t("overdue.noneVisits")}</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">{t("overdue.visits")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("person.name")}</th>
                    <th scope="col">{t("overdue.requestedBy")}</th>
                    <th scope="col">{t("overdue.requestedAt")}</th>
                    <th scope="col">{t("overdue.age")}</th>
                  </tr>
                </thead>
                <tbody>
                  {visits.data.items.map((v) => (
                    <tr key={v.id}>
                      <td>
                        <Link to={`/persons/${v.person.id}`}>{fullName(v.person)}</Link>
                      </td>
                      <td>{v.embassy}</td>
                      <td>{dateTime(v.requested_at)}</td>
                      <td>{t("overdue.hours", { n: age(v.requested_at) })}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
      </section>
    </>
  );
}
