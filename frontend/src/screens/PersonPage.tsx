// One person: identity, custody, and the trafficking screening, which
// counter-trafficking officers (and, for "suspected" only, the owner
// agency's officers) may record.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
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
  passportStatusLabels,
  sexLabels,
  workPermitLabels,
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
            {(p.family_name_native || p.given_names_native) && (
              <>
                <dt>{t("person.nativeName")}</dt>
                <dd lang="und">{[p.family_name_native, p.given_names_native].join(" ").trim()}</dd>
              </>
            )}
            <dt>{t("person.passport")}</dt>
            <dd>{p.passport_number || "—"}</dd>
            <dt>{t("person.passportStatus")}</dt>
            <dd data-testid="passport-status">
              {labelOf(t, passportStatusLabels, p.passport_status)}
              {p.passport_expires_on && ` · ${t("person.passportExpires")} ${date(p.passport_expires_on)}`}
            </dd>
            <dt>{t("person.workPermit")}</dt>
            <dd>
              {p.work_permit_number || "—"} · {labelOf(t, workPermitLabels, p.work_permit_status)}
            </dd>
            <dt>{t("person.address")}</dt>
            <dd className="prewrap">{p.address || "—"}</dd>
            {"asylum_claimed" in p && (
              <>
                <dt>{t("person.asylum")}</dt>
                <dd data-testid="asylum">{p.asylum_claimed ? t("person.asylumYes") : t("common.no")}</dd>
              </>
            )}
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
                <dd>{dateTime(p.deported_at)}</dd>
                {p.deported_via && (
                  <>
                    <dt>{t("deport.route")}</dt>
                    <dd>{routeLabel(t, p.deported_via)}</dd>
                  </>
                )}
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
      {canEdit && p.custody_status !== "deported" && <DeportationSection p={p} etag={etag} reload={reload} />}
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

type Route = "airport" | "land";
const routeKeys = { airport: "deport.route.airport", land: "deport.route.land" } as const;

/** "airport: Phnom Penh International" as shown: the kind translated. */
function routeLabel(t: ReturnType<typeof useI18n>["t"], via: string): string {
  const m = /^(airport|land):\s*(.*)$/.exec(via);
  return m ? `${t(routeKeys[m[1] as Route])} · ${m[2]}` : via;
}

/** Whether recording a deportation is refused by the non-punishment principle. */
export function nonPunishmentApplies(p: Person): boolean {
  return (p.trafficking_flag === "suspected" || p.trafficking_flag === "identified") && !p.ct_proceedings_cleared;
}

/** Record a deportation: when, by which route (airport or land checkpoint, and which), and any entry ban. */
function DeportationSection({ p, etag, reload }: { p: Person; etag: string; reload: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [route, setRoute] = useState<Route>("airport");
  const save = useMutation({
    mutationFn: (body: BodyOf<"/api/v1/persons/{id}", "patch">) =>
      unwrap(api.PATCH("/api/v1/persons/{id}", { params: { path: { id: p.id }, header: { "If-Match": etag } }, body })),
    onSuccess: () => {
      setOpen(false);
      void qc.invalidateQueries({ queryKey: ["person", p.id] });
    },
  });
  const blocked = nonPunishmentApplies(p);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const at = String(f.get("deported_at") ?? "");
    const where = String(f.get("deported_place") ?? "").trim();
    const ban = String(f.get("entry_ban_until") ?? "");
    save.mutate({
      custody_status: "deported",
      deported_at: at ? new Date(`${at}T12:00:00Z`).toISOString() : null,
      deported_via: where ? `${route}: ${where}` : "",
      entry_ban_until: ban || null,
    });
  };
  const err = save.error;
  return (
    <section aria-labelledby="deport-h" id="deportation">
      <h2 id="deport-h">{t("deport.heading")}</h2>
      {blocked && (
        <p className="notice" role="note" data-testid="non-punishment">
          {t("deport.nonPunishment")}
        </p>
      )}
      {!open ? (
        <button type="button" className="btn secondary" onClick={() => setOpen(true)}>
          {t("deport.open")}
        </button>
      ) : (
        <form className="stack" onSubmit={submit} aria-labelledby="deport-form-h">
          <h3 id="deport-form-h">{t("deport.record")}</h3>
          <Field label={t("deport.date")} error={fieldError(err, "deported_at")}>
            {(a) => <input {...a} type="date" name="deported_at" required />}
          </Field>
          <fieldset>
            <legend>{t("deport.route")}</legend>
            {(["airport", "land"] as const).map((r) => (
              <div className="checkbox" key={r}>
                <input type="radio" id={`route-${r}`} name="route" value={r} checked={route === r} onChange={() => setRoute(r)} />
                <label htmlFor={`route-${r}`}>{t(routeKeys[r])}</label>
              </div>
            ))}
          </fieldset>
          <Field
            label={route === "airport" ? t("deport.whichAirport") : t("deport.whichCheckpoint")}
            error={fieldError(err, "deported_via")}
          >
            {(a) => (
              <input {...a} name="deported_place" required maxLength={180} list={`deport-places-${route}`} autoComplete="off" />
            )}
          </Field>
          <datalist id="deport-places-airport">
            <option value="Phnom Penh International Airport" />
            <option value="Siem Reap–Angkor International Airport" />
            <option value="Sihanouk International Airport" />
          </datalist>
          <datalist id="deport-places-land">
            <option value="Bavet" />
            <option value="Poipet" />
            <option value="Cham Yeam" />
            <option value="Trapeang Kriel" />
          </datalist>
          <Field label={t("deport.entryBan")} hint={t("deport.entryBanHint")} error={fieldError(err, "entry_ban_until")}>
            {(a) => <input {...a} type="date" name="entry_ban_until" />}
          </Field>
          {save.isError && <ErrorMessage error={save.error} onReload={reload} />}
          <div className="btn-row">
            <button type="submit" className="btn" disabled={save.isPending}>
              {t("deport.submit")}
            </button>
            <button type="button" className="btn secondary" onClick={() => setOpen(false)}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      )}
    </section>
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
  const { me } = useSession();
  const qc = useQueryClient();
  const [flag, setFlag] = useState<TraffickingFlag>(p.trafficking_flag);
  const [reasonMissing, setReasonMissing] = useState(false);
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
      let notes = String(f.get("screening_notes") ?? "");
      body.victim_consents_to_embassy = f.get("victim_consents_to_embassy") === "on";
      const decision = f.get("ct_decision") === "cleared";
      const reason = String(f.get("ct_reason") ?? "").trim();
      const flagged = p.trafficking_flag === "suspected" || p.trafficking_flag === "identified";
      const clearsVictim = flagged && flag === "cleared";
      if (decision !== p.ct_proceedings_cleared || clearsVictim) {
        if (!reason) {
          setReasonMissing(true);
          return;
        }
        if (decision !== p.ct_proceedings_cleared) body.ct_proceedings_cleared = decision;
        if (decision || clearsVictim) {
          // The server keeps the decision and its reason as a row of the
          // screening history (never shown to the embassy).
          body.reason = reason;
        } else {
          // Holding the proceedings again is not a decision row: its
          // reason goes into the notes, dated and signed.
          const line = `[${new Date().toISOString().slice(0, 10)} ${me.user.name}] ${decisionMarks.held}: ${reason}`;
          notes = notes.trim() ? `${notes.trimEnd()}\n${line}` : line;
        }
      }
      setReasonMissing(false);
      body.screening_notes = notes;
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
        <dt>{t("screening.consent")}</dt>
        <dd>{p.victim_consents_to_embassy ? t("common.yes") : t("common.no")}</dd>
        <dt>{t("screening.decision")}</dt>
        <dd data-testid="ct-decision">
          {p.ct_proceedings_cleared ? t("screening.decision.cleared") : t("screening.decision.held")}
        </dd>
      </dl>
      <ScreeningHistory personId={p.id} version={p.version} notes={p.screening_notes} />
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
              <fieldset>
                <legend>{t("screening.decision")}</legend>
                <p className="hint">{t("screening.decisionHint")}</p>
                {(["held", "cleared"] as const).map((d) => (
                  <div className="checkbox" key={d}>
                    <input
                      type="radio"
                      id={`ct-${d}`}
                      name="ct_decision"
                      value={d}
                      defaultChecked={(d === "cleared") === p.ct_proceedings_cleared}
                    />
                    <label htmlFor={`ct-${d}`}>{t(`screening.decision.${d}`)}</label>
                  </div>
                ))}
              </fieldset>
              <Field
                label={t("screening.reason")}
                hint={t("screening.reasonHint")}
                error={reasonMissing ? t("apicode.validation.required") : undefined}
              >
                {(a) => <textarea {...a} name="ct_reason" rows={2} />}
              </Field>
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

/** Marks of a decision line in the notes (language-neutral, translated when shown). */
const decisionMarks = { cleared: "DECISION proceedings may go on", held: "DECISION proceedings held" } as const;

/** The screening notes as a history: decision lines (dated, signed) stand out. */
function ScreeningHistory({ personId, version, notes }: { personId: string; version: number; notes: string }) {
  const { t, dateTime } = useI18n();
  // Counter-trafficking's decisions, each its own row with its reason.
  const decisions = useQuery({
    queryKey: ["screening-history", personId, version],
    queryFn: () =>
      unwrap(api.GET("/api/v1/persons/{id}/screening/history", { params: { path: { id: personId } } })),
    retry: false,
  });
  const items = decisions.data?.items ?? [];
  const lines = notes.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0 && items.length === 0) return null;
  return (
    <div>
      <h3>{t("screening.history")}</h3>
      <ul className="history" data-testid="screening-history">
        {items.map((d) => (
          <li key={d.id}>
            <strong>{t(decisionKindLabels[d.decision])}</strong> · {dateTime(d.decided_at)} · {d.decided_by} (
            {d.agency.name})
            <br />
            {t("screening.reason")}: {d.reason}
          </li>
        ))}
        {lines.map((l, i) => {
          const m = /^\[(\S+) ([^\]]*)\] (DECISION proceedings may go on|DECISION proceedings held): (.*)$/.exec(l);
          if (!m) return <li key={`n${i}`} className="prewrap">{l}</li>;
          const cleared = m[3] === decisionMarks.cleared;
          return (
            <li key={`n${i}`}>
              <strong>{cleared ? t("screening.decision.cleared") : t("screening.decision.held")}</strong> · {m[1]} · {m[2]}
              <br />
              {t("screening.reason")}: {m[4]}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

const decisionKindLabels = {
  cleared: "screening.decisionKind.cleared",
  identified_victim: "screening.decisionKind.identified_victim",
  no_objection_to_proceedings: "screening.decision.cleared",
} as const;
