// The persons linked to a case.
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { custodyLabels, fullName, linkRoleLabels, traffickingLabels, useCountryName, type CasePerson } from "./personTypes";

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
  const unlink = useMutation({
    mutationFn: (personId: string) =>
      unwrap(api.DELETE("/api/v1/cases/{id}/persons/{person_id}", { params: { path: { id: caseId, person_id: personId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["case", caseId] }),
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
                          onClick={() => unlink.mutate(p.id)}
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
      {unlink.isError && <ErrorMessage error={unlink.error} />}
      {canEdit && (
        <p>
          <Link className="btn secondary" to={`/cases/${caseId}/persons/new`}>
            {t("persons.add")}
          </Link>
        </p>
      )}
    </>
  );
}
