// The Bundles section of the case page: the case's court bundles with
// their states, a form for a new one, and the chosen bundle (its sections,
// build, index, seal and downloads). The chosen bundle is in the URL
// (?bundle=<id>), so the clerk's home screen links straight to it.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useSession } from "../app/session";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { labelOf, valuesOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import type { Case } from "../screens/caseTypes";
import { bundleApi, useCaseBundles } from "./api";
import { BundleView } from "./BundleView";
import { bundleStateLabels, numberingLabels, type Bundle, type Numbering } from "./types";

/**
 * Who may create a bundle (spec/ACCESS.md, Actions): an officer or
 * supervisor of the owner agency, or a clerk of the court the case is
 * before (G5). The API decides; this only avoids offering a dead button.
 */
export function useCanCreateBundle(c: Pick<Case, "owner_agency" | "court_agency" | "status">): boolean {
  const { isOwnAgency, hasRole } = useSession();
  if (isOwnAgency(c.owner_agency.id) && hasRole("officer", "supervisor")) return true;
  return (
    hasRole("clerk") &&
    isOwnAgency(c.court_agency?.id) &&
    (c.status === "before_court" || c.status === "adjudicated")
  );
}

export function CaseBundles({ c }: { c: Case }) {
  if (!useShowsBundles(c)) return null;
  return <BundlesSection c={c} />;
}

/**
 * Whether the case page has a bundles section: bundles are for the people
 * who prepare hearings — officers and supervisors of the owner agency and
 * the court's clerks — on a full grant.
 */
export function useShowsBundles(c: Case): boolean {
  const { hasRole } = useSession();
  return c.access.level === "full" && hasRole("officer", "supervisor", "clerk");
}

function BundlesSection({ c }: { c: Case }) {
  const { t, date } = useI18n();
  const q = useCaseBundles(c.id);
  const canCreate = useCanCreateBundle(c);
  const [params, setParams] = useSearchParams();
  const selected = params.get("bundle") ?? "";
  const [creating, setCreating] = useState(false);
  const select = (id: string) => {
    const next = new URLSearchParams(params);
    if (id) next.set("bundle", id);
    else next.delete("bundle");
    setParams(next, { replace: true, preventScrollReset: true });
  };
  return (
    <section aria-labelledby="bundles-h" className="bundles">
      <h2 id="bundles-h">{t("bundle.heading")}</h2>
      <p className="muted">{t("bundle.intro")}</p>
      {q.isPending && <p className="spinner">{t("common.loading")}</p>}
      {q.isError && <ErrorMessage error={q.error} />}
      {q.isSuccess &&
        (q.data.items.length === 0 ? (
          <p className="muted">{t("bundle.none")}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t("bundle.heading")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("bundle.title")}</th>
                  <th scope="col">{t("bundle.version")}</th>
                  <th scope="col">{t("bundle.stateLabel")}</th>
                  <th scope="col">{t("bundle.hearingDate")}</th>
                  <th scope="col">{t("bundle.pages")}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t("bundle.open")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((b) => (
                  <tr key={b.id} aria-current={b.id === selected ? "true" : undefined}>
                    <td>{b.title}</td>
                    <td>{t("bundle.versionN", { n: b.bundle_version })}</td>
                    <td>
                      <StateBadge b={b} />
                    </td>
                    <td>{date(b.hearing_date)}</td>
                    <td>{b.pages ?? "—"}</td>
                    <td>
                      <button
                        type="button"
                        className="btn secondary"
                        onClick={() => select(b.id === selected ? "" : b.id)}
                        aria-expanded={b.id === selected}
                        aria-label={t("bundle.itemAction", {
                          action: b.id === selected ? t("bundle.close") : t("bundle.open"),
                          title: `${b.title} ${t("bundle.versionN", { n: b.bundle_version })}`,
                        })}
                      >
                        {b.id === selected ? t("bundle.close") : t("bundle.open")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {canCreate && !creating && (
        <div className="btn-row">
          <button type="button" className="btn" onClick={() => setCreating(true)}>
            {t("bundle.new")}
          </button>
        </div>
      )}
      {creating && (
        <NewBundle
          c={c}
          onDone={(b) => {
            setCreating(false);
            if (b) select(b.id);
          }}
        />
      )}
      {selected && <BundleView key={selected} id={selected} c={c} canCreate={canCreate} onSelect={select} />}
    </section>
  );
}

export function StateBadge({ b }: { b: Pick<Bundle, "state" | "stale"> }) {
  const { t } = useI18n();
  return (
    <>
      <span className={`badge state-${b.state}`} data-state={b.state}>
        {labelOf(t, bundleStateLabels, b.state)}
      </span>
      {b.stale && b.state !== "sealed" && (
        <>
          {" "}
          <span className="badge flag">{t("bundle.stale")}</span>
        </>
      )}
    </>
  );
}

function NewBundle({ c, onDone }: { c: Case; onDone: (b: Bundle | null) => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (body: Parameters<typeof bundleApi.create>[1]) => bundleApi.create(c.id, body),
    onSuccess: async (b) => {
      qc.setQueryData(["bundle", b.id], b);
      await qc.invalidateQueries({ queryKey: ["bundles", c.id] });
      onDone(b);
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const hearing = String(f.get("hearing_date") ?? "");
    create.mutate({
      title: String(f.get("title") ?? "").trim(),
      numbering: String(f.get("numbering") ?? "consecutive") as Numbering,
      ...(hearing ? { hearing_date: hearing } : {}),
    });
  };
  return (
    <form className="stack card" aria-labelledby="new-bundle-h" onSubmit={submit}>
      <h3 id="new-bundle-h">{t("bundle.new")}</h3>
      <div className="grid2">
        <Field label={t("bundle.title")} error={fieldError(create.error, "title")}>
          {(p) => <input {...p} name="title" required maxLength={300} defaultValue={t("bundle.defaultTitle")} />}
        </Field>
        <Field label={t("bundle.hearingDate")} error={fieldError(create.error, "hearing_date")}>
          {(p) => <input {...p} type="date" name="hearing_date" defaultValue={c.hearing_date ?? ""} />}
        </Field>
      </div>
      <NumberingChoice name="numbering" defaultValue="consecutive" />
      {create.isError && <ErrorMessage error={create.error} />}
      <div className="btn-row">
        <button type="submit" className="btn" disabled={create.isPending}>
          {t("bundle.create")}
        </button>
        <button type="button" className="btn secondary" onClick={() => onDone(null)}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

/** Consecutive (1, 2, 3 … with the index included) or per section (A1, A2 … B1 …). */
export function NumberingChoice({
  name,
  defaultValue,
  value,
  onChange,
}: {
  name: string;
  defaultValue?: Numbering;
  value?: Numbering;
  onChange?: (n: Numbering) => void;
}) {
  const { t } = useI18n();
  return (
    <fieldset>
      <legend>{t("bundle.numbering")}</legend>
      {valuesOf(numberingLabels).map((n) => (
        <div className="checkbox" key={n}>
          <input
            type="radio"
            id={`${name}-${n}`}
            name={name}
            value={n}
            {...(value !== undefined
              ? { checked: value === n, onChange: () => onChange?.(n) }
              : { defaultChecked: defaultValue === n })}
          />
          <label htmlFor={`${name}-${n}`}>{t(numberingLabels[n])}</label>
        </div>
      ))}
    </fieldset>
  );
}
