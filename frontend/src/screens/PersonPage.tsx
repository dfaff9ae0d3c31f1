// One person: identity, custody, and the trafficking screening, which
// counter-trafficking officers (and, for "suspected" only, the owner
// agency's officers) may record.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, Navigate, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import type { BodyOf } from "../api/types";
import { useSession } from "../app/session";
import { useTitle } from "../app/title";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { Visits } from "../components/Visits";
import { labelOf, valuesOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { usePerson } from "./PersonForm";
import {
  asFullPerson,
  asSummaryPerson,
  custodyLabels,
  fullName,
  linkRoleLabels,
  notificationLabels,
  sexLabels,
  traffickingLabels,
  useCountryName,
  type Person,
  type PersonSummary,
  type TraffickingFlag,
  useFacilityLabel,
} from "./personTypes";

type Screening = BodyOf<"/api/v1/persons/{id}/screening", "post">;

export function PersonPage() {
  const { personId = "" } = useParams();
  const { t } = useI18n();
  const q = usePerson(personId);
  useTitle(q.data ? fullName(q.data.data) : t("person.heading"));
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  const p = asFullPerson(q.data.data);
  const summary = asSummaryPerson(q.data.data);
  if (summary) return <SummaryView p={summary} />;
  // An embassy sees the person only in the consular projection: its page.
  if (!p) return <Navigate to={`/consular/nationals/${personId}`} replace />;
  return <PersonView p={p} etag={q.data.etag} reload={() => void q.refetch()} />;
}

/** The summary projection: what a summary grant shows, and nothing pretending to be more. */
function SummaryView({ p }: { p: PersonSummary }) {
  const { t } = useI18n();
  const country = useCountryName();
  return (
    <>
      <div className="page-head">
        <h1>{fullName(p)}</h1>
      </div>
      <p className="notice" role="note">
        {t("person.summaryNote")}
      </p>
      <section className="card" aria-labelledby="summary-h">
        <h2 id="summary-h">{t("person.identity")}</h2>
        <dl className="props">
          <dt>{t("person.sex")}</dt>
          <dd>{labelOf(t, sexLabels, p.sex)}</dd>
          <dt>{t("person.nationality")}</dt>
          <dd>{country(p.nationality)}</dd>
          <dt>{t("person.custody")}</dt>
          <dd>{labelOf(t, custodyLabels, p.custody_status)}</dd>
        </dl>
      </section>
      {p.cases.length > 0 && (
        <section aria-labelledby="cases-h">
          <h2 id="cases-h">{t("victims.cases")}</h2>
          <ul>
            {p.cases.map((c) => (
              <li key={c.case_id}>
                <Link to={`/cases/${c.case_id}`}>{c.reference}</Link> · {labelOf(t, linkRoleLabels, c.role)}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function PersonView({ p, etag, reload }: { p: Person; etag: string; reload: () => void }) {
  const { t, date, dateTime } = useI18n();
  const { can, isOwnAgency, hasRole } = useSession();
  const country = useCountryName();
  const facility = useFacilityLabel();
  // Persons are edited by the officers of the agency that recorded them.
  const canEdit = isOwnAgency(p.created_by_agency.id) && hasRole("officer", "supervisor");
  return (
    <>
      <div className="page-head">
        <h1>{fullName(p)}</h1>
        {canEdit && (
          <Link className="btn secondary" to={`/persons/${p.id}/edit`}>
            {t("person.edit")}
          </Link>
        )}
      </div>
      <div className="cards">
        <section className="card" aria-labelledby="identity-h">
          <h2 id="identity-h">{t("person.identity")}</h2>
          <dl className="props">
            <dt>{t("person.sex")}</dt>
            <dd>{labelOf(t, sexLabels, p.sex)}</dd>
            <dt>{t("person.dateOfBirth")}</dt>
            <dd>{date(p.date_of_birth)}</dd>
            <dt>{t("person.nationality")}</dt>
            <dd>{country(p.nationality)}</dd>
            <dt>{t("person.passport")}</dt>
            <dd>{p.passport_number || "—"}</dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="custody-h">
          <h2 id="custody-h">{t("person.custody")}</h2>
          <dl className="props">
            <dt>{t("person.custody")}</dt>
            <dd>{labelOf(t, custodyLabels, p.custody_status)}</dd>
            <dt>{t("person.facility")}</dt>
            <dd>{facility(p.facility)}</dd>
            <dt>{t("person.detainedAt")}</dt>
            <dd>{dateTime(p.detained_at)}</dd>
            {p.deported_at && (
              <>
                <dt>{t("person.deportedAt")}</dt>
                <dd>
                  {dateTime(p.deported_at)} {p.deported_via && `· ${p.deported_via}`}
                </dd>
              </>
            )}
            {p.entry_ban_until && (
              <>
                <dt>{t("person.entryBan")}</dt>
                <dd>{date(p.entry_ban_until)}</dd>
              </>
            )}
            <dt>{t("person.notification")}</dt>
            <dd>{labelOf(t, notificationLabels, p.consular_notification)}</dd>
          </dl>
        </section>
      </div>
      {p.cases.length > 0 && (
        <section aria-labelledby="cases-h">
          <h2 id="cases-h">{t("victims.cases")}</h2>
          <ul>
            {p.cases.map((c) => (
              <li key={c.case_id}>
                <Link to={`/cases/${c.case_id}`}>{c.reference}</Link> · {labelOf(t, linkRoleLabels, c.role)}
              </li>
            ))}
          </ul>
        </section>
      )}
      <Visits
        personId={p.id}
        canRequest={false}
        canAnswer={
          hasRole("officer", "supervisor") &&
          p.cases.some((c) => c.role === "detainee" || c.role === "suspect")
        }
      />
      <ScreeningSection
        p={p}
        etag={etag}
        reload={reload}
        canScreen={can("persons.screen")}
        ownerOfficer={canEdit}
      />
    </>
  );
}

function ScreeningSection({
  p,
  etag,
  reload,
  canScreen,
  ownerOfficer,
}: {
  p: Person;
  etag: string;
  reload: () => void;
  canScreen: boolean;
  ownerOfficer: boolean;
}) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [flag, setFlag] = useState<TraffickingFlag>(p.trafficking_flag);
  const save = useMutation({
    mutationFn: (body: Screening) =>
      unwrap(
        api.POST("/api/v1/persons/{id}/screening", {
          params: { path: { id: p.id }, header: { "If-Match": etag } },
          body,
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["person", p.id] }),
  });
  // Owner officers may only raise a suspicion; counter-trafficking decides.
  const choices: TraffickingFlag[] = canScreen ? valuesOf(traffickingLabels) : ["none", "suspected"];
  const editable = canScreen || (ownerOfficer && p.trafficking_flag === "none");
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const body: Screening = { trafficking_flag: flag };
    if (canScreen) {
      body.screening_notes = String(f.get("screening_notes") ?? "");
      body.victim_consents_to_embassy = f.get("victim_consents_to_embassy") === "on";
    }
    save.mutate(body);
  };
  const err = save.error;
  return (
    <section aria-labelledby="screening-h">
      <h2 id="screening-h">{t("screening.heading")}</h2>
      <dl className="props">
        <dt>{t("person.trafficking")}</dt>
        <dd>{labelOf(t, traffickingLabels, p.trafficking_flag)}</dd>
        {p.screening_notes !== "" && (
          <>
            <dt>{t("screening.notes")}</dt>
            <dd className="prewrap">{p.screening_notes}</dd>
          </>
        )}
        <dt>{t("screening.consent")}</dt>
        <dd>{p.victim_consents_to_embassy ? t("common.yes") : t("common.no")}</dd>
      </dl>
      {save.isSuccess && (
        <p className="alert ok" role="status">
          {t("screening.saved")}
        </p>
      )}
      {editable && (
        <form className="stack" onSubmit={submit} aria-labelledby="screening-form-h" key={etag}>
          <h3 id="screening-form-h">{t("screening.record")}</h3>
          <Field label={t("person.trafficking")} error={fieldError(err, "trafficking_flag")}>
            {(a) => (
              <select {...a} name="trafficking_flag" value={flag} onChange={(e) => setFlag(e.target.value as TraffickingFlag)}>
                {choices.map((c) => (
                  <option key={c} value={c}>
                    {t(traffickingLabels[c])}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {canScreen && (
            <>
              <Field label={t("screening.notes")} hint={t("screening.notesHint")} error={fieldError(err, "screening_notes")}>
                {(a) => <textarea {...a} name="screening_notes" rows={4} defaultValue={p.screening_notes} />}
              </Field>
              <div className="checkbox">
                <input
                  type="checkbox"
                  id="victim_consents_to_embassy"
                  name="victim_consents_to_embassy"
                  defaultChecked={p.victim_consents_to_embassy}
                />
                <label htmlFor="victim_consents_to_embassy">{t("screening.consentLabel")}</label>
              </div>
            </>
          )}
          {save.isError && <ErrorMessage error={save.error} onReload={reload} />}
          <div className="btn-row">
            <button type="submit" className="btn" disabled={save.isPending}>
              {t("screening.submit")}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
