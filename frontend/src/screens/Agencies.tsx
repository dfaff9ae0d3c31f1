// Admin: the agencies that take part.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { agencyKindLabels, labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { useCountryName } from "./personTypes";

export function Agencies() {
  const { t } = useI18n();
  useTitle(t("agencies.title"));
  const country = useCountryName();
  // A few hundred agencies at most: one list, not paged.
  const q = useQuery({
    queryKey: ["agencies"],
    queryFn: () => unwrap(api.GET("/api/v1/agencies")),
  });
  return (
    <>
      <h1>{t("agencies.title")}</h1>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess && (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t("agencies.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("agencies.code")}</th>
                  <th scope="col">{t("agencies.name")}</th>
                  <th scope="col">{t("agencies.kind")}</th>
                  <th scope="col">{t("agencies.country")}</th>
                  <th scope="col">{t("agencies.enabled")}</th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <code>{a.code}</code>
                    </td>
                    <td>{a.name}</td>
                    <td>{labelOf(t, agencyKindLabels, a.kind)}</td>
                    <td>{a.country ? country(a.country) : "—"}</td>
                    <td>{a.enabled ? t("common.yes") : t("common.no")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
