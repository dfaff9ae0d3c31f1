// Shares of a case (supervisors of the owner agency): who the case is open
// to, at which level and ceiling, for what and until when; share and revoke.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import type { BodyOf, ResponseOf } from "../api/types";
import { useSession } from "../app/session";
import { ConfirmBox } from "../components/ConfirmBox";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { classificationLabels, labelOf, valuesOf, type Classification } from "../i18n/enums";
import { useI18n, type MessageKey } from "../i18n/i18n";
import { useAgencyName } from "../components/agencyName";

type Share = ResponseOf<"/api/v1/cases/{id}/shares", "get">["items"][number];
type NewShare = BodyOf<"/api/v1/cases/{id}/shares", "post">;
type Level = NewShare["level"];

const levelLabels = {
  summary: "share.level.summary",
  full: "share.level.full",
} as const satisfies Record<Level, MessageKey>;

export function useAgencies() {
  return useQuery({
    queryKey: ["agencies"],
    staleTime: 10 * 60_000,
    queryFn: () => unwrap(api.GET("/api/v1/agencies")),
  });
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function CaseShares({ caseId }: { caseId: string }) {
  const { t, date } = useI18n();
  const agencyName = useAgencyName();
  const { me } = useSession();
  const qc = useQueryClient();
  const shares = useQuery({
    queryKey: ["case", caseId, "shares"],
    queryFn: () => unwrap(api.GET("/api/v1/cases/{id}/shares", { params: { path: { id: caseId } } })),
  });
  const agencies = useAgencies();
  const [level, setLevel] = useState<Level>("full");
  const create = useMutation({
    mutationFn: (body: NewShare) =>
      unwrap(api.POST("/api/v1/cases/{id}/shares", { params: { path: { id: caseId } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["case", caseId, "shares"] }),
  });
  const revoke = useMutation({
    mutationFn: (shareId: string) =>
      unwrap(api.DELETE("/api/v1/cases/{id}/shares/{share_id}", { params: { path: { id: caseId, share_id: shareId } } })),
    onSuccess: () => {
      // "The case is now shared." is no longer true: drop it.
      create.reset();
      setConfirming(null);
      void qc.invalidateQueries({ queryKey: ["case", caseId, "shares"] });
    },
  });
  const [confirming, setConfirming] = useState<Share | null>(null);

  const today = new Date();
  const maxExpiry = new Date(today.getTime() + 365 * 86_400_000);
  const defaultExpiry = new Date(today.getTime() + 90 * 86_400_000);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const expiry = String(f.get("expires_on") ?? "");
    const body: NewShare = {
      agency_id: String(f.get("agency_id") ?? ""),
      level,
      ceiling: String(f.get("ceiling") ?? "restricted") as Classification,
      purpose: String(f.get("purpose") ?? "").trim(),
      expires_at: expiry ? new Date(`${expiry}T23:59:59Z`).toISOString() : "",
    };
    create.mutate(body, { onSuccess: () => (e.target as HTMLFormElement).reset() });
  };

  const others = (agencies.data?.items ?? []).filter((a) => a.id !== me.agency.id);
  const err = create.error;
  return (
    <section aria-labelledby="shares-h">
      <h2 id="shares-h">{t("share.heading")}</h2>
      {shares.isPending && <p className="spinner">{t("common.loading")}</p>}
      {shares.isError && <ErrorMessage error={shares.error} />}
      {shares.isSuccess &&
        (shares.data.items.length === 0 ? (
          <p className="muted">{t("share.none")}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t("share.heading")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("share.agency")}</th>
                  <th scope="col">{t("share.level")}</th>
                  <th scope="col">{t("share.ceiling")}</th>
                  <th scope="col">{t("share.purpose")}</th>
                  <th scope="col">{t("share.expires")}</th>
                  <th scope="col">{t("share.state")}</th>
                </tr>
              </thead>
              <tbody>
                {shares.data.items.map((s: Share) => (
                  <tr key={s.id}>
                    <td>{agencyName(s.agency)}</td>
                    <td>{labelOf(t, levelLabels, s.level)}</td>
                    <td>{labelOf(t, classificationLabels, s.ceiling)}</td>
                    <td>{s.purpose}</td>
                    <td>{date(s.expires_at)}</td>
                    <td>
                      {s.revoked_at ? (
                        t("share.revoked")
                      ) : (
                        <button
                          type="button"
                          className="btn secondary"
                          disabled={revoke.isPending}
                          onClick={() => setConfirming(s)}
                        >
                          {t("share.revoke")}
                          <span className="visually-hidden">: {agencyName(s.agency)}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {confirming && (
        <ConfirmBox
          title={t("share.revokeConfirm.title", { agency: agencyName(confirming.agency) })}
          body={t("share.revokeConfirm.body", { agency: agencyName(confirming.agency) })}
          confirm={t("share.revokeConfirm.yes")}
          busy={revoke.isPending}
          onConfirm={() => revoke.mutate(confirming.id)}
          onCancel={() => setConfirming(null)}
        />
      )}
      {revoke.isError && <ErrorMessage error={revoke.error} />}

      <form className="stack" onSubmit={submit} aria-labelledby="share-form-h">
        <h3 id="share-form-h">{t("share.new")}</h3>
        <div className="grid2">
          <Field label={t("share.agency")} error={fieldError(err, "agency_id")}>
            {(p) => (
              <select {...p} name="agency_id" required defaultValue="">
                <option value="" disabled>
                  {t("share.chooseAgency")}
                </option>
                {others.map((a) => (
                  <option key={a.id} value={a.id}>
                    {agencyName(a)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("share.level")} error={fieldError(err, "level")}>
            {(p) => (
              <select {...p} name="level" value={level} onChange={(e) => setLevel(e.target.value as Level)}>
                {valuesOf(levelLabels).map((l) => (
                  <option key={l} value={l}>
                    {t(levelLabels[l])}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("share.ceiling")} hint={t("share.ceilingHint")} error={fieldError(err, "ceiling")}>
            {(p) => (
              <select {...p} name="ceiling" defaultValue="restricted">
                {valuesOf(classificationLabels).map((c) => (
                  <option key={c} value={c}>
                    {t(classificationLabels[c])}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("share.expires")} hint={t("share.expiresHint")} error={fieldError(err, "expires_at")}>
            {(p) => (
              <input
                {...p}
                type="date"
                name="expires_on"
                required
                min={isoDay(today)}
                max={isoDay(maxExpiry)}
                defaultValue={isoDay(defaultExpiry)}
              />
            )}
          </Field>
        </div>
        <Field label={t("share.purpose")} error={fieldError(err, "purpose")}>
          {(p) => <textarea {...p} name="purpose" required maxLength={1000} />}
        </Field>
        {create.isError && <ErrorMessage error={create.error} />}
        {create.isSuccess && (
          <p className="alert ok" role="status">
            {t("share.created")}
          </p>
        )}
        <div className="btn-row">
          <button type="submit" className="btn" disabled={create.isPending}>
            {t("share.submit")}
          </button>
        </div>
      </form>
    </section>
  );
}
