// Embassy liaisons: their detained nationals (the consular view), with
// filters and keyset paging.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { useSession } from "../app/session";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { compact, FilterForm, useFilters } from "../components/Filters";
import { Pager } from "../components/Pager";
import { labelOf, valuesOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { custodyLabels, fullName, useCountryName, useFacilityLabel, type CustodyStatus } from "./personTypes";

// The custody statuses an embassy's view can hold (spec/ACCESS.md).
const consularStatuses: CustodyStatus[] = ["detained", "charged", "convicted", "awaiting_deportation", "deported"];

export function Nationals() {
  const { t, date, dateTime, number } = useI18n();
  const { me } = useSession();
  const country = useCountryName();
  const facility = useFacilityLabel();
  useTitle(t("nationals.title"));
  const f = useFilters(["q", "custody_status", "facility", "hearing_before", "cursor"] as const);
  // Deported nationals are their own list: "in custody" leaves them out.
  const statuses: CustodyStatus[] =
    f.custody_status === "in_custody"
      ? consularStatuses.filter((x) => x !== "deported")
      : f.custody_status
        ? [f.custody_status as CustodyStatus]
        : [];
  const query = {
    ...compact({ q: f.q, facility: f.facility, hearing_before: f.hearing_before, cursor: f.cursor }),
    ...(statuses.length ? { custody_status: statuses } : {}),
    limit: 25,
  };
  const q = useQuery({
    queryKey: ["nationals", query],
    queryFn: () => unwrap(api.GET("/api/v1/consular/nationals", { params: { query } })),
  });
  return (
    <>
      <h1>{t("nationals.title")}</h1>
      <p className="muted">{t("nationals.intro", { country: country(me.agency.country) })}</p>
      <FilterForm label={t("nationals.filters")}>
        <Field label={t("nationals.searchName")}>
          {(p) => <input {...p} name="q" type="search" defaultValue={f.q} autoComplete="off" />}
        </Field>
        <Field label={t("person.custody")}>
          {(p) => (
            <select {...p} name="custody_status" defaultValue={f.custody_status}>
              <option value="">{t("filters.any")}</option>
              <option value="in_custody">{t("nationals.inCustody")}</option>
              {valuesOf(custodyLabels)
                .filter((s) => consularStatuses.includes(s))
                .map((s) => (
                  <option key={s} value={s}>
                    {t(custodyLabels[s])}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <Field label={t("person.facility")} hint={t("nationals.facilityHint")}>
          {(p) => <input {...p} name="facility" defaultValue={f.facility} />}
        </Field>
        <Field label={t("nationals.hearingBefore")}>
          {(p) => <input {...p} type="date" name="hearing_before" defaultValue={f.hearing_before} />}
        </Field>
      </FilterForm>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess && (
        <>
          <p role="status" data-testid="nationals-total">
            {t("nationals.total", { n: number(q.data.total) })}
          </p>
          {q.data.items.length === 0 ? (
            <p>{t("nationals.none")}</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">{t("nationals.title")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("person.name")}</th>
                    <th scope="col">{t("person.dateOfBirth")}</th>
                    <th scope="col">{t("person.passport")}</th>
                    <th scope="col">{t("person.custody")}</th>
                    <th scope="col">{t("person.facility")}</th>
                    <th scope="col">{t("person.detainedAt")}</th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.items.map((n) => (
                    <tr key={n.id}>
                      <td>
                        <Link to={`/consular/nationals/${n.id}`}>{fullName(n)}</Link>
                      </td>
                      <td>{date(n.date_of_birth)}</td>
                      <td>{n.passport_number || "—"}</td>
                      <td>{labelOf(t, custodyLabels, n.custody_status)}</td>
                      <td>{facility(n.facility)}</td>
                      <td>{dateTime(n.detained_at)}</td>
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
