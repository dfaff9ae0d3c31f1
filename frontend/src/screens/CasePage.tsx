// One case: its details, persons, documents, shares and status, with the
// actions the user's role and agency allow (and nothing else).
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrapWithETag } from "../api/client";
import { useSession } from "../app/session";
import { useTitle } from "../app/title";
import { DocumentList, UploadDocument } from "../components/Documents";
import { ErrorMessage } from "../components/ErrorMessage";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { CasePersons, useCasePersons } from "./CasePersons";
import { CaseShares } from "./CaseShares";
import { fullName } from "./personTypes";
import { CaseStatusSection } from "./CaseStatus";
import { CaseBundles } from "../bundles/CaseBundles";
import { caseKindLabels, caseStatusLabels, fullOf, type Case } from "./caseTypes";

export function useCase(id: string) {
  return useQuery({
    queryKey: ["case", id],
    queryFn: () => unwrapWithETag(api.GET("/api/v1/cases/{id}", { params: { path: { id } } })),
  });
}

/** What the signed-in user may do with this case (spec/ACCESS.md, Actions). */
export function useCasePermissions(c: Case) {
  const { isOwnAgency, hasRole } = useSession();
  const own = isOwnAgency(c.owner_agency.id);
  return {
    edit: own && hasRole("officer", "supervisor"),
    supervise: own && hasRole("supervisor"),
    full: c.access.level === "full",
  };
}

export function CasePage() {
  const { caseId = "" } = useParams();
  const { t } = useI18n();
  const q = useCase(caseId);
  useTitle(q.data ? q.data.data.reference : t("case.heading"));
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  return <CaseView c={q.data.data} etag={q.data.etag} />;
}

function CaseView({ c, etag }: { c: Case; etag: string }) {
  const { t, date, dateTime } = useI18n();
  const perms = useCasePermissions(c);
  // Summary grants see the persons too, in the summary projection (ACCESS.md, Persons).
  const persons = useCasePersons(c.id, true);
  const d = fullOf(c);
  return (
    <>
      <div className="page-head">
        <h1>
          <span className="muted">{c.reference}</span> {c.title}
        </h1>
        {perms.edit && (
          <Link className="btn secondary" to={`/cases/${c.id}/edit`}>
            {t("case.edit")}
          </Link>
        )}
      </div>
      <p>
        <span className="badge">{labelOf(t, caseStatusLabels, c.status)}</span>{" "}
        <span className="badge">{labelOf(t, caseKindLabels, c.kind)}</span>{" "}
        {d?.possible_victim && <span className="badge flag">{t("case.possibleVictim")}</span>}
      </p>
      <dl className="props">
        <dt>{t("case.owner")}</dt>
        <dd>{c.owner_agency.name}</dd>
        <dt>{t("case.access")}</dt>
        <dd>{c.access.level === "full" ? t("case.access.full") : t("case.access.summary")}</dd>
        {c.court_agency && (
          <>
            <dt>{t("case.court")}</dt>
            <dd>{c.court_agency.name}</dd>
          </>
        )}
        {c.hearing_date && (
          <>
            <dt>{t("case.hearingDate")}</dt>
            <dd>{date(c.hearing_date)}</dd>
          </>
        )}
        {d && (
          <>
            {d.legal_basis && (
              <>
                <dt>{t("case.legalBasis")}</dt>
                <dd>{d.legal_basis}</dd>
              </>
            )}
            {d.operation && (d.operation.name || d.operation.place || d.operation.date) && (
              <>
                <dt>{t("case.operation")}</dt>
                <dd>
                  {[d.operation.name, d.operation.place, d.operation.date ? date(d.operation.date) : ""]
                    .filter(Boolean)
                    .join(" · ")}
                </dd>
              </>
            )}
            <dt>{t("case.created")}</dt>
            <dd>{dateTime(d.created_at)}</dd>
          </>
        )}
        <dt>{t("case.updated")}</dt>
        <dd>{dateTime(c.updated_at)}</dd>
      </dl>
      {d?.summary && (
        <>
          <h2>{t("case.summary")}</h2>
          <p className="prewrap">{d.summary}</p>
        </>
      )}
      {!perms.full && <p className="alert warn">{t("case.summaryOnly")}</p>}

      <section aria-labelledby="persons-h">
        <h2 id="persons-h">{t("case.persons")}</h2>
        <CasePersons caseId={c.id} q={persons} canEdit={perms.edit} />
        {perms.edit && (
          <p>
            <Link className="btn secondary" to={`/cases/${c.id}/import`}>
              {t("import.open")}
            </Link>
          </p>
        )}
      </section>

      {perms.full && (
        <section aria-labelledby="documents-h">
          <h2 id="documents-h">{t("doc.heading")}</h2>
          <DocumentList scope="case" id={c.id} empty={t("doc.none")} canVersion={perms.edit} canWithdraw={perms.supervise} />
          {perms.edit && (
            <UploadDocument
              caseId={c.id}
              persons={(persons.data ?? []).map((l) => ({ id: l.person.id, name: fullName(l.person) }))}
            />
          )}
        </section>
      )}

      <CaseStatusSection c={c} etag={etag} canChange={perms.supervise} />

      {/* Court bundles (src/bundles/): shown to officers, supervisors and clerks on a full grant. */}
      <CaseBundles c={c} />

      {perms.supervise && <CaseShares caseId={c.id} />}
    </>
  );
}
