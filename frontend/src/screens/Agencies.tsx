// Admin: the agencies that take part; register one, enable or disable one
// (a disabled agency's users cannot sign in).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import type { BodyOf, ResponseOf } from "../api/types";
import { useTitle } from "../app/title";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { CountryPicker } from "../components/CountryPicker";
import { Field } from "../components/Field";
import { agencyKindLabels, labelOf, valuesOf, type AgencyKind } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import { useCountryName } from "./personTypes";

type Agency = ResponseOf<"/api/v1/agencies", "get">["items"][number];
type NewAgency = BodyOf<"/api/v1/agencies", "post">;

/** The ETag of an agency's version, as the API documents it ("<id>-<version>"). */
const etagOf = (a: Agency) => `"${a.id}-${a.version}"`;

export function Agencies() {
  const { t } = useI18n();
  useTitle(t("agencies.title"));
  const country = useCountryName();
  const qc = useQueryClient();
  // A few hundred agencies at most: one list, not paged.
  const q = useQuery({
    queryKey: ["agencies"],
    queryFn: () => unwrap(api.GET("/api/v1/agencies")),
  });
  const toggle = useMutation({
    mutationFn: (a: Agency) =>
      unwrap(
        api.PATCH("/api/v1/agencies/{id}", {
          params: { path: { id: a.id }, header: { "If-Match": etagOf(a) } },
          body: { enabled: !a.enabled },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["agencies"] }),
  });
  return (
    <>
      <h1>{t("agencies.title")}</h1>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {toggle.isError && (
        <ErrorMessage
          error={toggle.error}
          onReload={() => {
            toggle.reset();
            void q.refetch();
          }}
        />
      )}
      {q.isSuccess && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t("agencies.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("agencies.code")}</th>
                <th scope="col">{t("agencies.name")}</th>
                <th scope="col">{t("agencies.nameKm")}</th>
                <th scope="col">{t("agencies.kind")}</th>
                <th scope="col">{t("agencies.country")}</th>
                <th scope="col">{t("agencies.enabled")}</th>
              </tr>
            </thead>
            <tbody>
              {q.data.items.map((a) => (
                <tr key={a.id}>
                  <td>
                    <code>{a.code}</code>
                  </td>
                  <td>{a.name}</td>
                  <td>
                    <KhmerNameForm a={a} />
                  </td>
                  <td>{labelOf(t, agencyKindLabels, a.kind)}</td>
                  <td>{a.country ? country(a.country) : "—"}</td>
                  <td>
                    {a.enabled ? t("common.yes") : t("common.no")}{" "}
                    <button
                      type="button"
                      className="btn secondary"
                      disabled={toggle.isPending}
                      onClick={() => toggle.mutate(a)}
                    >
                      {a.enabled ? t("agencies.disable") : t("agencies.enable")}
                      <span className="visually-hidden">: {a.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NewAgencyForm />
    </>
  );
}

/** The agency's Khmer name, edited in place (PATCH name_km with If-Match). */
function KhmerNameForm({ a }: { a: Agency }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (name_km: string) =>
      unwrap(
        api.PATCH("/api/v1/agencies/{id}", {
          params: { path: { id: a.id }, header: { "If-Match": etagOf(a) } },
          body: { name_km },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["agencies"] }),
  });
  return (
    <form
      className="inline-form"
      aria-label={`${t("agencies.editNameKm")}: ${a.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(String(new FormData(e.currentTarget).get("name_km") ?? "").trim());
      }}
    >
      <Field label={t("agencies.editNameKm")} error={fieldError(save.error, "name_km")}>
        {(p) => <input {...p} name="name_km" lang="km" defaultValue={a.name_km} maxLength={200} placeholder={t("agencies.nameKmMissing")} />}
      </Field>
      <button type="submit" className="btn secondary" disabled={save.isPending}>
        {t("agencies.saveNameKm")}
        <span className="visually-hidden">: {a.name}</span>
      </button>
      {save.isSuccess && (
        <span role="status" className="muted">
          {t("agencies.savedNameKm", { name: a.name })}
        </span>
      )}
      {save.isError && !fieldError(save.error, "name_km") && <ErrorMessage error={save.error} />}
    </form>
  );
}

function NewAgencyForm() {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [kind, setKind] = useState<AgencyKind>("embassy");
  const create = useMutation({
    mutationFn: (body: NewAgency) => unwrap(api.POST("/api/v1/agencies", { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["agencies"] }),
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const s = (k: string) => String(f.get(k) ?? "").trim();
    const body: NewAgency = { code: s("code").toLowerCase(), name: s("name"), kind, enabled: true };
    if (s("name_km")) body.name_km = s("name_km");
    if (kind === "embassy") body.country = s("country").toUpperCase();
    create.mutate(body, { onSuccess: () => form.reset() });
  };
  const err = create.error;
  return (
    <form className="stack" onSubmit={submit} aria-labelledby="new-agency-h" noValidate>
      <h2 id="new-agency-h">{t("agencies.new")}</h2>
      <div className="grid2">
        <Field label={t("agencies.code")} hint={t("agencies.codeHint")} error={fieldError(err, "code")}>
          {(p) => <input {...p} name="code" required maxLength={40} />}
        </Field>
        <Field label={t("agencies.name")} error={fieldError(err, "name")}>
          {(p) => <input {...p} name="name" required maxLength={200} />}
        </Field>
        <Field label={t("agencies.nameKm")} hint={t("agencies.nameKmHint")} error={fieldError(err, "name_km")}>
          {(p) => <input {...p} name="name_km" lang="km" maxLength={200} />}
        </Field>
        <Field label={t("agencies.kind")} error={fieldError(err, "kind")}>
          {(p) => (
            <select {...p} name="kind" value={kind} onChange={(e) => setKind(e.target.value as AgencyKind)}>
              {valuesOf(agencyKindLabels).map((k) => (
                <option key={k} value={k}>
                  {t(agencyKindLabels[k])}
                </option>
              ))}
            </select>
          )}
        </Field>
        {kind === "embassy" && (
          <CountryPicker
            label={t("agencies.country")}
            hint={t("person.nationalityHint")}
            name="country"
            required
            error={fieldError(err, "country")}
          />
        )}
      </div>
      {create.isError && <ErrorMessage error={create.error} />}
      {create.isSuccess && (
        <p className="alert ok" role="status">
          {t("agencies.created", { name: create.data.name })}
        </p>
      )}
      <div className="btn-row">
        <button type="submit" className="btn" disabled={create.isPending}>
          {t("agencies.create")}
        </button>
      </div>
    </form>
  );
}
