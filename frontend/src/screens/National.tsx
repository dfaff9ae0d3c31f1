// One national, in the consular projection, with the documents released
// to the embassy.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { DocumentList } from "../components/Documents";
import { ErrorMessage } from "../components/ErrorMessage";
import { Visits } from "../components/Visits";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { caseKindLabels, caseStatusLabels } from "./caseTypes";
import { custodyLabels, fullName, sexLabels, useCountryName, useFacilityLabel } from "./personTypes";

export function National() {
  const { personId = "" } = useParams();
  const { t, date, dateTime } = useI18n();
  const country = useCountryName();
  const facility = useFacilityLabel();
  const q = useQuery({
    queryKey: ["national", personId],
    queryFn: () => unwrap(api.GET("/api/v1/consular/nationals/{id}", { params: { path: { id: personId } } })),
  });
  useTitle(q.data ? fullName(q.data) : t("nationals.title"));
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  const n = q.data;
  return (
    <>
      <p>
        <Link to="/consular/nationals">← {t("nationals.back")}</Link>
      </p>
      <h1>{fullName(n)}</h1>
      <div className="cards">
        <section className="card" aria-labelledby="identity-h">
          <h2 id="identity-h">{t("person.identity")}</h2>
          <dl className="props">
            <dt>{t("person.sex")}</dt>
            <dd>{labelOf(t, sexLabels, n.sex)}</dd>
            <dt>{t("person.dateOfBirth")}</dt>
            <dd>{date(n.date_of_birth)}</dd>
            <dt>{t("person.nationality")}</dt>
            <dd>{country(n.nationality)}</dd>
            <dt>{t("person.passport")}</dt>
            <dd>{n.passport_number || "—"}</dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="custody-h">
          <h2 id="custody-h">{t("person.custody")}</h2>
          <dl className="props">
            <dt>{t("person.custody")}</dt>
            <dd>{labelOf(t, custodyLabels, n.custody_status)}</dd>
            <dt>{t("person.facility")}</dt>
            <dd>{facility(n.facility)}</dd>
            <dt>{t("person.detainedAt")}</dt>
            <dd>{dateTime(n.detained_at)}</dd>
            {n.deported_at && (
              <>
                <dt>{t("person.deportedAt")}</dt>
                <dd>
                  {dateTime(n.deported_at)} {n.deported_via && `· ${n.deported_via}`}
                </dd>
              </>
            )}
            {n.entry_ban_until && (
              <>
                <dt>{t("person.entryBan")}</dt>
                <dd>{date(n.entry_ban_until)}</dd>
              </>
            )}
          </dl>
        </section>
      </div>
      <section aria-labelledby="charges-h">
        <h2 id="charges-h">{t("nationals.charges")}</h2>
        {n.charges.length === 0 ? (
          <p className="muted">{t("nationals.noCharges")}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t("nationals.charges")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("case.kind")}</th>
                  <th scope="col">{t("case.legalBasis")}</th>
                  <th scope="col">{t("case.status")}</th>
                  <th scope="col">{t("case.court")}</th>
                  <th scope="col">{t("case.hearingDate")}</th>
                </tr>
              </thead>
              <tbody>
                {n.charges.map((c, i) => (
                  <tr key={i}>
                    <td>{labelOf(t, caseKindLabels, c.case_kind)}</td>
                    <td>{c.legal_basis || "—"}</td>
                    <td>{labelOf(t, caseStatusLabels, c.status)}</td>
                    <td>{c.court_name || "—"}</td>
                    <td>{date(c.hearing_date)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <Visits personId={n.id} canRequest canAnswer={false} />
      <section aria-labelledby="released-h">
        <h2 id="released-h">{t("nationals.released")}</h2>
        <DocumentList scope="person" id={n.id} empty={t("nationals.noDocuments")} />
      </section>
    </>
  );
}
