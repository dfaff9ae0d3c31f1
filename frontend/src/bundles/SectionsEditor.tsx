// Editing a bundle's sections until it is sealed: sections A, B, C… with
// titles; document versions added from the case's documents; the order
// changed by drag and drop or by the move buttons, each move announced in
// a live region for screen-reader users. The draft is saved with If-Match;
// "Build" saves first when there are unsaved changes.
import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { useEffect, useState, type DragEvent } from "react";
import { api, unwrap } from "../api/client";
import type { Document } from "../components/Documents";
import { ErrorMessage, fieldError } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { useI18n } from "../i18n/i18n";
import { bundleApi } from "./api";
import { NumberingChoice } from "./CaseBundles";
import { etagOf, sectionLabel, type Bundle, type Item, type Numbering, type PatchBundle, type Section } from "./types";

interface Draft {
  title: string;
  hearing_date: string;
  numbering: Numbering;
  sections: Section[];
}

function draftOf(b: Bundle): Draft {
  return {
    title: b.title,
    hearing_date: b.hearing_date ?? "",
    numbering: b.numbering,
    sections: (b.based_on ? b.late_additions : b.sections).map((s) => ({ ...s, items: [...s.items] })),
  };
}

/** The draft as the API takes it: labels by position, items as references. */
function bodyOf(d: Draft, late: boolean, offset: number): PatchBundle {
  const sections = d.sections.map((s, i) => ({
    label: sectionLabel(offset + i),
    title: s.title.trim(),
    items: s.items.map((it) => ({ document_id: it.document_id, version: it.version })),
  }));
  return {
    title: d.title.trim(),
    hearing_date: d.hearing_date || null,
    ...(late ? { late_additions: sections } : { numbering: d.numbering, sections }),
  };
}

/** Moves one item by a step, across section boundaries; returns the new sections and where it went. */
export function moveItem(
  sections: Section[],
  from: { s: number; i: number },
  step: -1 | 1,
): { sections: Section[]; to: { s: number; i: number } } | null {
  const next = sections.map((s) => ({ ...s, items: [...s.items] }));
  const src = next[from.s];
  if (!src) return null;
  const [item] = src.items.splice(from.i, 1);
  if (!item) return null;
  let to: { s: number; i: number };
  if (step < 0) {
    if (from.i > 0) to = { s: from.s, i: from.i - 1 };
    else if (from.s > 0) to = { s: from.s - 1, i: next[from.s - 1]?.items.length ?? 0 };
    else return null;
  } else if (from.i < src.items.length) to = { s: from.s, i: from.i + 1 };
  else if (from.s < next.length - 1) to = { s: from.s + 1, i: 0 };
  else return null;
  next[to.s]?.items.splice(to.i, 0, item);
  return { sections: next, to };
}

/** Moves one item to a place (a drop): before item `to.i` of section `to.s`, or at its end. */
export function placeItem(sections: Section[], from: { s: number; i: number }, to: { s: number; i: number }) {
  const next = sections.map((s) => ({ ...s, items: [...s.items] }));
  const [item] = next[from.s]?.items.splice(from.i, 1) ?? [];
  if (!item) return null;
  let i = to.i;
  if (from.s === to.s && from.i < to.i) i -= 1;
  const target = next[to.s];
  if (!target) return null;
  i = Math.max(0, Math.min(i, target.items.length));
  target.items.splice(i, 0, item);
  return { sections: next, to: { s: to.s, i } };
}

/** All of a case's documents that can go into a bundle (not withdrawn). */
function useCaseDocuments(caseId: string) {
  const q = useInfiniteQuery({
    queryKey: ["documents", "case", caseId],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/cases/{id}/documents", {
          params: { path: { id: caseId }, query: pageParam ? { cursor: pageParam } : {} },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = q;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const docs: Document[] = (q.data?.pages ?? []).flatMap((p) => p.items).filter((d) => !d.withdrawn);
  return { q, docs };
}

export function SectionsEditor({
  b,
  caseId,
  onSaved,
}: {
  b: Bundle;
  caseId: string;
  onSaved: (b: Bundle) => Promise<void>;
}) {
  const { t } = useI18n();
  const late = b.based_on !== null;
  // Late additions follow the sealed main part's sections: after A–C comes D.
  const offset = late ? b.sections.length : 0;
  const lab = (i: number) => sectionLabel(offset + i);
  const [draft, setDraft] = useState<Draft>(() => draftOf(b));
  const [announce, setAnnounce] = useState("");
  const [dragging, setDragging] = useState<{ s: number; i: number } | null>(null);
  const { docs } = useCaseDocuments(caseId);
  const titleOf = (it: Item) => it.title ?? docs.find((d) => d.id === it.document_id)?.title ?? it.document_id;
  const dirty = JSON.stringify(bodyOf(draft, late, offset)) !== JSON.stringify(bodyOf(draftOf(b), late, offset));
  // Save (PATCH with If-Match), and for "build" then start the build: the
  // bundle that comes back replaces the draft.
  const save = useMutation({
    mutationFn: async (andBuild: boolean) => {
      const saved = dirty ? await bundleApi.patch(b.id, etagOf(b), bodyOf(draft, late, offset)) : b;
      return andBuild ? bundleApi.build(saved.id) : saved;
    },
    onSuccess: onSaved,
  });

  const setSections = (sections: Section[]) => setDraft((d) => ({ ...d, sections }));
  const announceAt = (it: Item, to: { s: number; i: number }, sections: Section[]) => {
    const s = sections[to.s];
    setAnnounce(
      t("bundle.moved", {
        title: titleOf(it),
        section: `${lab(to.s)}${s?.title ? ` ${s.title}` : ""}`,
        pos: to.i + 1,
        count: s?.items.length ?? 0,
      }),
    );
  };
  const move = (from: { s: number; i: number }, step: -1 | 1) => {
    const it = draft.sections[from.s]?.items[from.i];
    const r = moveItem(draft.sections, from, step);
    if (!r || !it) return;
    setSections(r.sections);
    announceAt(it, r.to, r.sections);
    // Keep the keyboard on the moved item's same button.
    requestAnimationFrame(() => {
      const sel = `[data-item="${r.to.s}-${r.to.i}"] [data-move="${step < 0 ? "up" : "down"}"]`;
      const btn = document.querySelector<HTMLButtonElement>(sel);
      if (btn && !btn.disabled) btn.focus();
      else document.querySelector<HTMLButtonElement>(`[data-item="${r.to.s}-${r.to.i}"] button`)?.focus();
    });
  };
  const drop = (e: DragEvent, to: { s: number; i: number }) => {
    e.preventDefault();
    e.stopPropagation();
    if (!dragging) return;
    const it = draft.sections[dragging.s]?.items[dragging.i];
    const r = placeItem(draft.sections, dragging, to);
    setDragging(null);
    if (!r || !it) return;
    setSections(r.sections);
    announceAt(it, r.to, r.sections);
  };
  const remove = (at: { s: number; i: number }) => {
    const it = draft.sections[at.s]?.items[at.i];
    setSections(draft.sections.map((s, si) => (si === at.s ? { ...s, items: s.items.filter((_, ii) => ii !== at.i) } : s)));
    if (it) setAnnounce(t("bundle.removed", { title: titleOf(it) }));
  };
  const addSection = (title: string) =>
    setSections([...draft.sections, { label: lab(draft.sections.length), title, items: [] }]);

  const total = draft.sections.reduce((n, s) => n + s.items.length, 0);
  return (
    <div className="bundle-editor">
      <h4>{late ? t("bundle.lateAdditions") : t("bundle.sections")}</h4>
      <p className="muted">{t("bundle.reorderHint")}</p>
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="bundle-announce">
        {announce}
      </p>
      {draft.sections.length === 0 && <p className="muted">{t("bundle.noSections")}</p>}
      {draft.sections.map((s, si) => (
        <fieldset key={si} className="bundle-section" data-section={lab(si)}>
          <legend>{t("bundle.sectionN", { label: lab(si), title: s.title || "—" })}</legend>
          <Field label={t("bundle.sectionTitle", { label: lab(si) })}>
            {(p) => (
              <input
                {...p}
                value={s.title}
                maxLength={200}
                onChange={(e) =>
                  setSections(draft.sections.map((x, xi) => (xi === si ? { ...x, title: e.target.value } : x)))
                }
              />
            )}
          </Field>
          <ol
            className="bundle-items"
            aria-label={t("bundle.sectionItems", { label: lab(si) })}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => drop(e, { s: si, i: s.items.length })}
          >
            {s.items.length === 0 && <li className="muted drop-here">{t("bundle.sectionEmpty")}</li>}
            {s.items.map((it, ii) => {
              const first = si === 0 && ii === 0;
              const last = si === draft.sections.length - 1 && ii === s.items.length - 1;
              const title = titleOf(it);
              return (
                <li
                  key={`${it.document_id}-${it.version}-${ii}`}
                  data-item={`${si}-${ii}`}
                  className={dragging && dragging.s === si && dragging.i === ii ? "bundle-item dragging" : "bundle-item"}
                  draggable
                  onDragStart={(e) => {
                    e.dataTransfer.effectAllowed = "move";
                    e.dataTransfer.setData("text/plain", it.document_id);
                    setDragging({ s: si, i: ii });
                  }}
                  onDragEnd={() => setDragging(null)}
                  onDragOver={(e) => e.preventDefault()}
                  onDrop={(e) => drop(e, { s: si, i: ii })}
                >
                  <span className="drag-handle" aria-hidden="true">
                    ⠿
                  </span>{" "}
                  <span className="item-title">{title}</span>{" "}
                  <span className="muted">{t("bundle.itemVersion", { n: it.version })}</span>
                  <span className="btn-row inline">
                    <button
                      type="button"
                      className="btn secondary small"
                      data-move="up"
                      aria-label={t("bundle.itemAction", { action: t("bundle.moveUp"), title })}
                      disabled={first}
                      onClick={() => move({ s: si, i: ii }, -1)}
                    >
                      {t("bundle.moveUp")}
                    </button>
                    <button
                      type="button"
                      className="btn secondary small"
                      data-move="down"
                      aria-label={t("bundle.itemAction", { action: t("bundle.moveDown"), title })}
                      disabled={last}
                      onClick={() => move({ s: si, i: ii }, 1)}
                    >
                      {t("bundle.moveDown")}
                    </button>
                    <button
                      type="button"
                      className="btn secondary small"
                      aria-label={t("bundle.itemAction", { action: t("bundle.remove"), title })}
                      onClick={() => remove({ s: si, i: ii })}
                    >
                      {t("bundle.remove")}
                    </button>
                  </span>
                </li>
              );
            })}
          </ol>
          {s.items.length === 0 && (
            <button
              type="button"
              className="btn secondary small"
              onClick={() => setSections(draft.sections.filter((_, xi) => xi !== si))}
            >
              {t("bundle.removeSection", { label: lab(si) })}
            </button>
          )}
        </fieldset>
      ))}
      <AddSection onAdd={addSection} next={lab(draft.sections.length)} />
      {draft.sections.length > 0 && (
        <AddDocument
          docs={docs}
          sections={draft.sections}
          label={lab}
          onAdd={(si, it) => {
            setSections(draft.sections.map((s, xi) => (xi === si ? { ...s, items: [...s.items, it] } : s)));
            setAnnounce(t("bundle.added", { title: titleOf(it), label: lab(si) }));
          }}
        />
      )}

      {!late && (
        <details className="bundle-settings">
          <summary>{t("bundle.settings")}</summary>
          <div className="grid2">
            <Field label={t("bundle.title")} error={fieldError(save.error, "title")}>
              {(p) => (
                <input
                  {...p}
                  value={draft.title}
                  required
                  maxLength={300}
                  onChange={(e) => setDraft((d) => ({ ...d, title: e.target.value }))}
                />
              )}
            </Field>
            <Field label={t("bundle.hearingDate")} error={fieldError(save.error, "hearing_date")}>
              {(p) => (
                <input
                  {...p}
                  type="date"
                  value={draft.hearing_date}
                  onChange={(e) => setDraft((d) => ({ ...d, hearing_date: e.target.value }))}
                />
              )}
            </Field>
          </div>
          <NumberingChoice
            name={`numbering-${b.id}`}
            value={draft.numbering}
            onChange={(numbering) => setDraft((d) => ({ ...d, numbering }))}
          />
        </details>
      )}

      {save.isError && <ErrorMessage error={save.error} />}
      <div className="btn-row">
        {dirty && <span className="badge flag">{t("bundle.unsaved")}</span>}
        <button type="button" className="btn secondary" disabled={!dirty || save.isPending} onClick={() => save.mutate(false)}>
          {t("bundle.save")}
        </button>
        {b.can.build && (
          <button type="button" className="btn" disabled={total === 0 || save.isPending} onClick={() => save.mutate(true)}>
            {dirty ? t("bundle.saveAndBuild") : t("bundle.build")}
          </button>
        )}
      </div>
    </div>
  );
}

function AddSection({ onAdd, next }: { onAdd: (title: string) => void; next: string }) {
  const { t } = useI18n();
  const [title, setTitle] = useState("");
  return (
    <form
      className="bundle-add-section"
      aria-label={t("bundle.addSection")}
      onSubmit={(e) => {
        e.preventDefault();
        onAdd(title.trim());
        setTitle("");
      }}
    >
      <Field label={t("bundle.newSectionTitle", { label: next })}>
        {(p) => <input {...p} value={title} required maxLength={200} onChange={(e) => setTitle(e.target.value)} />}
      </Field>
      <button type="submit" className="btn secondary">
        {t("bundle.addSection")}
      </button>
    </form>
  );
}

function AddDocument({
  docs,
  sections,
  label,
  onAdd,
}: {
  docs: Document[];
  sections: Section[];
  label: (i: number) => string;
  onAdd: (section: number, it: Item) => void;
}) {
  const { t } = useI18n();
  const [docId, setDocId] = useState("");
  const [version, setVersion] = useState("");
  const [section, setSection] = useState("0");
  const doc = docs.find((d) => d.id === docId);
  const versions = doc ? Array.from({ length: doc.version }, (_, i) => doc.version - i) : [];
  if (docs.length === 0) return <p className="muted">{t("bundle.noDocuments")}</p>;
  return (
    <form
      className="stack"
      aria-label={t("bundle.addDocument")}
      onSubmit={(e) => {
        e.preventDefault();
        if (!doc) return;
        onAdd(Number(section) < sections.length ? Number(section) : 0, {
          document_id: doc.id,
          version: Number(version) || doc.version,
          title: doc.title,
          media_type: doc.media_type,
          classification: doc.classification,
          pages: null,
        });
        setDocId("");
        setVersion("");
      }}
    >
      <h5 className="h-small">{t("bundle.addDocument")}</h5>
      <div className="grid2">
        <Field label={t("bundle.document")}>
          {(p) => (
            <select
              {...p}
              value={docId}
              required
              onChange={(e) => {
                setDocId(e.target.value);
                setVersion("");
              }}
            >
              <option value="">{t("bundle.chooseDocument")}</option>
              {docs.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.title}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("doc.version")} hint={t("bundle.versionHint")}>
          {(p) => (
            <select {...p} value={version} disabled={!doc} onChange={(e) => setVersion(e.target.value)}>
              {versions.map((v, i) => (
                <option key={v} value={i === 0 ? "" : String(v)}>
                  {i === 0 ? t("bundle.currentVersion", { n: v }) : t("bundle.itemVersion", { n: v })}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("bundle.intoSection")}>
          {(p) => (
            <select {...p} value={section} onChange={(e) => setSection(e.target.value)}>
              {sections.map((s, i) => (
                <option key={i} value={String(i)}>
                  {`${label(i)}. ${s.title}`}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="btn-row">
        <button type="submit" className="btn secondary" disabled={!doc}>
          {t("bundle.add")}
        </button>
      </div>
    </form>
  );
}
