// Admin: an embassy's webhook to its own case system (docs/webhooks.md).
// Pick the embassy, set the endpoint URL (https to an allowed host), make
// or rotate the signing secret — shown once, here, and never again — and
// read the delivery log: every event sent, its attempts and their answers.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import type { ResponseOf } from "../api/types";
import { useTitle } from "../app/title";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/i18n";

type Webhook = ResponseOf<"/api/v1/agencies/{id}/webhook", "get">;

const statusLabels: Record<string, MessageKey> = {
  pending: "webhooks.status.pending",
  delivered: "webhooks.status.delivered",
  failed: "webhooks.status.failed",
  cancelled: "webhooks.status.cancelled",
};

export function Webhooks() {
  const { t } = useI18n();
  useTitle(t("webhooks.title"));
  const agencies = useQuery({
    queryKey: ["agencies"],
    queryFn: () => unwrap(api.GET("/api/v1/agencies")),
  });
  const embassies = agencies.data?.items.filter((a) => a.kind === "embassy") ?? [];
  const [chosen, setChosen] = useState<string>("");
  const agencyId = chosen || embassies[0]?.id || "";
  return (
    <>
      <h1>{t("webhooks.title")}</h1>
      <p className="muted">{t("webhooks.intro")}</p>
      {agencies.isPending && <p className="spinner">{t("common.loading")}</p>}
      {agencies.isError && <ErrorMessage error={agencies.error} />}
      {agencies.isSuccess && (
        <div className="stack">
          <Field label={t("webhooks.embassy")}>
            {(p) => (
              <select {...p} name="embassy" value={agencyId} onChange={(e) => setChosen(e.target.value)}>
                {embassies.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {agencyId && <WebhookPanel key={agencyId} agencyId={agencyId} />}
        </div>
      )}
    </>
  );
}

function WebhookPanel({ agencyId }: { agencyId: string }) {
  const { t, dateTime } = useI18n();
  const qc = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const hook = useQuery({
    queryKey: ["webhook", agencyId],
    queryFn: () => unwrap(api.GET("/api/v1/agencies/{id}/webhook", { params: { path: { id: agencyId } } })),
  });
  const save = useMutation({
    mutationFn: (body: { url: string; enabled: boolean; rotate_secret: boolean }) =>
      unwrap(api.PUT("/api/v1/agencies/{id}/webhook", { params: { path: { id: agencyId } }, body })),
    onSuccess: (w: Webhook) => {
      setSecret(w.secret ?? null);
      qc.setQueryData(["webhook", agencyId], { ...w, secret: undefined });
      void qc.invalidateQueries({ queryKey: ["webhook-deliveries", agencyId] });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setSecret(null);
    save.mutate({
      url: String(f.get("url") ?? "").trim(),
      enabled: f.get("enabled") === "on",
      rotate_secret: f.get("rotate") === "on",
    });
  };
  if (hook.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (hook.isError) return <ErrorMessage error={hook.error} />;
  const w = hook.data;
  return (
    <>
      <section aria-labelledby="webhook-h" className="stack">
        <h2 id="webhook-h">{t("webhooks.endpoint")}</h2>
        {w.configured ? (
          <dl className="props">
            <dt>{t("webhooks.url")}</dt>
            <dd>
              <code>{w.url}</code>
            </dd>
            <dt>{t("webhooks.enabled")}</dt>
            <dd>{w.enabled ? t("common.yes") : t("common.no")}</dd>
            <dt>{t("webhooks.secretHint")}</dt>
            <dd>
              <code>{w.secret_hint}</code> · {t("webhooks.secretSetAt", { when: dateTime(w.secret_set_at) })}
            </dd>
          </dl>
        ) : (
          <p className="muted">{t("webhooks.none")}</p>
        )}
        {secret && (
          <div className="alert ok" role="status">
            <p>{t("webhooks.secretOnce")}</p>
            <p>
              <code data-testid="webhook-secret">{secret}</code>
            </p>
          </div>
        )}
        <form className="stack" onSubmit={submit} aria-labelledby="webhook-form-h" noValidate>
          <h3 id="webhook-form-h">{w.configured ? t("webhooks.change") : t("webhooks.set")}</h3>
          <Field label={t("webhooks.url")} hint={t("webhooks.urlHint")} error={fieldError(save.error, "url")}>
            {(p) => <input {...p} name="url" type="url" required maxLength={2000} defaultValue={w.url ?? ""} />}
          </Field>
          <label className="checkbox">
            <input type="checkbox" name="enabled" defaultChecked={w.configured ? w.enabled : true} />{" "}
            {t("webhooks.enabled")}
          </label>
          {w.configured && (
            <label className="checkbox">
              <input type="checkbox" name="rotate" /> {t("webhooks.rotate")}
            </label>
          )}
          {save.isError && !fieldError(save.error, "url") && <ErrorMessage error={save.error} />}
          {save.isSuccess && (
            <p className="alert ok" role="status">
              {t("webhooks.saved")}
            </p>
          )}
          <div className="btn-row">
            <button type="submit" className="btn" disabled={save.isPending}>
              {t("webhooks.save")}
            </button>
          </div>
        </form>
      </section>
      {w.configured && <DeliveryLog agencyId={agencyId} />}
    </>
  );
}

function DeliveryLog({ agencyId }: { agencyId: string }) {
  const { t, dateTime } = useI18n();
  const log = useQuery({
    queryKey: ["webhook-deliveries", agencyId],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/agencies/{id}/webhook/deliveries", {
          params: { path: { id: agencyId }, query: { limit: 50 } },
        }),
      ),
    refetchInterval: 5000,
  });
  return (
    <section aria-labelledby="deliveries-h" className="stack">
      <h2 id="deliveries-h">{t("webhooks.deliveries")}</h2>
      <div className="btn-row">
        <button type="button" className="btn secondary" onClick={() => void log.refetch()}>
          {t("webhooks.refresh")}
        </button>
      </div>
      {log.isPending && <p className="spinner">{t("common.loading")}</p>}
      {log.isError && <ErrorMessage error={log.error} />}
      {log.isSuccess &&
        (log.data.items.length === 0 ? (
          <p className="muted">{t("webhooks.noDeliveries")}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t("webhooks.deliveries")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("webhooks.created")}</th>
                  <th scope="col">{t("webhooks.event")}</th>
                  <th scope="col">{t("webhooks.status")}</th>
                  <th scope="col">{t("webhooks.attempts")}</th>
                  <th scope="col">{t("webhooks.lastAnswer")}</th>
                </tr>
              </thead>
              <tbody>
                {log.data.items.map((d) => (
                  <tr key={d.id}>
                    <td>{dateTime(d.created_at)}</td>
                    <td>
                      <code>{d.event_type}</code>
                    </td>
                    <td>{t(statusLabels[d.status] ?? "webhooks.status.pending")}</td>
                    <td>{d.attempts}</td>
                    <td>
                      {d.last_status_code ?? "—"}
                      {d.last_error ? ` · ${d.last_error}` : ""}
                      {d.last_attempt_at ? ` · ${dateTime(d.last_attempt_at)}` : ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
