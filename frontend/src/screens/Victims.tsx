// Counter-trafficking: the persons flagged as possible victims (suspected
// or identified), with the cases they are in (grant G3 opens those cases).
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { compact, FilterForm, useFilters } from "../components/Filters";
import { Pager } from "../components/Pager";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { custodyLabels, fullName, traffickingLabels, useCountryName, type TraffickingFlag } from "./personTypes";

const possible: TraffickingFlag[] = ["suspected", "identified"];

export function Victims() {
  const { t } = useI18n();
  const country = useCountryName();
  useTitle(t("victims.title"));
  const f = useFilters(["q", "trafficking_flag", "nationality", "cursor"] as const);
  const flags = f.trafficking_flag ? [f.trafficking_flag as TraffickingFlag] : possible;
  const query = {
    ...compact({ q: f.q, nationality: f.nationality.toUpperCase(), cursor: f.cursor }),
    trafficking_flag: flags,
    limit: 25,
  };
  const q = useQuery({
    queryKey: ["victims", query],
    queryFn: () => unwrap(api.GET("/api/v1/persons", { params: { query } })),
  });
  return (
    <>
      <h1>{t("victims.title")}</h1>
      <p className="muted">{t("victims.intro")}</p>
      <FilterForm label={t("victims.filters")}>
        <Field label={t("person.name")}>{(p) => <input {...p} type="search" name="q" defaultValue={f.q} />}</Field>
        <Field label={t("person.trafficking")}>
          {(p) => (
            <select {...p} name="trafficking_flag" defaultValue={f.trafficking_flag}>
              <option value="">{t("victims.anyPossible")}</option>
              {possible.map((s) => (
                <option key={s} value={s}>
                  {t(traffickingLabels[s])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("person.nationality")} hint={t("person.nationalityHint")}>
          {(p) => <input {...p} name="nationality" maxLength={2} size={4} defaultValue={f.nationality} />}
        </Field>
      </FilterForm>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess && (
        <>
          {q.data.items.length === 0 ? (
            <p>{t("victims.none")}</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">{t("victims.title")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("person.name")}</th>
                    <th scope="col">{t("person.nationality")}</th>
                    <th scope="col">{t("person.trafficking")}</th>
                    <th scope="col">{t("person.custody")}</th>
                    <th scope="col">{t("victims.cases")}</th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.items.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link to={`/persons/${p.id}`}>{fullName(p)}</Link>
                      </td>
                      <td>{country(p.nationality)}</td>
                      <td>
                        <span className="badge flag">{labelOf(t, traffickingLabels, p.trafficking_flag)}</span>
                      </td>
                      <td>{labelOf(t, custodyLabels, p.custody_status)}</td>
                      <td>
                        {(p.cases ?? []).map((c, i) => (
                          <span key={c.case_id}>
                            {i > 0 && ", "}
                            <Link to={`/cases/${c.case_id}`}>{c.reference}</Link>
                          </span>
                        ))}
                      </td>
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
