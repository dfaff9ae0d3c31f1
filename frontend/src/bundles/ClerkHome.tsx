// The clerk's home screen: the cases before their court, soonest hearing
// first, each with its bundles and their states; and, separately, the
// adjudicated ones. The API decides which cases a clerk sees (G5: the
// cases before or decided by their court).
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { Pager } from "../components/Pager";
import { useFilters } from "../components/Filters";
import { useI18n, type MessageKey } from "../i18n/i18n";
import type { CaseStatus, CaseSummary } from "../screens/caseTypes";
import { bundleApi } from "./api";
import { StateBadge } from "./CaseBundles";

const pageSize = 25;

export function ClerkHome() {
  const { t } = useI18n();
  useTitle(t("court.title"));
  const f = useFilters(["cursor"] as const);
  return (
    <>
      <h1>{t("court.title")}</h1>
      <p className="muted">{t("court.intro")}</p>
      <CourtCases status="before_court" heading="court.before" cursor={f.cursor} />
      <CourtCases status="adjudicated" heading="court.adjudicated" cursor="" paged={false} />
    </>
  );
}

function CourtCases({
  status,
  heading,
  cursor,
  paged = true,
}: {
  status: CaseStatus;
  heading: MessageKey;
  cursor: string;
  /** The URL's cursor pages this list; the other shows its first page. */
  paged?: boolean;
}) {
  const { t, date } = useI18n();
  const query = { status: [status], limit: pageSize, ...(cursor ? { cursor } : {}) };
  const q = useQuery({
    queryKey: ["cases", query],
    queryFn: () => unwrap(api.GET("/api/v1/cases", { params: { query } })),
  });
  const id = `court-${status}`;
  // The soonest hearing first; cases without a date last.
  const items = [...(q.data?.items ?? [])].sort((a, b) =>
    (a.hearing_date ?? "9999").localeCompare(b.hearing_date ?? "9999"),
  );
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{t(heading)}</h2>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess &&
        (items.length === 0 ? (
          <p className="muted">{t("court.none")}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t(heading)}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("case.reference")}</th>
                  <th scope="col">{t("case.title")}</th>
                  <th scope="col">{t("case.hearingDate")}</th>
                  <th scope="col">{t("case.owner")}</th>
                  <th scope="col">{t("bundle.heading")}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`/cases/${c.id}`}>{c.reference}</Link>
                    </td>
                    <td>{c.title}</td>
                    <td>{date(c.hearing_date)}</td>
                    <td>{c.owner_agency.name}</td>
                    <td>
                      <CaseBundleStates c={c} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {q.isSuccess && paged && <Pager nextCursor={q.data.next_cursor} />}
    </section>
  );
}

/** A case's bundles, each a link to it on the case page with its state. */
function CaseBundleStates({ c }: { c: CaseSummary }) {
  const { t } = useI18n();
  // Asked afresh each visit: a bundle's state changes while the clerk works.
  const q = useQuery({ queryKey: ["court-bundles", c.id], queryFn: () => bundleApi.list(c.id), staleTime: 0 });
  if (q.isPending) return <span className="muted">{t("common.loading")}</span>;
  if (q.isError) return <span className="muted">{t("court.bundlesUnavailable")}</span>;
  if (q.data.items.length === 0) return <span className="muted">{t("bundle.none")}</span>;
  return (
    <ul className="plain">
      {q.data.items.map((b) => (
        <li key={b.id}>
          <Link to={`/cases/${c.id}?bundle=${b.id}#bundles`}>
            {b.title} ({t("bundle.versionN", { n: b.bundle_version })})
          </Link>{" "}
          <StateBadge b={b} />
        </li>
      ))}
    </ul>
  );
}
