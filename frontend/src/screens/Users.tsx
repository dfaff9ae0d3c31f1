// Admin: the users who have signed in, their agency and roles.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { Pager } from "../components/Pager";
import { useFilters } from "../components/Filters";
import { labelOf, roleLabels } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { useAgencyName } from "../components/agencyName";

export function Users() {
  const { t, dateTime } = useI18n();
  const agencyName = useAgencyName();
  useTitle(t("users.title"));
  const f = useFilters(["cursor"] as const);
  const q = useQuery({
    queryKey: ["users", f.cursor],
    queryFn: () =>
      unwrap(api.GET("/api/v1/users", { params: { query: { limit: 50, ...(f.cursor ? { cursor: f.cursor } : {}) } } })),
  });
  return (
    <>
      <h1>{t("users.title")}</h1>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess && (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t("users.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("person.name")}</th>
                  <th scope="col">{t("share.agency")}</th>
                  <th scope="col">{t("users.roles")}</th>
                  <th scope="col">{t("users.lastSeen")}</th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((u) => (
                  <tr key={u.id}>
                    <td>
                      {u.name}
                      <br />
                      <span className="muted">{u.username}</span>
                    </td>
                    <td>{agencyName(u.agency)}</td>
                    <td>{u.roles.map((r) => labelOf(t, roleLabels, r)).join(", ") || "—"}</td>
                    <td>{dateTime(u.last_sign_in_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager nextCursor={q.data.next_cursor} />
        </>
      )}
    </>
  );
}
