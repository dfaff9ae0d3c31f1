// The case list: the cases the user's grants give them (own, shared,
// possible victims, oversight, court), with search, filters and keyset
// paging.
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
import { useI18n, type MessageKey } from "../i18n/i18n";
import { caseKindLabels, caseStatusLabels, type CaseKind, type CaseStatus, type CaseSummary } from "./caseTypes";
import { useAgencyName } from "../components/agencyName";

const pageSize = 25;

export function CaseList() {
  const { me } = useSession();
  const intro: MessageKey =
    me.agency.kind === "embassy"
      ? "cases.intro.embassy"
      : me.agency.kind === "interior_ministry"
        ? "cases.intro.ministry"
        : me.agency.kind === "court"
          ? "cases.intro.court"
          : "cases.intro.agency";
  return <CaseListView title="cases.title" intro={intro} />;
}

export function CaseListView({ title, intro }: { title: MessageKey; intro: MessageKey }) {
  const { t, dateTime } = useI18n();
  const { can } = useSession();
  useTitle(t(title));
  const f = useFilters(["q", "status", "kind", "cursor"] as const);
  const query = {
    ...compact({ q: f.q, cursor: f.cursor }),
    ...(f.status ? { status: [f.status as CaseStatus] } : {}),
    ...(f.kind ? { kind: [f.kind as CaseKind] } : {}),
    limit: pageSize,
  };
  const q = useQuery({
    queryKey: ["cases", query],
    queryFn: () => unwrap(api.GET("/api/v1/cases", { params: { query } })),
  });
  return (
    <>
      <div className="page-head">
        <h1>{t(title)}</h1>
        {can("cases.create") && (
          <Link className="btn" to="/cases/new">
            {t("cases.new")}
          </Link>
        )}
      </div>
      <p className="muted">{t(intro)}</p>
      <FilterForm label={t("cases.filters")}>
        <Field label={t("cases.search")} hint={t("cases.searchHint")}>
          {(p) => <input {...p} type="search" name="q" defaultValue={f.q} />}
        </Field>
        <Field label={t("case.status")}>
          {(p) => (
            <select {...p} name="status" defaultValue={f.status}>
              <option value="">{t("filters.any")}</option>
              {valuesOf(caseStatusLabels).map((s) => (
                <option key={s} value={s}>
                  {t(caseStatusLabels[s])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("case.kind")}>
          {(p) => (
            <select {...p} name="kind" defaultValue={f.kind}>
              <option value="">{t("filters.any")}</option>
              {valuesOf(caseKindLabels).map((k) => (
                <option key={k} value={k}>
                  {t(caseKindLabels[k])}
                </option>
              ))}
            </select>
          )}
        </Field>
      </FilterForm>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess && (
        <>
          {q.data.items.length === 0 ? (
            <p>{t("cases.none")}</p>
          ) : (
            <CaseTable items={q.data.items} caption={t(title)} dateTime={dateTime} />
          )}
          <Pager nextCursor={q.data.next_cursor} />
        </>
      )}
    </>
  );
}

function CaseTable({
  items,
  caption,
  dateTime,
}: {
  items: CaseSummary[];
  caption: string;
  dateTime: (v: string) => string;
}) {
  const { t } = useI18n();
  const agencyName = useAgencyName();
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("case.reference")}</th>
            <th scope="col">{t("case.title")}</th>
            <th scope="col">{t("case.kind")}</th>
            <th scope="col">{t("case.status")}</th>
            <th scope="col">{t("case.owner")}</th>
            <th scope="col">{t("case.updated")}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.id}>
              <td>
                <Link to={`/cases/${c.id}`}>{c.reference}</Link>
              </td>
              <td>
                {c.title}
                {"possible_victim" in c && c.possible_victim && (
                  <>
                    {" "}
                    <span className="badge flag">{t("case.possibleVictim")}</span>
                  </>
                )}
              </td>
              <td>{labelOf(t, caseKindLabels, c.kind)}</td>
              <td>{labelOf(t, caseStatusLabels, c.status)}</td>
              <td>{agencyName(c.owner_agency)}</td>
              <td>{dateTime(c.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
