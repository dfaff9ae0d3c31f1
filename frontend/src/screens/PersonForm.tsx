// Record a person in a case (create, then link), or edit one (If-Match).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { Link, Navigate, useNavigate, useParams } from "react-router";
import { api, unwrap, unwrapWithETag } from "../api/client";
import type { BodyOf } from "../api/types";
import { useTitle } from "../app/title";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { CountryPicker } from "../components/CountryPicker";
import { Field, type ControlProps } from "../components/Field";
import { valuesOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import {
  asFullPerson,
  custodyLabels,
  sexLabels,
  type CustodyStatus,
  type Person,
  passportStatusLabels,
  type PassportStatus,
  type Sex,
  workPermitLabels,
  type WorkPermitStatus,
} from "./personTypes";

type NewPersonBody = BodyOf<"/api/v1/persons", "post">;
type PatchBody = BodyOf<"/api/v1/persons/{id}", "patch">;

function read(form: HTMLFormElement) {
  const f = new FormData(form);
  const s = (k: string) => String(f.get(k) ?? "").trim();
  const detained = s("detained_at");
  return {
    family_name: s("family_name"),
    given_names: s("given_names"),
    sex: s("sex") as Sex,
    date_of_birth: s("date_of_birth") || null,
    nationality: s("nationality").toUpperCase(),
    passport_number: s("passport_number"),
    family_name_native: s("family_name_native"),
    given_names_native: s("given_names_native"),
    passport_status: (s("passport_status") || "unknown") as PassportStatus,
    passport_expires_on: s("passport_expires_on") || null,
    work_permit_number: s("work_permit_number"),
    work_permit_status: (s("work_permit_status") || "unknown") as WorkPermitStatus,
    address: s("address"),
    asylum_claimed: f.get("asylum_claimed") === "on",
    custody_status: s("custody_status") as CustodyStatus,
    facility: s("facility"),
    detained_at: detained ? new Date(detained).toISOString() : null,
  };
}

function localDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The managed list of facilities (GET /api/v1/facilities), each with its kind. */
function FacilityPicker({ attrs, value }: { attrs: ControlProps; value: string }) {
  const { t } = useI18n();
  const q = useQuery({
    queryKey: ["facilities"],
    queryFn: () => unwrap(api.GET("/api/v1/facilities")),
    staleTime: 5 * 60_000,
  });
  if (!q.isSuccess) {
    // Until the list arrives, keep the current value so a save does not clear it.
    return (
      <select {...attrs} name="facility" defaultValue={value} disabled={q.isPending}>
        <option value={value}>{value || t("person.facility.none")}</option>
      </select>
    );
  }
  return (
    <select {...attrs} name="facility" defaultValue={value}>
      <option value="">{t("person.facility.none")}</option>
      {q.data.items.map((f) => (
        <option key={f.id} value={f.name}>
          {f.name} ({t(facilityKindLabels[f.kind])})
        </option>
      ))}
    </select>
  );
}

const facilityKindLabels = {
  detention_centre: "enum.facilityKind.detention_centre",
  police_station: "enum.facilityKind.police_station",
  prison: "enum.facilityKind.prison",
  shelter: "enum.facilityKind.shelter",
  other: "enum.facilityKind.other",
} as const;

function PersonFields({ p, error }: { p?: Person; error: unknown }) {
  const { t } = useI18n();
  return (
    <>
      <div className="grid2">
        <Field label={t("person.familyName")} error={fieldError(error, "family_name")}>
          {(a) => <input {...a} name="family_name" required maxLength={200} defaultValue={p?.family_name ?? ""} />}
        </Field>
        <Field label={t("person.givenNames")} error={fieldError(error, "given_names")}>
          {(a) => <input {...a} name="given_names" maxLength={200} defaultValue={p?.given_names ?? ""} />}
        </Field>
        <Field label={t("person.sex")} error={fieldError(error, "sex")}>
          {(a) => (
            <select {...a} name="sex" defaultValue={p?.sex ?? "unknown"}>
              {valuesOf(sexLabels).map((s) => (
                <option key={s} value={s}>
                  {t(sexLabels[s])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("person.dateOfBirth")} error={fieldError(error, "date_of_birth")}>
          {(a) => <input {...a} type="date" name="date_of_birth" defaultValue={p?.date_of_birth ?? ""} />}
        </Field>
        <CountryPicker
          label={t("person.nationality")}
          hint={t("person.nationalityHint")}
          name="nationality"
          required
          defaultValue={p?.nationality ?? ""}
          error={fieldError(error, "nationality")}
        />
        <Field label={t("person.passport")} error={fieldError(error, "passport_number")}>
          {(a) => <input {...a} name="passport_number" maxLength={40} defaultValue={p?.passport_number ?? ""} />}
        </Field>
        <Field label={t("person.custody")} error={fieldError(error, "custody_status")}>
          {(a) => (
            <select {...a} name="custody_status" defaultValue={p?.custody_status ?? "detained"}>
              {valuesOf(custodyLabels).map((s) => (
                <option key={s} value={s}>
                  {t(custodyLabels[s])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("person.facility")} error={fieldError(error, "facility")}>
          {(a) => <FacilityPicker attrs={a} value={p?.facility ?? ""} />}
        </Field>
        <Field label={t("person.detainedAt")} error={fieldError(error, "detained_at")}>
          {(a) => <input {...a} type="datetime-local" name="detained_at" defaultValue={localDateTime(p?.detained_at)} />}
        </Field>
      </div>
      <div className="grid2">
        <Field label={t("person.familyNameNative")} error={fieldError(error, "family_name_native")}>
          {(a) => <input {...a} name="family_name_native" maxLength={200} defaultValue={p?.family_name_native ?? ""} />}
        </Field>
        <Field label={t("person.givenNamesNative")} error={fieldError(error, "given_names_native")}>
          {(a) => <input {...a} name="given_names_native" maxLength={200} defaultValue={p?.given_names_native ?? ""} />}
        </Field>
        <Field label={t("person.passportStatus")} error={fieldError(error, "passport_status")}>
          {(a) => (
            <select {...a} name="passport_status" defaultValue={p?.passport_status ?? "unknown"}>
              {valuesOf(passportStatusLabels).map((v) => (
                <option key={v} value={v}>
                  {t(passportStatusLabels[v])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("person.passportExpires")} error={fieldError(error, "passport_expires_on")}>
          {(a) => <input {...a} type="date" name="passport_expires_on" defaultValue={p?.passport_expires_on ?? ""} />}
        </Field>
        <Field label={t("person.workPermit")} error={fieldError(error, "work_permit_number")}>
          {(a) => <input {...a} name="work_permit_number" maxLength={40} defaultValue={p?.work_permit_number ?? ""} />}
        </Field>
        <Field label={t("person.workPermitStatus")} error={fieldError(error, "work_permit_status")}>
          {(a) => (
            <select {...a} name="work_permit_status" defaultValue={p?.work_permit_status ?? "unknown"}>
              {valuesOf(workPermitLabels).map((v) => (
                <option key={v} value={v}>
                  {t(workPermitLabels[v])}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("person.address")} error={fieldError(error, "address")}>
          {(a) => <textarea {...a} name="address" rows={2} maxLength={500} defaultValue={p?.address ?? ""} />}
        </Field>
      </div>
      <div className="checkbox">
        <input type="checkbox" id="asylum_claimed" name="asylum_claimed" defaultChecked={p?.asylum_claimed ?? false} />
        <label htmlFor="asylum_claimed">{t("person.asylumLabel")}</label>
      </div>
    </>
  );
}

export function NewPerson() {
  const { caseId = "" } = useParams();
  const { t } = useI18n();
  useTitle(t("persons.add"));
  const navigate = useNavigate();
  const qc = useQueryClient();
  const create = useMutation({
    // One request records the person and links them to the case.
    mutationFn: (body: NewPersonBody) =>
      unwrap(api.POST("/api/v1/persons", { body: { ...body, case_id: caseId, role: "detainee" } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["case", caseId] });
      navigate(`/cases/${caseId}`);
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    create.mutate(read(e.currentTarget));
  };
  return (
    <>
      <h1>{t("persons.add")}</h1>
      <form className="stack" onSubmit={submit} noValidate>
        <PersonFields error={create.error} />
        {create.isError && <ErrorMessage error={create.error} />}
        <div className="btn-row">
          <button type="submit" className="btn" disabled={create.isPending}>
            {t("persons.save")}
          </button>
          <Link to={`/cases/${caseId}`}>{t("common.cancel")}</Link>
        </div>
      </form>
    </>
  );
}

export function usePerson(id: string) {
  return useQuery({
    queryKey: ["person", id],
    queryFn: () => unwrapWithETag(api.GET("/api/v1/persons/{id}", { params: { path: { id } } })),
  });
}

export function EditPerson() {
  const { personId = "" } = useParams();
  const { t } = useI18n();
  useTitle(t("person.edit"));
  const q = usePerson(personId);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: ({ body, etag }: { body: PatchBody; etag: string }) =>
      unwrap(api.PATCH("/api/v1/persons/{id}", { params: { path: { id: personId }, header: { "If-Match": etag } }, body })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["person", personId] });
      navigate(`/persons/${personId}`);
    },
  });
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  const p = asFullPerson(q.data.data);
  const etag = q.data.etag;
  if (!p) return <Navigate to={`/consular/nationals/${personId}`} replace />;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    save.mutate({ body: read(e.currentTarget), etag });
  };
  const reload = () => {
    save.reset();
    void q.refetch();
  };
  return (
    <>
      <h1>{t("person.edit")}</h1>
      <form className="stack" onSubmit={submit} noValidate key={etag}>
        <PersonFields p={p} error={save.error} />
        {save.isError && <ErrorMessage error={save.error} onReload={reload} />}
        <div className="btn-row">
          <button type="submit" className="btn" disabled={save.isPending}>
            {t("common.save")}
          </button>
          <Link to={`/persons/${personId}`}>{t("common.cancel")}</Link>
        </div>
      </form>
    </>
  );
}
