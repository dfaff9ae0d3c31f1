// One case: its details, persons, documents, shares and status, with the
// actions the user's role and agency allow (and nothing else).
import { useQuery } from "@tanstack/react-query";
import type { MouseEvent, ReactNode } from "react";
import { Link, useParams } from "react-router";
import { api, unwrapWithETag } from "../api/client";
import { useSession } from "../app/session";
import { useTitle } from "../app/title";
import { DocumentList, UploadDocument } from "../components/Documents";
import { ErrorMessage } from "../components/ErrorMessage";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { CasePersons } from "./CasePersons";
import { CaseShares } from "./CaseShares";
import { useAgencyName } from "../components/agencyName";
import { CaseStatusSection } from "./CaseStatus";
import { CaseBundles, useShowsBundles } from "../bundles/CaseBundles";
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

/**
 * A section of the case page: its anchor, its heading in the jump list, and
 * what it shows. The page is these sections in order, so a large case (the
 * Tuol Kork raid: 225 persons) is a short page to move around in: the jump
 * list at the top reaches each one (and the upload form) in a few key
 * presses. Add a section here, e.g. `{ id: "bundles", … }` for court
 * bundles, between "documents" and "status".
 */
export interface CaseSection {
  id: string;
  title: string;
  /** Extra jump-list entries inside the section (e.g. the upload form). */
  also?: { id: string; title: string }[];
  /** The section renders its own <section> with an <h2 id={`${id}-h`}>. */
  ownHeading?: boolean;
  render: () => ReactNode;
}

function CaseView({ c, etag }: { c: Case; etag: string }) {
  const { t } = useI18n();
  const perms = useCasePermissions(c);
  const showsBundles = useShowsBundles(c);
  const count = "persons_count" in c ? c.persons_count : undefined;
  const sections: CaseSection[] = [
    { id: "details", title: t("case.details"), render: () => <CaseDetails c={c} /> },
    {
      id: "persons",
      title: count === undefined ? t("case.persons") : t("case.personsCount", { n: count }),
      render: () => (
        <>
          <CasePersons caseId={c.id} total={count} canEdit={perms.edit} />
          {perms.edit && (
            <p>
              <Link className="btn secondary" to={`/cases/${c.id}/import`}>
                {t("import.open")}
              </Link>
            </p>
          )}
        </>
      ),
    },
    ...(perms.full
      ? [
          {
            id: "documents",
            title: t("doc.heading"),
            also: perms.edit ? [{ id: "upload-heading", title: t("doc.upload") }] : [],
            render: () => (
              <>
                <DocumentList scope="case" id={c.id} empty={t("doc.none")} canVersion={perms.edit} canWithdraw={perms.supervise} />
                {perms.edit && <UploadDocument caseId={c.id} />}
              </>
            ),
          },
        ]
      : []),
    ...(showsBundles
      ? [{ id: "bundles", title: t("bundle.heading"), ownHeading: true, render: () => <CaseBundles c={c} /> }]
      : []),
    {
      id: "status",
      title: t("case.status"),
      ownHeading: true,
      render: () => <CaseStatusSection c={c} etag={etag} canChange={perms.supervise} />,
    },
    ...(perms.supervise
      ? [{ id: "shares", title: t("share.heading"), ownHeading: true, render: () => <CaseShares caseId={c.id} /> }]
      : []),
  ];
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
      <JumpList sections={sections} />
      {sections.map((s) =>
        s.ownHeading ? (
          <div key={s.id} id={s.id} className="case-section">
            {s.render()}
          </div>
        ) : (
          <section key={s.id} id={s.id} aria-labelledby={`${s.id}-h`} className="case-section">
            <h2 id={`${s.id}-h`} tabIndex={-1}>
              {s.title}
            </h2>
            {s.render()}
          </section>
        ),
      )}
    </>
  );
}

/**
 * "On this page": a link to each section. Following one moves the keyboard
 * focus there too (to the heading, or the upload form's heading), so the
 * next Tab continues inside that section.
 */
function JumpList({ sections }: { sections: CaseSection[] }) {
  const { t } = useI18n();
  const go = (e: MouseEvent<HTMLAnchorElement>, id: string) => {
    const target = document.getElementById(id === "upload-heading" ? id : `${id}-h`);
    if (!target) return;
    e.preventDefault();
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
    window.history.replaceState(window.history.state, "", `#${id}`);
  };
  const entries = sections.flatMap((s) => [{ id: s.id, title: s.title }, ...(s.also ?? [])]);
  return (
    <nav className="jumplist" aria-label={t("case.jumpList")}>
      <ul>
        {entries.map((e) => (
          <li key={e.id}>
            <a href={`#${e.id}`} onClick={(ev) => go(ev, e.id)}>
              {e.title}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function CaseDetails({ c }: { c: Case }) {
  const { t, date, dateTime } = useI18n();
  const agencyName = useAgencyName();
  const perms = useCasePermissions(c);
  const d = fullOf(c);
  return (
    <>
      <p>
        <span className="badge">{labelOf(t, caseStatusLabels, c.status)}</span>{" "}
        <span className="badge">{labelOf(t, caseKindLabels, c.kind)}</span>{" "}
        {d?.possible_victim && <span className="badge flag">{t("case.possibleVictim")}</span>}
      </p>
      <dl className="props">
        <dt>{t("case.owner")}</dt>
        <dd>{agencyName(c.owner_agency)}</dd>
        <dt>{t("case.access")}</dt>
        <dd>{c.access.level === "full" ? t("case.access.full") : t("case.access.summary")}</dd>
        {c.court_agency && (
          <>
            <dt>{t("case.court")}</dt>
            <dd>{agencyName(c.court_agency)}</dd>
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
          <h3>{t("case.summary")}</h3>
          <p className="prewrap">{d.summary}</p>
        </>
      )}
      {!perms.full && <p className="alert warn">{t("case.summaryOnly")}</p>}
    </>
  );
}
