// One bundle: what it is, its sections (edited until sealed), the build
// with its progress bar, a failed build's reason, the index of the built
// PDF, the seal (after a confirmation saying what it means), downloads,
// and for a sealed bundle the next version for late documents.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ConfirmBox } from "../components/ConfirmBox";
import { ErrorMessage } from "../components/ErrorMessage";
import { labelOf } from "../i18n/enums";
import { useI18n } from "../i18n/i18n";
import type { Case } from "../screens/caseTypes";
import { bundleApi, manifestUrl, pdfUrl, useBundle } from "./api";
import { StateBadge } from "./CaseBundles";
import { SectionsEditor } from "./SectionsEditor";
import { etagOf, numberingLabels, type Bundle, type Section } from "./types";

export function BundleView({
  id,
  c,
  canCreate,
  onSelect,
}: {
  id: string;
  c: Case;
  canCreate: boolean;
  onSelect: (id: string) => void;
}) {
  const { t } = useI18n();
  const q = useBundle(id);
  if (q.isPending) return <p className="spinner">{t("common.loading")}</p>;
  if (q.isError) return <ErrorMessage error={q.error} />;
  // A new version of the bundle (after a save) starts a fresh draft.
  return <BundleBody key={q.data.version} b={q.data} c={c} canCreate={canCreate} onSelect={onSelect} />;
}

function BundleBody({
  b,
  c,
  canCreate,
  onSelect,
}: {
  b: Bundle;
  c: Case;
  canCreate: boolean;
  onSelect: (id: string) => void;
}) {
  const { t, date, dateTime, number } = useI18n();
  const qc = useQueryClient();
  const [sealing, setSealing] = useState(false);
  const put = async (next: Bundle) => {
    qc.setQueryData(["bundle", next.id], next);
    await qc.invalidateQueries({ queryKey: ["bundles", b.case_id] });
    await qc.invalidateQueries({ queryKey: ["court-bundles", b.case_id] });
  };
  const build = useMutation({ mutationFn: () => bundleApi.build(b.id), onSuccess: put });
  const seal = useMutation({
    mutationFn: () => bundleApi.seal(b.id, etagOf(b)),
    onSuccess: async (next) => {
      setSealing(false);
      await put(next);
    },
  });
  const late = useMutation({
    mutationFn: () =>
      bundleApi.create(b.case_id, {
        title: b.title,
        numbering: b.numbering,
        based_on: b.id,
        ...(b.hearing_date ? { hearing_date: b.hearing_date } : {}),
      }),
    onSuccess: async (next) => {
      qc.setQueryData(["bundle", next.id], next);
      await qc.invalidateQueries({ queryKey: ["bundles", b.case_id] });
      onSelect(next.id);
    },
  });
  const sealed = b.state === "sealed";
  const building = b.state === "building";
  const hasPdf = (b.state === "built" || sealed) && b.pdf_sha256 !== null;
  const editable = b.can.edit && !sealed && !building;
  const refetch = () => void qc.invalidateQueries({ queryKey: ["bundle", b.id] });
  return (
    <article className="bundle card" aria-labelledby={`bundle-${b.id}-h`} data-testid="bundle">
      <h3 id={`bundle-${b.id}-h`}>
        {b.title} <span className="muted">{t("bundle.versionN", { n: b.bundle_version })}</span> <StateBadge b={b} />
      </h3>
      <dl className="props">
        <dt>{t("bundle.hearingDate")}</dt>
        <dd>{date(b.hearing_date)}</dd>
        <dt>{t("bundle.numbering")}</dt>
        <dd>{labelOf(t, numberingLabels, b.numbering)}</dd>
        {b.pages !== null && (
          <>
            <dt>{t("bundle.pages")}</dt>
            <dd>{number(b.pages)}</dd>
          </>
        )}
        {b.built_at && (
          <>
            <dt>{t("bundle.builtAt")}</dt>
            <dd>{dateTime(b.built_at)}</dd>
          </>
        )}
        {b.sealed_at && (
          <>
            <dt>{t("bundle.sealedAt")}</dt>
            <dd>{dateTime(b.sealed_at)}</dd>
          </>
        )}
        {sealed && b.pdf_sha256 && (
          <>
            <dt>{t("bundle.sha256")}</dt>
            <dd>
              <code className="hash">{b.pdf_sha256}</code>
            </dd>
          </>
        )}
      </dl>

      {building && <BuildProgress b={b} />}
      {b.state === "failed" && b.error && (
        <div className="alert" role="alert" data-testid="bundle-error">
          <h4>{t("bundle.failed")}</h4>
          <p>{t("bundle.failedAt", { title: b.error.title, reason: b.error.reason })}</p>
        </div>
      )}
      {b.stale && !sealed && !building && b.built_at && <p className="alert warn">{t("bundle.staleHint")}</p>}

      {b.based_on && (
        <>
          <h4>{t("bundle.mainPart")}</h4>
          <p className="muted">{t("bundle.mainPartHint")}</p>
          <IndexTable sections={b.sections} caption={t("bundle.mainPart")} />
        </>
      )}

      {editable ? (
        <SectionsEditor b={b} caseId={c.id} onSaved={put} />
      ) : (
        !hasPdf && (
          <>
            <h4>{b.based_on ? t("bundle.lateAdditions") : t("bundle.sections")}</h4>
            <IndexTable sections={b.based_on ? b.late_additions : b.sections} caption={t("bundle.sections")} />
          </>
        )
      )}
      {!editable && b.can.build && !sealed && !building && (
        <div className="btn-row">
          <button type="button" className="btn" onClick={() => build.mutate()} disabled={build.isPending}>
            {t("bundle.build")}
          </button>
        </div>
      )}
      {build.isError && <ErrorMessage error={build.error} onReload={refetch} />}

      {hasPdf && (
        <section aria-labelledby={`bundle-${b.id}-index`}>
          <h4 id={`bundle-${b.id}-index`}>{t("bundle.index")}</h4>
          <IndexTable sections={[...b.sections, ...b.late_additions]} caption={t("bundle.index")} withPages />
        </section>
      )}

      <div className="btn-row">
        {hasPdf && b.can.download && (
          <a className="btn secondary" href={pdfUrl(b.id)} download>
            {t("bundle.downloadPdf")}
          </a>
        )}
        {hasPdf && b.can.download && (
          <a className="btn secondary" href={manifestUrl(b.id)} download={`${b.case_reference}-bundle-v${b.bundle_version}-manifest.json`}>
            {t("bundle.downloadManifest")}
          </a>
        )}
        {b.state === "built" && !b.stale && b.can.seal && !sealing && (
          <button type="button" className="btn" onClick={() => setSealing(true)}>
            {t("bundle.seal")}
          </button>
        )}
        {sealed && canCreate && (
          <button type="button" className="btn" onClick={() => late.mutate()} disabled={late.isPending}>
            {t("bundle.addLate")}
          </button>
        )}
      </div>
      {hasPdf && !b.can.download && <p className="muted">{t("bundle.noDownload")}</p>}
      {sealing && (
        <ConfirmBox
          title={t("bundle.sealConfirm.title", { title: b.title })}
          body={t("bundle.sealConfirm.body")}
          confirm={t("bundle.sealConfirm.do")}
          busy={seal.isPending}
          onConfirm={() => seal.mutate()}
          onCancel={() => setSealing(false)}
        />
      )}
      {seal.isError && <ErrorMessage error={seal.error} onReload={refetch} />}
      {late.isError && <ErrorMessage error={late.error} />}
    </article>
  );
}

/** The build's progress, polled from GET /bundles/{id} while it runs. */
function BuildProgress({ b }: { b: Bundle }) {
  const { t, number } = useI18n();
  const pct = Math.max(0, Math.min(100, Math.round(b.progress.percent)));
  const label = t("bundle.building", { pct: number(pct), done: number(b.progress.done), total: number(b.progress.total) });
  return (
    <div className="field" data-testid="bundle-progress">
      <label htmlFor={`progress-${b.id}`}>{label}</label>
      <progress id={`progress-${b.id}`} max={100} value={pct} aria-valuetext={label} />
    </div>
  );
}

/** Sections and their documents; with page ranges once the bundle is built. */
function IndexTable({ sections, caption, withPages }: { sections: Section[]; caption: string; withPages?: boolean }) {
  const { t } = useI18n();
  const rows = sections.flatMap((s) => s.items.map((it, i) => ({ s, it, i })));
  if (rows.length === 0) return <p className="muted">{t("bundle.empty")}</p>;
  return (
    <div className="table-wrap">
      <table className="bundle-index">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("bundle.section")}</th>
            <th scope="col">{t("bundle.document")}</th>
            <th scope="col">{t("doc.version")}</th>
            {withPages && <th scope="col">{t("bundle.pageRange")}</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ s, it, i }) => (
            <tr key={`${s.label}-${it.document_id}-${it.version}-${i}`}>
              <td>{i === 0 ? `${s.label}. ${s.title}` : ""}</td>
              <td>{it.title ?? <span className="muted">{t("bundle.unreadable")}</span>}</td>
              <td>{it.version}</td>
              {withPages && (
                <td>
                  {it.pages
                    ? it.pages.first_label === it.pages.last_label
                      ? it.pages.first_label
                      : `${it.pages.first_label}–${it.pages.last_label}`
                    : "—"}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
