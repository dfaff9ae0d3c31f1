// The bulk import wizard (issue 13): choose a CSV or XLSX file → the
// validation report, bad rows highlighted → confirm (linking persons
// already on file) → progress → the result, with a link back to the case.
// Nothing is written until the user confirms, and then all rows or none.
import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { ApiError, api, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { upload, type UploadProgress } from "../api/upload";
import { useTitle } from "../app/title";
import { ErrorMessage } from "../components/ErrorMessage";
import { useI18n } from "../i18n/i18n";
import { useCase } from "./CasePage";

type Import = components["schemas"]["Import"];

export function ImportWizard() {
  const { caseId = "" } = useParams();
  const { t, number } = useI18n();
  useTitle(t("import.title"));
  const kase = useCase(caseId);
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [report, setReport] = useState<Import | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [link, setLink] = useState(false);
  const [committing, setCommitting] = useState(false);

  async function validate(e: React.FormEvent) {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setReport(null);
    setProgress({ loaded: 0, total: file.size });
    try {
      setReport(await upload<Import>("/api/v1/imports", { case_id: caseId }, file, setProgress));
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  }

  async function commit() {
    if (!report) return;
    setError(null);
    setCommitting(true);
    try {
      const done = await unwrap(
        api.POST("/api/v1/imports/{id}/commit", {
          params: { path: { id: report.id } },
          body: { link_existing: link },
        }),
      );
      setReport(done);
      if (done.status === "committed") await refreshCase();
    } catch (err) {
      setError(err);
    } finally {
      setCommitting(false);
    }
  }

  async function refreshCase() {
    await qc.invalidateQueries({ queryKey: ["case", caseId] });
    await qc.invalidateQueries({ queryKey: ["case-persons", caseId] });
  }

  // A large import is committed by a background job: follow its progress
  // until it is committed or failed.
  const reportId = report?.id;
  const inJob = report?.status === "committing";
  useEffect(() => {
    if (!inJob || !reportId) return;
    let stopped = false;
    const timer = window.setInterval(async () => {
      try {
        const now = await unwrap(api.GET("/api/v1/imports/{id}", { params: { path: { id: reportId } } }));
        if (stopped) return;
        setReport(now);
        if (now.status === "committed") await refreshCase();
      } catch (err) {
        if (!stopped) setError(err);
      }
    }, 1000);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [inJob, reportId]);

  const ref = kase.data?.data.reference ?? "";
  const bad = new Set((report?.errors ?? []).map((e) => e.line));
  const step = report?.status === "committed" ? 4 : committing || inJob ? 3 : report ? 2 : 1;
  return (
    <>
      <p>
        <Link to={`/cases/${caseId}`}>{t("import.backToCase", { ref })}</Link>
      </p>
      <h1>{t("import.title")}</h1>
      <ol className="steps" aria-label={t("import.steps")}>
        {[t("import.step.choose"), t("import.step.report"), t("import.step.confirm"), t("import.step.result")].map(
          (label, i) => (
            <li key={label} aria-current={step === i + 1 ? "step" : undefined}>
              {label}
            </li>
          ),
        )}
      </ol>

      {step < 4 && (
        <form onSubmit={validate} className="card">
          <p>{t("import.intro")}</p>
          <p>
            {t("import.templates")}{" "}
            <a href="/api/v1/imports/template.csv" download>
              template.csv
            </a>{" "}
            ·{" "}
            <a href="/api/v1/imports/template.xlsx" download>
              template.xlsx
            </a>
          </p>
          <label htmlFor="import-file">{t("import.file")}</label>
          <input
            id="import-file"
            type="file"
            accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setReport(null);
            }}
          />
          <div className="actions">
            <button type="submit" className="btn" disabled={!file || progress !== null}>
              {t("import.validate")}
            </button>
          </div>
          {progress && (
            <p role="status">
              <progress max={progress.total || 1} value={progress.loaded} /> {t("import.checking")}
            </p>
          )}
        </form>
      )}

      {error !== null && <ErrorMessage error={error} />}
      {error instanceof ApiError && error.problem?.errors && error.problem.errors.length > 0 && (
        <p className="muted">{t("import.fileProblem")}</p>
      )}

      {report && report.status !== "committed" && (
        <section aria-labelledby="import-report-h">
          <h2 id="import-report-h">{t("import.report")}</h2>
          <p role="status">
            {t("import.summary", {
              rows: number(report.total_rows),
              bad: number(report.bad_rows),
              matches: number(report.matches.length),
            })}
          </p>
          {report.errors.length > 0 && (
            <>
              <p className="alert warn">{t("import.fixAndRetry")}</p>
              <div className="table-wrap">
                <table>
                  <caption>{t("import.badRows")}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t("import.line")}</th>
                      <th scope="col">{t("import.column")}</th>
                      <th scope="col">{t("import.reason")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.errors.map((e, i) => (
                      <tr key={i} className="bad-row">
                        <td>{e.line}</td>
                        <td>
                          <code>{e.column}</code>
                        </td>
                        <td>{e.reason}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          {report.matches.length > 0 && (
            <div className="table-wrap">
              <table>
                <caption>{t("import.matches")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("import.line")}</th>
                    <th scope="col">{t("import.person")}</th>
                    <th scope="col">{t("import.state")}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.matches.map((m) => (
                    <tr key={m.line} className={bad.has(m.line) ? "bad-row" : undefined}>
                      <td>{m.line}</td>
                      <td>
                        <Link to={`/persons/${m.person_id}`}>{t("import.onFile")}</Link>
                      </td>
                      <td>{m.already_linked ? t("import.alreadyLinked") : t("import.willLink")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {report.status === "committing" && (
            <div className="card">
              <p role="status">
                <label htmlFor="import-job-progress">
                  {t("import.inJob", {
                    done: number(report.progress.done),
                    total: number(report.progress.total),
                  })}
                </label>{" "}
                <progress id="import-job-progress" max={report.progress.total || 1} value={report.progress.done} />
              </p>
            </div>
          )}
          {report.status === "failed" && report.commit_error && (
            <p className="alert warn" role="alert">
              {t("import.failed", { reason: report.commit_error })}
            </p>
          )}
          {(report.status === "validated" || report.status === "failed") && (
            <div className="card">
              {report.matches.length > 0 && (
                <p>
                  <input id="import-link" type="checkbox" checked={link} onChange={(e) => setLink(e.target.checked)} />{" "}
                  <label htmlFor="import-link">{t("import.linkExisting")}</label>
                </p>
              )}
              <button
                type="button"
                className="btn"
                onClick={commit}
                disabled={committing || (report.matches.length > 0 && !link)}
              >
                {t("import.commit", { n: number(report.total_rows) })}
              </button>
              {committing && (
                <p role="status">
                  <progress /> {t("import.committing")}
                </p>
              )}
            </div>
          )}
        </section>
      )}

      {report?.status === "committed" && report.result && (
        <section aria-labelledby="import-done-h" className="alert ok">
          <h2 id="import-done-h">{t("import.done")}</h2>
          <p role="status">
            {t("import.doneSummary", {
              created: number(report.result.created.length),
              linked: number(report.result.linked.length),
              already: number(report.result.already_linked.length),
            })}
          </p>
          <p>
            <Link to={`/cases/${caseId}`}>{t("import.backToCase", { ref })}</Link>
          </p>
        </section>
      )}
    </>
  );
}
