// The persons linked to a case.
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
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
  type CasePerson,
  type LinkRole,
} from "./personTypes";

export function useCasePersons(caseId: string, enabled: boolean) {
  return useQuery({
    queryKey: ["case", caseId, "persons"],
    enabled,
    queryFn: async () => {
      const all: CasePerson[] = [];
      let cursor = "";
      // A case links a handful of persons, a raid a few hundred: fetch all pages.
      for (let i = 0; i < 20; i++) {
        const page = await unwrap(
          api.GET("/api/v1/cases/{id}/persons", {
            params: { path: { id: caseId }, query: { limit: 200, ...(cursor ? { cursor } : {}) } },
          }),
        );
        all.push(...page.items);
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return all;
    },
  });
}

export function CasePersons({
  caseId,
  q,
  canEdit,
}: {
  caseId: string;
  q: UseQueryResult<CasePerson[]>;
  canEdit: boolean;
}) {
  const { t } = useI18n();
  const country = useCountryName();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState<{ id: string; name: string; lastCase: boolean } | null>(null);
  const unlink = useMutation({
    mutationFn: (personId: string) =>
      unwrap(api.DELETE("/api/v1/cases/{id}/persons/{person_id}", { params: { path: { id: caseId, person_id: personId } } })),
    onSuccess: () => {
      setConfirming(null);
      void qc.invalidateQueries({ queryKey: ["case", caseId] });
    },
  });
  return (
    <>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess &&
        (q.data.length === 0 ? (
          <p className="muted">{t("persons.none")}</p>
        ) : (
          <div className="table-wrap">
            <table>
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
                {q.data.map(({ person: p, role }) => (
                  <tr key={p.id}>
                    <td>
                      <Link to={`/persons/${p.id}`}>{fullName(p)}</Link>
                    </td>
                    <td>{labelOf(t, linkRoleLabels, role)}</td>
                    <td>{country(p.nationality)}</td>
                    <td>{labelOf(t, custodyLabels, p.custody_status)}</td>
                    <td>
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
                            setConfirming({ id: p.id, name: fullName(p), lastCase: "cases" in p && Array.isArray(p.cases) && p.cases.length <= 1 })
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
        ))}
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
      {canEdit && <LinkExisting caseId={caseId} linked={new Set(q.data?.map((x) => x.person.id) ?? [])} />}
    </>
  );
}

/**
 * Link a person already recorded: search by name, passport number or
 * nationality (server-side), so duplicates show before a new person is
 * recorded; "record a new person" comes after the search.
 */
function LinkExisting({ caseId, linked }: { caseId: string; linked: Set<string> }) {
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
                    {linked.has(p.id) ? (
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
