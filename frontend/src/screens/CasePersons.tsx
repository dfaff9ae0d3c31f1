// The persons linked to a case.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ConfirmBox } from "../components/ConfirmBox";
import { Field } from "../components/Field";
import { CountryPicker } from "../components/CountryPicker";
import { api, unwrap } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { valuesOf } from "../i18n/enums";
import {
  custodyLabels,
  fullName,
  linkRoleLabels,
  traffickingLabels,
  useCountryName,
  type LinkRole,
} from "./personTypes";

/** The page size of a case's persons: a raid links hundreds (the Tuol Kork case 225). */
export const casePersonsPageSize = 25;

/** One page of a case's persons, searched by name on the server (`q`). */
export function useCasePersonsPage(caseId: string, q: string, cursor: string) {
  return useQuery({
    queryKey: ["case", caseId, "persons", { q, cursor }],
    placeholderData: keepPreviousData,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/cases/{id}/persons", {
          params: {
            path: { id: caseId },
            query: { limit: casePersonsPageSize, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) },
          },
        }),
      ),
  });
}

export function CasePersons({ caseId, total, canEdit }: { caseId: string; total: number | undefined; canEdit: boolean }) {
  const { t, number } = useI18n();
  const country = useCountryName();
  const qc = useQueryClient();
  const [q, setQ] = useState("");
  // The cursors of the pages before this one, so "Previous" goes back.
  const [cursors, setCursors] = useState<string[]>([""]);
  const cursor = cursors[cursors.length - 1] ?? "";
  const page = useCasePersonsPage(caseId, q, cursor);
  const [confirming, setConfirming] = useState<{ id: string; name: string; lastCase: boolean } | null>(null);
  const unlink = useMutation({
    mutationFn: (personId: string) =>
      unwrap(api.DELETE("/api/v1/cases/{id}/persons/{person_id}", { params: { path: { id: caseId, person_id: personId } } })),
    onSuccess: () => {
      setConfirming(null);
      void qc.invalidateQueries({ queryKey: ["case", caseId] });
    },
  });
  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setQ(String(new FormData(e.currentTarget).get("q") ?? "").trim());
    setCursors([""]);
  };
  const items = page.data?.items ?? [];
  const first = (cursors.length - 1) * casePersonsPageSize + 1;
  return (
    <>
      <form className="filters" role="search" aria-label={t("persons.searchCase")} onSubmit={search}>
        <Field label={t("persons.searchCase")} hint={t("persons.searchCaseHint")}>
          {(a) => <input {...a} name="q" type="search" autoComplete="off" defaultValue={q} />}
        </Field>
        <button type="submit" className="btn secondary">
          {t("persons.search")}
        </button>
        {q && (
          <button
            type="button"
            className="btn secondary"
            onClick={() => {
              setQ("");
              setCursors([""]);
            }}
          >
            {t("persons.searchClear")}
          </button>
        )}
      </form>
      {page.isPending && <p className="spinner">{t("common.loading")}</p>}
      {page.isError && <ErrorMessage error={page.error} />}
      {page.isSuccess &&
        (items.length === 0 ? (
          <p className="muted" data-testid="persons-none">{q ? t("persons.searchCaseNone", { q }) : t("persons.none")}</p>
        ) : (
          <>
            <p className="muted" role="status" data-testid="persons-range">
              {page.isPlaceholderData
                ? t("common.loading") // the previous page stays on screen until this one arrives
                : q
                ? t("persons.rangeSearch", { from: number(first), to: number(first + items.length - 1), q })
                : total === undefined
                  ? t("persons.rangePage", { from: number(first), to: number(first + items.length - 1) })
                  : t("persons.range", { from: number(first), to: number(first + items.length - 1), total: number(total) })}
            </p>
            <div className="table-wrap">
              <table className="cardable">
                <caption className="visually-hidden">{t("case.persons")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("person.name")}</th>
                    <th scope="col">{t("person.role")}</th>
                    <th scope="col">{t("person.nationality")}</th>
                    <th scope="col">{t("person.custody")}</th>
                    <th scope="col">{t("person.trafficking")}</th>
                    {canEdit && (
                      <th scope="col">
                        <span className="visually-hidden">{t("persons.unlink")}</span>
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {items.map(({ person: p, role }) => (
                    <tr key={p.id}>
                      <td data-label={t("person.name")}>
                        <Link to={`/persons/${p.id}`}>{fullName(p)}</Link>
                      </td>
                      <td data-label={t("person.role")}>{labelOf(t, linkRoleLabels, role)}</td>
                      <td data-label={t("person.nationality")}>{country(p.nationality)}</td>
                      <td data-label={t("person.custody")}>{labelOf(t, custodyLabels, p.custody_status)}</td>
                      <td data-label={t("person.trafficking")}>
                        {!("trafficking_flag" in p) ? (
                          <span className="muted" title={t("person.summaryOnly")}>
                            —<span className="visually-hidden"> {t("person.summaryOnly")}</span>
                          </span>
                        ) : p.trafficking_flag !== "none" ? (
                          <span className="badge flag">{labelOf(t, traffickingLabels, p.trafficking_flag)}</span>
                        ) : (
                          labelOf(t, traffickingLabels, p.trafficking_flag)
                        )}
                      </td>
                      {canEdit && (
                        <td>
                          <button
                            type="button"
                            className="btn secondary"
                            disabled={unlink.isPending}
                            onClick={() =>
                              setConfirming({
                                id: p.id,
                                name: fullName(p),
                                lastCase: "cases" in p && Array.isArray(p.cases) && p.cases.length <= 1,
                              })
                            }
                          >
                            {t("persons.unlink")}
                            <span className="visually-hidden">: {fullName(p)}</span>
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ))}
      {(cursors.length > 1 || page.data?.next_cursor) && (
        <nav className="pager" aria-label={t("persons.pages")}>
          {cursors.length > 1 && (
            <button type="button" className="btn secondary" onClick={() => setCursors((c) => c.slice(0, -1))}>
              {t("pager.previous")}
            </button>
          )}
          {page.data?.next_cursor && (
            <button
              type="button"
              className="btn secondary"
              disabled={page.isFetching}
              onClick={() => {
                const next = page.data?.next_cursor;
                if (next) setCursors((c) => [...c, next]);
              }}
            >
              {t("pager.next")}
            </button>
          )}
        </nav>
      )}
      {confirming && (
        <ConfirmBox
          title={t("persons.unlinkConfirm.title", { name: confirming.name })}
          body={confirming.lastCase ? t("persons.unlinkConfirm.lastCase") : t("persons.unlinkConfirm.body")}
          confirm={t("persons.unlinkConfirm.yes")}
          busy={unlink.isPending}
          onConfirm={() => unlink.mutate(confirming.id)}
          onCancel={() => setConfirming(null)}
        />
      )}
      {unlink.isError && <ErrorMessage error={unlink.error} />}
      {canEdit && <LinkExisting caseId={caseId} />}
    </>
  );
}

/**
 * Link a person already recorded: search by name, passport number or
 * nationality (server-side), so duplicates show before a new person is
 * recorded; "record a new person" comes after the search.
 */
function LinkExisting({ caseId }: { caseId: string }) {
  const { t, date } = useI18n();
  const country = useCountryName();
  const qc = useQueryClient();
  const [search, setSearch] = useState<{ q: string; passport: string; nationality: string } | null>(null);
  const [role, setRole] = useState<LinkRole>("detainee");
  const [nationality, setNationality] = useState("");
  const results = useQuery({
    queryKey: ["persons", "search", search],
    enabled: search !== null,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/persons", {
          params: {
            query: {
              limit: 20,
              ...(search?.q ? { q: search.q } : {}),
              ...(search?.passport ? { passport: search.passport } : {}),
              ...(search?.nationality ? { nationality: search.nationality } : {}),
            },
          },
        }),
      ),
  });
  const link = useMutation({
    mutationFn: (personId: string) =>
      unwrap(api.POST("/api/v1/cases/{id}/persons", { params: { path: { id: caseId } }, body: { person_id: personId, role } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["case", caseId] }),
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setSearch({ q: String(f.get("q") ?? "").trim(), passport: String(f.get("passport") ?? "").trim(), nationality });
  };
  return (
    <section aria-labelledby="link-h" className="link-existing">
      <h3 id="link-h">{t("persons.linkExisting")}</h3>
      <p className="hint">{t("persons.linkHint")}</p>
      <form className="filters" onSubmit={submit} role="search" aria-labelledby="link-h">
        <Field label={t("persons.searchName")}>{(a) => <input {...a} name="q" type="search" autoComplete="off" />}</Field>
        <Field label={t("person.passport")}>{(a) => <input {...a} name="passport" autoComplete="off" />}</Field>
        <CountryPicker label={t("person.nationality")} value={nationality} onChange={setNationality} optional />
        <div className="btn-row">
          <button type="submit" className="btn secondary">
            {t("persons.search")}
          </button>
        </div>
      </form>
      {results.isFetching && <p className="spinner">{t("common.loading")}</p>}
      {results.isError && <ErrorMessage error={results.error} />}
      {results.isSuccess && (
        <div aria-live="polite">
          {results.data.items.length === 0 ? (
            <p data-testid="link-none">{t("persons.searchNone")}</p>
          ) : (
            <>
              <p className="notice" role="note">
                {t("persons.searchFound", { n: results.data.items.length })}
              </p>
              <Field label={t("person.role")}>
                {(a) => (
                  <select {...a} value={role} onChange={(e) => setRole(e.target.value as LinkRole)}>
                    {valuesOf(linkRoleLabels).map((r) => (
                      <option key={r} value={r}>
                        {t(linkRoleLabels[r])}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <ul className="result-list" data-testid="link-results">
                {results.data.items.map((p) => (
                  <li key={p.id} className="card">
                    <Link to={`/persons/${p.id}`}>{fullName(p)}</Link>
                    <span className="muted">
                      {" "}
                      · {country(p.nationality)} · {p.passport_number || "—"} · {date(p.date_of_birth)} ·{" "}
                      {p.cases.map((c) => c.reference).join(", ") || t("persons.noCase")}
                    </span>{" "}
                    {p.cases.some((c) => c.case_id === caseId) ? (
                      <span className="badge">{t("persons.alreadyLinked")}</span>
                    ) : (
                      <button type="button" className="btn" disabled={link.isPending} onClick={() => link.mutate(p.id)}>
                        {t("persons.linkThis")}
                        <span className="visually-hidden">: {fullName(p)}</span>
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </>
          )}
          {link.isError && <ErrorMessage error={link.error} />}
        </div>
      )}
      <p>
        <Link className="btn secondary" to={`/cases/${caseId}/persons/new`}>
          {t("persons.add")}
        </Link>
      </p>
    </section>
  );
}
