// The ministry's oversight dashboard (issue 13): who is held, by
// nationality and custody status; detentions, deportations by route and
// possible victims per month; consular notification delays per embassy;
// cases by status and age. Counts only. Each chart has its data table
// beside it (for screen readers and for checking) and a CSV download.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { useTitle } from "../app/title";
import { Lines, StackedBars } from "../components/Charts";
import { ErrorMessage } from "../components/ErrorMessage";
import { labelOf } from "../i18n/enums";
import { useI18n, type MessageKey } from "../i18n/i18n";
import { caseStatusLabels } from "./caseTypes";
import { custodyLabels, useCountryName } from "./personTypes";

const custodies = ["detained", "charged", "convicted", "awaiting_deportation", "deported", "released", "at_large"];
const ageBuckets = ["under_30_days", "30_to_89_days", "90_to_364_days", "a_year_or_more"] as const;
const caseStatuses = ["open", "investigation", "before_court", "adjudicated", "closed"];

type Schemas = components["schemas"];

function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const [fy = 0, fm = 1] = from.split("-").map(Number);
  const [ty = 0, tm = 1] = to.split("-").map(Number);
  let y = fy;
  let m = fm;
  while (y < ty || (y === ty && m <= tm)) {
    out.push(`${y}-${String(m).padStart(2, "0")}`);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

function hours(s: number | null | undefined): string {
  return s == null ? "—" : (s / 3600).toFixed(1);
}

export function Dashboard() {
  const { t, number, dateTime } = useI18n();
  useTitle(t("stats.title"));
  const country = useCountryName();
  const overview = useQuery({
    queryKey: ["stats", "overview"],
    queryFn: async () => (await unwrap(api.GET("/api/v1/stats/overview", {}))) as Schemas["StatsOverview"],
  });
  const series = useQuery({
    queryKey: ["stats", "timeseries"],
    queryFn: async () => (await unwrap(api.GET("/api/v1/stats/timeseries", {}))) as Schemas["StatsTimeseries"],
  });
  const custodyLabel = (c: string) => labelOf(t, custodyLabels, c);
  const ageLabel = (a: string) => t(`stats.age.${a}` as MessageKey);
  return (
    <>
      <h1>{t("stats.title")}</h1>
      <p className="muted">{t("stats.intro")}</p>
      {overview.isPending && <p className="spinner">{t("common.loading")}</p>}
      {overview.isError && <ErrorMessage error={overview.error} />}
      {overview.isSuccess &&
        (() => {
          const o = overview.data;
          const byNat = new Map<string, Map<string, number>>();
          for (const p of o.persons_by_nationality_status) {
            if (!byNat.has(p.nationality)) byNat.set(p.nationality, new Map());
            byNat.get(p.nationality)!.set(p.custody_status, p.count);
          }
          const nats = [...byNat.entries()]
            .map(([n, m]) => ({ n, m, total: [...m.values()].reduce((a, b) => a + b, 0) }))
            .sort((a, b) => b.total - a.total);
          const shown = nats.slice(0, 12);
          const byStatus = new Map<string, Map<string, number>>();
          for (const c of o.cases_by_status_age) {
            if (!byStatus.has(c.status)) byStatus.set(c.status, new Map());
            byStatus.get(c.status)!.set(c.age_bucket, c.count);
          }
          return (
            <>
              <p className="muted">{t("stats.generated", { at: dateTime(o.generated_at) })}</p>
              <section aria-labelledby="stats-nat-h" className="figure">
                <h2 id="stats-nat-h">{t("stats.byNationality")}</h2>
                <div className="chart-and-table">
                  <StackedBars
                    label={t("stats.byNationalityChart")}
                    series={custodies.map((c) => ({ key: c, label: custodyLabel(c) }))}
                    rows={shown.map(({ n, m }) => ({
                      label: country(n),
                      segments: custodies.map((c) => ({ key: c, label: custodyLabel(c), value: m.get(c) ?? 0 })),
                    }))}
                  />
                  <div className="table-wrap" tabIndex={0}>
                    <table>
                      <caption>{t("stats.byNationality")}</caption>
                      <thead>
                        <tr>
                          <th scope="col">{t("stats.nationality")}</th>
                          {custodies.map((c) => (
                            <th scope="col" key={c}>
                              {custodyLabel(c)}
                            </th>
                          ))}
                          <th scope="col">{t("stats.total")}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {nats.map(({ n, m, total }) => (
                          <tr key={n}>
                            <th scope="row">{country(n)}</th>
                            {custodies.map((c) => (
                              <td key={c}>{number(m.get(c) ?? 0)}</td>
                            ))}
                            <td>{number(total)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </div>
                <a href="/api/v1/stats/overview?format=csv" download>
                  {t("stats.downloadCsv")}
                </a>
              </section>

              <section aria-labelledby="stats-notes-h" className="figure">
                <h2 id="stats-notes-h">{t("stats.notificationDelay")}</h2>
                <div className="chart-and-table">
                  <StackedBars
                    label={t("stats.notificationDelayChart")}
                    series={[{ key: "median", label: t("stats.medianHours") }]}
                    rows={o.consular_notification_delay.map((n) => ({
                      label: country(n.country),
                      segments: [
                        { key: "median", label: t("stats.medianHours"), value: Math.round((n.median_seconds ?? 0) / 360) / 10 },
                      ],
                    }))}
                  />
                  <div className="table-wrap" tabIndex={0}>
                    <table>
                      <caption>{t("stats.notificationDelay")}</caption>
                      <thead>
                        <tr>
                          <th scope="col">{t("stats.embassy")}</th>
                          <th scope="col">{t("stats.notifications")}</th>
                          <th scope="col">{t("stats.acknowledged")}</th>
                          <th scope="col">{t("stats.medianHours")}</th>
                          <th scope="col">{t("stats.p90Hours")}</th>
                          <th scope="col">{t("stats.overdue")}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {o.consular_notification_delay.map((n) => (
                          <tr key={n.country}>
                            <th scope="row">{country(n.country)}</th>
                            <td>{number(n.notifications)}</td>
                            <td>{number(n.acknowledged)}</td>
                            <td>{hours(n.median_seconds)}</td>
                            <td>{hours(n.p90_seconds)}</td>
                            <td>{number(n.overdue)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </div>
                <a href="/api/v1/stats/overview?format=csv" download>
                  {t("stats.downloadCsv")}
                </a>
              </section>

              <section aria-labelledby="stats-cases-h" className="figure">
                <h2 id="stats-cases-h">{t("stats.casesByStatus")}</h2>
                <div className="chart-and-table">
                  <StackedBars
                    label={t("stats.casesByStatusChart")}
                    series={ageBuckets.map((a) => ({ key: a, label: ageLabel(a) }))}
                    rows={caseStatuses.map((s) => ({
                      label: labelOf(t, caseStatusLabels, s),
                      segments: ageBuckets.map((a) => ({ key: a, label: ageLabel(a), value: byStatus.get(s)?.get(a) ?? 0 })),
                    }))}
                  />
                  <div className="table-wrap" tabIndex={0}>
                    <table>
                      <caption>{t("stats.casesByStatus")}</caption>
                      <thead>
                        <tr>
                          <th scope="col">{t("case.status")}</th>
                          {ageBuckets.map((a) => (
                            <th scope="col" key={a}>
                              {ageLabel(a)}
                            </th>
                          ))}
                        </tr>
                      </thead>
                      <tbody>
                        {caseStatuses.map((s) => (
                          <tr key={s}>
                            <th scope="row">{labelOf(t, caseStatusLabels, s)}</th>
                            {ageBuckets.map((a) => (
                              <td key={a}>{number(byStatus.get(s)?.get(a) ?? 0)}</td>
                            ))}
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </div>
                <a href="/api/v1/stats/overview?format=csv" download>
                  {t("stats.downloadCsv")}
                </a>
              </section>
            </>
          );
        })()}

      {series.isError && <ErrorMessage error={series.error} />}
      {series.isSuccess &&
        (() => {
          const s = series.data;
          const months = monthsBetween(s.from, s.to);
          const at = (pts: { month: string; key?: string; count: number }[], key?: string) =>
            months.map((m) =>
              pts.filter((p) => p.month === m && (key === undefined || p.key === key)).reduce((a, p) => a + p.count, 0),
            );
          const lines = [
            { key: "detentions", label: t("stats.detentions"), values: at(s.detentions) },
            { key: "airport", label: t("stats.deportedAirport"), values: at(s.deportations, "airport") },
            { key: "land", label: t("stats.deportedLand"), values: at(s.deportations, "land_checkpoint") },
            { key: "other", label: t("stats.deportedOther"), values: at(s.deportations, "other") },
            { key: "victims", label: t("stats.victims"), values: at(s.victims) },
          ];
          return (
            <section aria-labelledby="stats-months-h" className="figure">
              <h2 id="stats-months-h">{t("stats.perMonth")}</h2>
              <div className="chart-and-table">
                <Lines label={t("stats.perMonthChart")} months={months} series={lines} />
                <div className="table-wrap" tabIndex={0}>
                  <table>
                    <caption>{t("stats.perMonth")}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{t("stats.month")}</th>
                        {lines.map((l) => (
                          <th scope="col" key={l.key}>
                            {l.label}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {months.map((m, i) =>
                        lines.some((l) => (l.values[i] ?? 0) > 0) ? (
                          <tr key={m}>
                            <th scope="row">{m}</th>
                            {lines.map((l) => (
                              <td key={l.key}>{number(l.values[i] ?? 0)}</td>
                            ))}
                          </tr>
                        ) : null,
                      )}
                    </tbody>
                  </table>
                </div>
              </div>
              <a href="/api/v1/stats/timeseries?format=csv" download>
                {t("stats.downloadCsv")}
              </a>
            </section>
          );
        })()}
    </>
  );
}
